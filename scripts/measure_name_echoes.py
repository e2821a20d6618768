"""How often a string value that the request writes next to its property's lower-case name word
leaves that word out: what SpanRules.name_echoes (runtime/fill.py drop_name_words) assumes when it
drops the word from a copied value's edges ("Chinese cuisine" for `cuisine` -> "Chinese").

Reads every string value of the calls in the training split (glaive en, Seal-Tools, SGD) that the
user messages before the call write word for word. "Leaves it out": the request writes the value
right before or after the name word ("Chinese cuisine", "dataset mnist"), and the value does not
hold it; had the copy taken the word, the rule gives the value back. "Holds it": the value itself
starts or ends with the name word ("national database" for `database`); the rule would cut it.
Run: python scripts/measure_name_echoes.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

import re
from collections import Counter

from measure_common import call_values, run

from edgeagent.runtime.fill import drop_name_words
from edgeagent.runtime.keyed import key_words


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, said, call, key, value in call_values(records):
        words = [w for w in key_words("/" + key) if len(w) >= 3]
        if not isinstance(value, str) or not value.strip() or not words or value not in said:
            continue
        source = rec["meta"]["dataset"]
        if drop_name_words(value, words) != value:
            c[source, "holds it (the rule would be wrong)"] += 1
            if show:
                print(f"  {rec['id']} {key}={value!r}")
            continue
        name = "(?:" + "|".join(map(re.escape, words)) + ")s?"
        v = re.escape(value)
        if re.search(rf"(?<!\w){v}\s+{name}(?!\w)|(?<!\w){name}\s+{v}(?!\w)", said):
            c[source, "written next to it, leaves it out"] += 1
    return c


if __name__ == "__main__":
    run(__doc__, measure, 'print the values the rule would cut')
