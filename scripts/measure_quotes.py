"""How often a string value the calls copy from a quotation is the whole quotation: what
SpanRules.whole_quotes (runtime/fill.py quote_run) assumes when it widens a copied value that starts
a quotation to the quotation's end.

Reads every string value of the calls in the training split (glaive en, Seal-Tools, SGD) that the
user messages before the call write word for word, at its last place there, right after an opening
quote, and asks whether quote_run would widen it (then the rule would be wrong).
Run: python scripts/measure_quotes.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import call_values, run

from edgeagent.runtime.fill import QUOTES, quote_run


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, said, _, _, value in call_values(records):
        if not isinstance(value, str) or not value.strip() or value.strip() != value:
            continue
        at = said.rfind(value)
        if at < 1 or said[at - 1] not in QUOTES:
            continue
        source = rec["meta"]["dataset"]
        first, last = quote_run(list(said), at, at + len(value) - 1)   # one token a character
        if first == at and last == at + len(value) - 1 and said[at + len(value):][:1] not in QUOTES:
            continue                                   # no quotation the rule reads (an apostrophe, no close)
        c[source, "values that start a quotation"] += 1
        if (first, last) != (at, at + len(value) - 1):
            c[source, "widened (the rule would be wrong)"] += 1
            if show:
                print(f"  {rec['id']} {value!r} -> {said[first:last + 1]!r}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, 'print the values the rule would widen')
