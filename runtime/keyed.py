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
calls hold, user messages before the call; scripts/measure_keyed.py): of 523 number values, 235
are written after their name so, and 230 of those are one of the numbers written there (229 the
first of them; a percentage counts as written or as its fraction). A number may carry its unit's
letters ("a radius of 5cm", "weighs 80kg"; KEYED_NUMBER): that adds one value, the first keyed
and right ("weight lifted 53.1kg"), to the 234 / 229 / 228 read without. Names as written alone, with a
plural "s": 221, 217 and 216; the five-letter stems add 13 ("weighs 70", "weighing 51.0"), one of
them wrong ("number2" after "numbers: 43").

A number can also come right before the name's last word ("a 7 days trip", "book 2 rooms",
"a 5-year term", the word's plural "s" optional, not "5 years ago"; SpanRules.trailing_keys,
trailing_numbers), where nothing is written after the name: the latest user message that writes
one decides. Where its first such number is a word ("I just want one room" after "2 rooms"),
which a number slot cannot copy, SpanRules.count_words writes it (trailing_word). Of the training
split's values that their properties are not keyed for so (scripts/measure_trailing_keys.py),
trailing_keys picks the number 1,377 times right and 19 times wrong (glaive and Seal-Tools
numbers: 12 right, 2 wrong; SGD, whose numbers are digit strings: 1,365 and 17), count_words 1,377
times right and 21 times wrong (SGD 1,377 and 20; "No, not one ticket, I need 2 tickets").
"""

from __future__ import annotations

import re

DIGITS = r"([-\u2212]?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?)"
NUMBER = DIGITS + r"(?!\w|\.\d|,\d)"
# a keyed number may carry its unit's letters ("a radius of 5cm", "weighs 80kg"), not a word or more
# digits ("12x18", "5years")
KEYED_NUMBER = DIGITS + r"(?![\d_]|\.\d|,\d|[A-Za-z]{4,}|[A-Za-z]*\d)"
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
    return re.compile(name + link + KEYED_NUMBER, re.IGNORECASE)



def partial_pattern(pointer: str, siblings) -> re.Pattern | None:
    """SpanRules.partial_keys: the pattern of a number written right after one word of the property's
    name that is its own: of four letters or more, in no other property name of the function
    (``siblings``: their pointers) ("a gain of $500" for `gain_loss`, "an investment of $2000" not
    for `initial_investment` where `investment_return` is a sibling); group 1 is the number. None
    where the name has one word, or no word of its own."""
    words = key_words(pointer)
    if len(words) < 2:
        return None
    others = {w for p in siblings for w in key_words(p)}
    own = [w for w in words if len(w) >= 4 and w not in others]
    if not own:
        return None
    return re.compile(r"\b(?:" + "|".join(_word_forms(w) for w in own) + r")\b" + LINK + KEYED_NUMBER,
                      re.IGNORECASE)


QUOTED = r"""(?<!\w)["'\u201c\u2018]([^"'\u201c\u201d\u2018\u2019\n]{1,80})["'\u201d\u2019](?!\w)"""
_QUOTE_LINK = r"(?:\s*(?:of|is|was|=|:|as|named|called|titled|to)?\s*){0,2}"


def quoted_pattern(pointer: str) -> re.Pattern | None:
    """SpanRules.keyed_quotes: the pattern of a quoted text written right after the property's name
    ("relationship type 'DJZaRcI60Ps'", "the title is "Dune""): group 1 is the text inside the
    quotes; None where the pointer ends in an array item or a name of single letters."""
    words = key_words(pointer)
    if not words or all(len(w) < 2 for w in words):
        return None
    return re.compile(r"\b" + r"[\s_-]+".join(_word_forms(w) for w in words) + r"\b" + _QUOTE_LINK + QUOTED,
                      re.IGNORECASE)


_COUNT_WORDS = "one two three four five six seven eight nine ten eleven twelve".split()


def trailing_pattern(pointer: str) -> re.Pattern | None:
    """The pattern of a number written right before the last word of the property's name ("a 7 days
    trip" for `days`, "book 2 rooms" for `number_of_rooms`, "a 5-year term" for `term_years`): group 1
    is the number in digits, group 2 one written as a word ("three tickets"); None where the name's
    last word has fewer than three letters or the pointer ends in an array item."""
    words = key_words(pointer)
    if not words or len(words[-1]) < 3:
        return None
    last = words[-1][:-1] if words[-1].endswith("s") and len(words[-1]) > 3 else words[-1]   # "5-year" for years
    # the word itself or its plural, not a stem: "two charged bodies" counts no `charge1`
    return re.compile(r"(?:(?<![\w.])" + NUMBER + r"|\b(" + "|".join(_COUNT_WORDS) + r"))\s*-?\s*"
                      + re.escape(last) + r"s?\b(?!\s+(?:ago|back|before|earlier|from\s+now)\b)", re.IGNORECASE)


def _latest_trailing(text: str, messages: list[tuple[int, int]], pointer: str) -> list[re.Match]:
    """The trailing_pattern matches of the latest of the user ``messages`` (character spans of ``text``)
    that holds one; [] where none does."""
    pattern = trailing_pattern(pointer)
    for a, b in reversed(messages if pattern is not None else []):
        found = list(pattern.finditer(text, a, b))
        if found:
            return found
    return []


def trailing_numbers(text: str, messages: list[tuple[int, int]], pointer: str) -> list[tuple[int, int]]:
    """SpanRules.trailing_keys: the character spans of ``text`` where the numbers start that the latest
    of the user ``messages`` (character spans of ``text``) holding one writes right before the
    property's last name word (trailing_pattern); [] where that message's first such number is a word
    ("2 rooms ... I just want one room": count_words' case) or none does."""
    found = _latest_trailing(text, messages, pointer)
    return [] if not found or found[0].group(2) else [(m.start(1), m.start(1) + 1) for m in found if m.group(1)]


def trailing_word(text: str, messages: list[tuple[int, int]], pointer: str) -> int | None:
    """SpanRules.count_words: the number that the latest of the user ``messages`` holding one writes as a
    word right before the property's last name word ("I just want one room": 1); None where its first
    such number is in digits or none is written so."""
    found = _latest_trailing(text, messages, pointer)
    return _COUNT_WORDS.index(found[0].group(2).lower()) + 1 if found and found[0].group(2) else None


def count_words(args: dict, schema: dict, texts: list[str]) -> dict:
    """SpanRules.count_words: ``args`` with each top-level number or integer value whose property the
    user ``texts`` (their messages, in order) never write a number after the name of, and whose latest
    message writing one before the name's last word writes it as a word ("I just want one room"),
    as that number (trailing_word)."""
    props = (schema or {}).get("properties") if isinstance(schema, dict) else None
    if not isinstance(args, dict) or not isinstance(props, dict) or not texts:
        return args
    text, spans, at = "", [], 0
    for t in texts:
        spans.append((at, at + len(t)))
        text += t + "\n"
        at = len(text)
    out = dict(args)
    for key, value in args.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not isinstance(props.get(key), dict):
            continue
        keyed = keyed_pattern("/" + key)
        if keyed is not None and keyed.search(text):
            continue
        n = trailing_word(text, spans, "/" + key)
        out[key] = n if n is not None else value
    return out
