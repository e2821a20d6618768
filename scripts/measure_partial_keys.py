"""How often a number value whose property's full name keys no number (runtime/keyed.py keyed_pattern,
nor trailing_numbers) is the first number written right after a word of the name that is its own
("a gain of $500" for `gain_loss`; partial_pattern, SpanRules.partial_keys, whose docstring quotes
this script).

Reads every number value of the calls in the training split (glaive en, Seal-Tools, SGD), against
the user messages before the call. Run: python scripts/measure_partial_keys.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

import re
from collections import Counter

from measure_common import call_values, run

from edgeagent.runtime.keyed import keyed_pattern, partial_pattern, trailing_numbers
from edgeagent.scaffold.reference import esc_ptr

_MESSAGE = re.compile(r"(?<=user\n)[^\n]*")


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, said, call, key, value in call_values(records):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        pointer = "/" + esc_ptr(key)
        full = keyed_pattern(pointer)
        if (full is not None and full.search(said)) or trailing_numbers(
                said, [m.span() for m in _MESSAGE.finditer(said)], pointer):
            continue
        c["number values their full name keys none of"] += 1
        schema = next((t["function"].get("parameters") or {} for t in rec["tools"]
                       if t["function"]["name"] == call["function"]["name"]), {})
        siblings = ["/" + esc_ptr(k) for k in schema.get("properties") or {} if k != key]
        pattern = partial_pattern(pointer, siblings)
        found = [float(m.group(1).replace(",", "").replace("\u2212", "-")) for m in pattern.finditer(said)] \
            if pattern is not None else []
        if not found:
            continue
        c["written after a word of their own"] += 1
        right = found[0] == value or abs(found[0] - 100 * value) < 1e-9
        c["the value is the first of those numbers"] += right
        if show and not right:
            print(f"  {rec['id']} {key}={value} keyed {found}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print the values the pattern names wrong")
