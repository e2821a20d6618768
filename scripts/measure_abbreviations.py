"""How often a string value that ends in an abbreviation keeps its period: what runtime/fill.py
trim_edges assumes when it leaves the period of "Washington D.C." or "Acme Inc." on a copied value.

Reads every string value of the calls in the training split (glaive en, Seal-Tools, SGD): those
that end in an abbreviation with its period (fill._ABBREVIATED), and those that end in one without
it where the user messages before the call write it with the period (there the rule is wrong).
Run: python scripts/measure_abbreviations.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import call_values, run

from edgeagent.runtime.fill import _ABBREVIATED


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, said, call, key, value in call_values(records):
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


if __name__ == "__main__":
    run(__doc__, measure, 'print the values the rule gets wrong')
