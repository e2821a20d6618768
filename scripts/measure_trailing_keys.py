"""How often a number written right before the last word of the property's name ("book 2 rooms" for
`number_of_rooms`, "one room") is the number the call holds: what SpanRules.trailing_keys (digits;
runtime/keyed.py trailing_numbers, whose docstring quotes this script) and SpanRules.count_words
(a number word; trailing_word) assume.

Reads every number value of the calls in the training split (glaive en, Seal-Tools, SGD; SGD writes
its numbers as digit strings, "2", and they count too) that the user messages before the call do
not write after the property's name (keyed_numbers' case), and counts where the rules pick the
first number of the latest user message writing one before the name's last word: trailing_keys
where it is in digits, count_words where it is a word.
Run: python scripts/measure_trailing_keys.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

import re
from collections import Counter

from measure_common import call_values, run

from edgeagent.runtime.keyed import NUMBER, keyed_pattern, trailing_numbers, trailing_word


def _messages(said: str) -> list[tuple[int, int]]:
    """The character spans of the user messages in call_values' ``said`` ("user\\nfirst\\nuser\\n...")."""
    starts = [m.end() for m in re.finditer(r"(?m)^user\n", said)]
    return [(a, (nxt - len("user\n")) if nxt is not None else len(said))
            for a, nxt in zip(starts, starts[1:] + [None])]


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, said, call, key, value in call_values(records):
        digits = isinstance(value, str) and re.fullmatch(r"\d+(?:\.\d+)?", value) is not None
        if isinstance(value, bool) or not (digits or isinstance(value, (int, float))):
            continue
        value, kind = float(value), "digit string" if digits else "number"
        keyed = keyed_pattern("/" + key)
        if keyed is not None and keyed.search(said):
            continue
        found = trailing_numbers(said, _messages(said), "/" + key)
        word = trailing_word(said, _messages(said), "/" + key)
        source = rec["meta"]["dataset"]
        if found:
            start = found[0][0]
            number = float(re.match(NUMBER, said[start:]).group(1).replace(",", ""))
            rule = "trailing_keys"
        elif word is not None:
            start, number, rule = None, float(word), "count_words"
        else:
            continue
        right = number == value or abs(number - 100 * value) < 1e-9
        c[source, kind, rule, "picked right" if right else "picked wrong"] += 1
        if show and not right:
            where = said[max(0, start - 60):start + 30] if start is not None else said[-90:]
            print(f"  {rec['id']} {key}={value} {rule} picked {number}: ...{where!r}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print the values the rule picks wrong")
