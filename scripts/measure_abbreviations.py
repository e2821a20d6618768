"""How often a string value that ends in an abbreviation keeps its period: what runtime/fill.py
trim_edges assumes when it leaves the period of "Washington D.C." or "Acme Inc." on a copied value.

Reads every string value of the calls in the training split (glaive en, Seal-Tools, SGD): those
that end in an abbreviation with its period (fill._ABBREVIATED), and those that end in one without
it where the user messages before the call write it with the period (there the rule is wrong).
Run: python scripts/measure_abbreviations.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

import argparse
from collections import Counter

from edgeagent.data.records import load
from edgeagent.data.split import split_records
from edgeagent.runtime.fill import _ABBREVIATED


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec in records:
        said = ""
        for m in rec["messages"]:
            if m.get("role") == "user" and isinstance(m.get("content"), str):
                said += "\n" + m["content"]
            for call in m.get("tool_calls") or []:
                for value in call["function"]["arguments"].values():
                    if not isinstance(value, str):
                        continue
                    source = rec["meta"]["dataset"]
                    if _ABBREVIATED.search(value):
                        c[source, "end in an abbreviation and keep its period"] += 1
                    elif _ABBREVIATED.search(value + ".") and value + "." in said:
                        c[source, "leave out its period (the rule is wrong)"] += 1
                        if show:
                            print(f"  {rec['id']} {value!r}")
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="the data folder (default: ../shared/data, as train finds it)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the values the rule gets wrong")
    a = ap.parse_args()
    train, _ = split_records(load(a.data, datasets=["glaive_en", "sealtools", "sgd"]).all())
    for (source, what), n in sorted(measure(train, a.verbose).items()):
        print(f"{source:10s} {what:44s} {n}")


if __name__ == "__main__":
    main()
