"""How often a string value joins a first element to a clause with "and": what SpanRules.and_clauses
(runtime/lists.py before_clause) assumes when it cuts such a copied value to its first element
("AUD and USD to CAD" for one currency -> "AUD").

Reads every string value of the calls in the training split (glaive en, Seal-Tools, SGD), whatever
its property, and counts those the rule would cut (before_clause finds a first element), and those
that hold " and " at all. A value the rule would cut is one it would be wrong on.
Run: python scripts/measure_and_clauses.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

import re
from collections import Counter

from measure_common import call_values, run

from edgeagent.runtime.lists import before_clause


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, _, call, key, value in call_values(records):
        if not isinstance(value, str) or not value.strip():
            continue
        source = rec["meta"]["dataset"]
        c[source, "string values"] += 1
        if re.search(r"\sand\s", value):
            c[source, 'hold " and "'] += 1
        if before_clause(value) is not None:
            c[source, "the rule would cut (wrong)"] += 1
            if show:
                print(f"  {rec['id']} {call['function']['name']} {key}={value!r}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print the values the rule would cut")
