"""How the training split writes the values of properties named a date: what SpanRules.iso_dates
(runtime/stated.py iso_dates) assumes when it writes a copied full date ("20th May 2021") as
YYYY-MM-DD.

Reads every string value of a property whose name has the word "date" in the calls of the training
split (glaive en, Seal-Tools, SGD). Counts the ISO ones, those the request (the user messages before
the call) writes as a full date in words ("20th May 2021", "March 11, 2022"), and the values that
iso_date would rewrite: a full date in words, or an ISO date with words after it (there the rule
would be wrong).
Run: python scripts/measure_iso_dates.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import call_values, run

from edgeagent.runtime.keyed import key_words
from edgeagent.runtime.stated import ISO_DATE, RELATIVE, iso_date, stated_dates


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, said, call, key, value in call_values(records):
        if not isinstance(value, str) or "date" not in key_words("/" + key):
            continue
        source = rec["meta"]["dataset"]
        c[source, "values of a property named a date"] += 1
        if ISO_DATE.fullmatch(value):
            c[source, "  YYYY-MM-DD"] += 1
            written = {f"{y}-{m:02d}-{d:02d}" for x in stated_dates(said) if x != RELATIVE
                       for m, d, y in [x] if m and y}
            if value in written:
                c[source, "    the request writes that date in words"] += 1
        elif iso_date(value) is not None:
            c[source, "  a date iso_date rewrites (the rule is wrong)"] += 1
            if show:
                print(f"  {rec['id']} {key}={value!r}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print the values the rule would rewrite wrongly")
