"""How often the number a call holds is the one the conversation writes right after the property's
name ("acceleration of 9.8"), the pattern of runtime/keyed.py (its docstring quotes this script).

Reads every number value of the calls in the training split (glaive en, Seal-Tools, SGD), against
the user messages before the call. Run: python scripts/measure_keyed.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

import argparse
from collections import Counter

from edgeagent.data.records import load
from edgeagent.data.split import split_records
from edgeagent.runtime.keyed import keyed_pattern


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec in records:
        said = ""
        for m in rec["messages"]:
            if m.get("role") == "user" and isinstance(m.get("content"), str):
                said += "\n" + m["content"]
            for call in m.get("tool_calls") or []:
                for key, value in call["function"]["arguments"].items():
                    if isinstance(value, bool) or not isinstance(value, (int, float)):
                        continue
                    c["number values"] += 1
                    pattern = keyed_pattern("/" + key)
                    found = [float(x.group(1).replace(",", "").replace("\u2212", "-"))
                             for x in pattern.finditer(said)] if pattern else []
                    if not found:
                        continue
                    c["written after their name"] += 1
                    # a percentage counts as written or as its fraction (SpanRules.percent_fractions)
                    hit = [x for x in found if x == value or abs(x - 100 * value) < 1e-9]
                    c["the value is one of those numbers"] += bool(hit)
                    c["the value is the first of them"] += found[0] in hit
                    if show and not hit:
                        print(f"  {rec['id']} {key}={value} keyed {found}")
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="the data folder (default: ../shared/data, as train finds it)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the values the pattern misses")
    a = ap.parse_args()
    train, _ = split_records(load(a.data, datasets=["glaive_en", "sealtools", "sgd"]).all())
    for what, n in measure(train, a.verbose).items():
        print(f"{what:36s} {n}")


if __name__ == "__main__":
    main()
