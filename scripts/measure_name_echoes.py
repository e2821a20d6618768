"""How often a string value that the request writes next to its property's lower-case name word
leaves that word out: what SpanRules.name_echoes (runtime/fill.py drop_name_words) assumes when it
drops the word from a copied value's edges ("Chinese cuisine" for `cuisine` -> "Chinese"); and the
same for the function's name words (SpanRules.function_echoes: "news on Bitcoin" for get_news).

Reads every string value of the calls in the training split (glaive en, Seal-Tools, SGD) that the
user messages before the call write word for word. "Leaves it out": the request writes the value
right before or after the name word ("Chinese cuisine", "dataset mnist"), and the value does not
hold it; had the copy taken the word, the rule gives the value back. "Holds it": the value itself
starts or ends with the name word ("national database" for `database`); the rule would cut it.
Each count is given for the property's words and for the function's words. "Nothing else": the
value is only name words, the property's and the function's together ("building" for
`building_name`), which SpanRules.bare_echoes decodes again (fill.py only_name_words). "Right
before it": of the values written right before the name word, those that are the words before it
as fill.py words_before reads them (a run of capitalized words, or one lower-case word that is no
function word, or a whole number), the value bare_echoes takes for a span of nothing but the name
word, and those it reads as other words, where it would be wrong (where it reads none, the rule
falls back on the head's next best start).
Run: python scripts/measure_name_echoes.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

import re
from collections import Counter

from measure_common import call_values, run

from edgeagent.runtime.fill import drop_name_words, function_words, only_name_words, words_before
from edgeagent.runtime.keyed import key_words


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, said, call, key, value in call_values(records):
        if not isinstance(value, str) or not value.strip() or value not in said:
            continue
        source = rec["meta"]["dataset"]
        if only_name_words(value, key_words("/" + key) + function_words(call["function"]["name"])):
            c["both", source, "nothing else (bare_echoes would be wrong)"] += 1
            if show:
                print(f"  {rec['id']} {call['function']['name']} {key}={value!r} (nothing else)")
        for whose, words in (("property", key_words("/" + key)),
                             ("function", function_words(call["function"]["name"]))):
            words = [w for w in words if len(w) >= 3]
            if not words:
                continue
            if drop_name_words(value, words) != value:
                c[whose, source, "holds it (the rule would be wrong)"] += 1
                if show:
                    print(f"  {rec['id']} {call['function']['name']} {key}={value!r}")
                continue
            name = "(?:" + "|".join(map(re.escape, words)) + ")s?"
            v = re.escape(value)
            if re.search(rf"(?<!\w){v}\s+{name}(?!\w)|(?<!\w){name}\s+{v}(?!\w)", said):
                c[whose, source, "written next to it, leaves it out"] += 1
            if (m := re.search(rf"(?<!\w){v} ({name})(?!\w)", said)) is not None:
                c[whose, source, "written right before it"] += 1
                got = words_before(said, m.start(1))
                c[whose, source, "... the words before it read as the value"] += got == (m.start(), m.start(1) - 1)
                c[whose, source, "... read as other words (wrong)"] += got not in (None, (m.start(), m.start(1) - 1))
    return c


if __name__ == "__main__":
    run(__doc__, measure, 'print the values the rule would cut')
