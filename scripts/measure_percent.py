"""How the tool-calling records of ../shared/data write a value the request gives as a percentage:
as written (5 for "5%") or as a fraction (0.05), against what the property's description asks
(runtime/percent.py; its docstring quotes this script's numbers).

Reads every call value that is a number written in the user messages before the call with "%" or
"percent". Run: python scripts/measure_percent.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

from edgeagent.data.records import load
from edgeagent.runtime.percent import PERCENT, asks_fraction


def measure(records) -> Counter:
    c = Counter()
    for rec in records:
        props = {t["function"]["name"]: t["function"].get("parameters", {}).get("properties") or {}
                 for t in rec.get("tools") or []}
        said = []
        for m in rec["messages"]:
            if m.get("role") == "user" and isinstance(m.get("content"), str):
                said += [float(x) for x in PERCENT.findall(m["content"])]
            for call in m.get("tool_calls") or []:
                args = call["function"]["arguments"]
                args = json.loads(args) if isinstance(args, str) else args
                for key, value in args.items():
                    if isinstance(value, bool) or not isinstance(value, (int, float)):
                        continue
                    held = "as written" if value in said else "fraction" if any(
                        abs(value * 100 - p) < 1e-9 for p in said) else None
                    if held:
                        asks = asks_fraction(props.get(call["function"]["name"], {}).get(key))
                        c[(held, "asks a fraction" if asks else "asks nothing")] += 1
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="the data folder (default: ../shared/data, as train finds it)")
    a = ap.parse_args()
    c = measure(load(a.data, datasets=["glaive_en", "glaive_zh", "sealtools"]).all())
    for (held, asks), n in sorted(c.items()):
        print(f"value held {held:10s}  description {asks:15s}  {n}")


if __name__ == "__main__":
    main()
