"""How often a string value the calls copy from the request is a whole run of capitalized words: what
SpanRules.name_runs (runtime/fill.py name_run) assumes when it widens a copied name to its run.

Reads every string value of the calls in the training split (glaive en, Seal-Tools, SGD) that the
user messages before the call write word for word, at its last place there, and asks whether
name_run would widen it; and whether name_run with "of" joining names (SpanRules.of_names) would
widen it further, where of_names would be wrong ("Art" of "the Metropolitan Museum of Art" ->
"Metropolitan Museum of Art"). Also counts the values that are names joined by "of" ("Bank of
America"), which a copy of one side leaves short.
Run: python scripts/measure_name_runs.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

import re
from collections import Counter

from measure_common import call_values, run

from edgeagent.runtime.fill import _NAME_WORD, name_run

_JOINED = re.compile(rf"{_NAME_WORD}(?: {_NAME_WORD})* of (?:the )?{_NAME_WORD}")


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, said, _, _, value in call_values(records):
        if not isinstance(value, str) or not value.strip() or value.strip() != value:
            continue
        at = said.rfind(value)
        if at < 0 or not (value[0].isupper() or value.split()[-1][0].isupper()):
            continue
        source = rec["meta"]["dataset"]
        c[source, "capitalized values written in the request"] += 1
        first, last = name_run(list(said), at, at + len(value) - 1)   # one token a character
        if (first, last) != (at, at + len(value) - 1):
            c[source, "widened (the rule would be wrong)"] += 1
            if show:
                print(f"  {rec['id']} {value!r} -> {said[first:last + 1]!r}")
        c[source, 'names joined by "of"'] += _JOINED.search(value) is not None
        across = name_run(list(said), at, at + len(value) - 1, joined=True)
        if across != (first, last):
            c[source, 'widened across "of" (of_names would be wrong)'] += 1
            if show:
                print(f"  {rec['id']} {value!r} -> {said[across[0]:across[1] + 1]!r} (across of)")
    return c


if __name__ == "__main__":
    run(__doc__, measure, 'print the values the rule would widen')
