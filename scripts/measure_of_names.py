"""How often a capitalized value the calls copy from the request stands next to "of" and another
name: what SpanRules.of_names (runtime/fill.py name_run, joined) assumes when it widens a copied
name across "of" ("Art" of "the Metropolitan Museum of Art" -> "Metropolitan Museum of Art").

Reads every string value of the calls in the training split (glaive en, Seal-Tools, SGD) that the
user messages before the call write word for word, at its last place there, and asks whether
name_run with "of" joining names widens it further than name_run alone: such a value is one the
rule would be wrong on. Also counts the values that are names joined by "of" ("Bank of America"),
those a copy of one side of the "of" leaves short.
Run: python scripts/measure_of_names.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

import re
from collections import Counter

from measure_common import call_values, run

from edgeagent.runtime.fill import _NAME_WORD, name_run


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    joined = re.compile(rf"{_NAME_WORD}(?: {_NAME_WORD})* of (?:the )?{_NAME_WORD}")
    for rec, said, _, _, value in call_values(records):
        if not isinstance(value, str) or not value.strip() or value.strip() != value:
            continue
        at = said.rfind(value)
        if at < 0 or not (value[0].isupper() or value.split()[-1][0].isupper()):
            continue
        source = rec["meta"]["dataset"]
        c[source, "capitalized values written in the request"] += 1
        c[source, 'names joined by "of"'] += joined.search(value) is not None
        span = (at, at + len(value) - 1)
        alone, across = name_run(list(said), *span), name_run(list(said), *span, joined=True)
        if across != alone:
            c[source, 'widened across "of" (the rule would be wrong)'] += 1
            if show:
                print(f"  {rec['id']} {value!r} -> {said[across[0]:across[1] + 1]!r}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, 'print the values the rule would widen across "of"')
