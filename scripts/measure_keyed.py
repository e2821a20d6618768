"""How often the number a call holds is the one the conversation writes right after the property's
name ("acceleration of 9.8"), the pattern of runtime/keyed.py (its docstring quotes this script).

Reads every number value of the calls in the training split (glaive en, Seal-Tools, SGD), against
the user messages before the call. Run: python scripts/measure_keyed.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import call_values, run

from edgeagent.runtime.keyed import keyed_pattern


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, said, call, key, value in call_values(records):
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


if __name__ == "__main__":
    run(__doc__, measure, 'print the values the pattern misses')
