"""What SpanRules.route_legs (runtime/fill.py one_leg) assumes: no string value is two capitalized
names joined by "to" ("San Francisco to Tokyo"), and where the request writes "X to Y", a property
whose name says where to (destination, to_city, end) holds Y and another property X.

Reads every string value of the calls in the training split (glaive en, Seal-Tools, SGD) and the
user messages before the call. Run: python scripts/measure_route_legs.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

import re
from collections import Counter

from measure_common import call_values, run

from edgeagent.runtime.fill import _LEGS, _NAME_RUN, _TO_WORDS
from edgeagent.runtime.keyed import key_words

_WRITTEN = re.compile(rf"(?<!\w)({_NAME_RUN}),? to ({_NAME_RUN})\b")


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, said, call, key, value in call_values(records):
        if not isinstance(value, str) or len(value) < 2:
            continue
        c["string values", "all", ""] += 1
        if _LEGS.fullmatch(value):
            c["string values", "of the form 'X to Y'", "(the rule cuts them)"] += 1
            if show:
                print(f"  {rec['id']} {key}={value!r}")
        for m in _WRITTEN.finditer(said):
            x, y = m.group(1), m.group(2)
            side = "X" if value == x or x.endswith(" " + value) else \
                "Y" if value == y or y.startswith(value + " ") else None
            if side is not None:
                to = bool(_TO_WORDS.intersection(key_words("/" + key)))
                wrong = side == ("X" if to else "Y")
                c["written as X or Y of 'X to Y'", "name says where to" if to else "another name",
                  side + (" (not the rule's side)" if wrong else "")] += 1
                break
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print the values of the form 'X to Y'")
