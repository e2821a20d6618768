"""Numbers the conversation states under a property's own name (SpanRules.keyed_numbers; stdlib only).

"the initial velocity of 10 and acceleration of 9.8", "coefficients a=1, b=-3, c=2", "a rectangle
with width of 7 units and length of 10 units": the request names the property and gives its value
right after it. The slot filler's span start often lands on a neighbouring number (acceleration 10,
width 10), so the start of each number written just after the property's name, as its words
("initial_velocity", "initialVelocity": "initial velocity"; a word of more than five letters by its
first five and any ending, "weight": "weighs 80 kg"; a shorter one with a plural "s"), with at most two
linking words ("of", "is", "=", ":", "to", "at", "about", ...) and a "$" between, gets a bonus. The
head still picks among several such numbers (a merged request says "width of 7 ... width of 3"),
and SpanRules.fresh_repeats still moves a further call off the first call's. runtime/fill.py
keyed_starts finds the pattern's numbers among the context tokens.

A name of single letters ("a", "b", "x") counts only with "=" or ":" after it ("a = 3"), never as
an article ("a 3 bedroom villa"). Only the words of a user or tool message count, never the tool
listing's descriptions. A percentage counts as written ("interest rate of 5%": 5), and
SpanRules.percent_fractions writes it 0.05 where the description asks for a fraction.

Measured on the training split of ../shared/data (glaive en, Seal-Tools, SGD; the numbers the
calls hold, user messages before the call; scripts/measure_keyed.py): of 523 number values, 234
are written after their name so, and 229 of those are one of the numbers written there (228 the
first of them; a percentage counts as written or as its fraction). Names as written alone, with a
plural "s": 221, 217 and 216; the five-letter stems add 13 ("weighs 70", "weighing 51.0"), one of
them wrong ("number2" after "numbers: 43").
"""

from __future__ import annotations

import re

NUMBER = r"([-\u2212]?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?)(?!\w|\.\d|,\d)"
LINK = (r"(?:\s*(?:of|is|was|=|:|equals|equal\s+to|at|to|be|around|about|approximately|as|set\s+to)?\s*)"
        r"{0,2}\$?")
_SINGLE = r"\s*[=:]\s*"


def key_words(pointer: str) -> list[str]:
    """The lower-case words of the last property name in a JSON pointer ("/stops/0/startTime" ->
    ["start", "time"]); [] where the pointer ends in an array item."""
    last = pointer.rsplit("/", 1)[-1]
    if not last or last.isdigit():
        return []
    last = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", last)
    return [w for w in re.split(r"[_\W]+", last.lower()) if w]


def _word_forms(word: str) -> str:
    """The pattern of a name's word as the request may write it: a word of more than five letters by
    its first five and any ending ("weight": "weighs", "weighing"; "emissions": "emission"), a
    shorter one as it is or with a plural "s"."""
    return re.escape(word[:5]) + r"\w*" if len(word) > 5 else re.escape(word) + "s?"


def keyed_pattern(pointer: str) -> re.Pattern | None:
    """The pattern of a number written right after the property's name; group 1 is the number."""
    words = key_words(pointer)
    if not words:
        return None
    name = r"\b" + r"[\s_-]+".join(_word_forms(w) for w in words) + r"\b"
    link = _SINGLE if all(len(w) < 2 for w in words) else LINK
    return re.compile(name + link + NUMBER, re.IGNORECASE)

