"""Values a request writes again after the same key words (SpanRules.keyed_frames; stdlib only).

"What is the status of case number XY1234 in Los Angeles County Court, and case number GH5678 in
Orange County Court?" The call copied XY1234, written right after "case number"; the request writes
"case number" again with another value after it, GH5678, which no call holds. That is a second
frame of the same call: where the another-call head says "end", one more call of the function is
made that copies nothing from the first frame ("XY1234 in Los Angeles County Court, and case"),
and it is kept only where it holds a new value.

    key_before   the words right before a value's place in the request, up to and with the nearest
                 word of four or more letters that is no function word ("case number", "the county
                 of"), at most three words; None where a number, a quote or a line comes first
    holds_new    whether a call holds one of a frame's new values: the call made for it stays only then
    next_frame   for a call's values: the first place after them where one value's key words come
                 again with another value after them (a number for a number, else a quoted string,
                 a run of capitalized words or a code with digits) that no call of the turn holds;
                 the further call is walled off the earlier frame where the two frames write as many
                 values (parallel clauses), else off the old values' places only
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .owed import WRITTEN_NUMBER, held_numbers

_FUNCTION = {"the", "a", "an", "of", "for", "in", "on", "at", "to", "from", "by", "with", "and", "or", "is", "are",
             "was", "were", "be", "its", "his", "her", "their", "my", "our", "your", "this", "that", "these",
             "those", "then", "also", "same", "about", "into", "over", "under", "named", "called", "like",
             "what", "which", "who", "how", "when", "where", "much", "many", "some", "any", "each", "both",
             "than", "as", "it", "me", "i", "you", "we", "they", "can", "could", "would", "should", "will",
             "please", "find", "get", "give", "show", "tell", "want", "need", "have", "has", "had", "does",
             "do", "did"}
_GAP = re.compile(r"[\s:=(]*")
_STRING = re.compile(r"""(["'\u201c\u2018])([^"'\u201c\u201d\u2018\u2019\n]{1,80})["'\u201d\u2019]"""
                     r"""|([A-Z][\w&-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w&-]*)*)|([A-Za-z]*\d[\w-]*)""")


@dataclass(frozen=True)
class Frame:
    start: int               # where the new frame's first key words start in the request
    walls: tuple             # ((start, end), ...): what the further call copies nothing from
    values: tuple            # the new values the keys write


def key_before(text: str, at: int) -> tuple[int, tuple[str, ...]] | None:
    """(where the key words start, the key words in lower case) right before ``text[at]`` (spaces,
    quote marks, "(", ":" or "=" may stand between); None where no word of four or more letters that
    is no function word comes within three words, or a number or a line break comes first."""
    words, end = [], at
    head = text[:at]
    while len(words) < 3:
        gap = re.search(r"[\s\"'\u201c\u2018(:=]*$", head[:end])
        m = re.search(r"[A-Za-z]+$", head[:gap.start()])
        if not m or "\n" in gap.group(0):
            return None
        words.insert(0, m.group(0).lower())
        end = m.start()
        if len(m.group(0)) >= 4 and words[0] not in _FUNCTION:
            return end, tuple(words)
    return None


def _places(text: str, value) -> list[tuple[int, int]]:
    """(start, end) of each place ``text`` writes a call's top-level ``value``: a number as a number,
    a string of two or more characters as itself (any case), whole words."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [m.span() for m in WRITTEN_NUMBER.finditer(text) if float(m.group(0).replace(",", "")) == float(value)]
    if isinstance(value, str) and len(value.strip()) >= 2:
        v = re.escape(value.strip())
        return [m.span() for m in re.finditer(rf"(?<!\w){v}(?!\w)", text, re.IGNORECASE)]
    return []


def _value_after(text: str, at: int, number: bool):
    """The value written right at ``at`` (quotes and spaces skipped): a number where ``number``,
    else a quoted string, a run of capitalized words or a code with digits; None if none."""
    at = _GAP.match(text, at).end()
    if number:
        m = WRITTEN_NUMBER.match(text, at)
        return float(m.group(0).replace(",", "")) if m else None
    m = _STRING.match(text, at)
    if not m:
        return None
    value = (m.group(2) or m.group(3) or m.group(4) or "").strip()
    return value if re.search(r"\w", value) else None


def _held(value, calls: list[dict]) -> bool:
    if isinstance(value, float):
        return value in held_numbers(list(calls))
    said = value.lower()
    return any(isinstance(v, str) and v.strip().lower() == said for args in calls for v in args.values())


def next_frame(text: str, args: dict, calls: list[dict], since: int = 0) -> Frame | None:
    """The next frame of ``args`` (the latest call's arguments) in request ``text``: each of its values
    whose key words (key_before, at its first place from ``since`` on) come again later with another
    value after them that none of ``calls`` (the turn's calls' arguments) holds. The frame starts at
    the earliest such key, and its values are the new ones. Its walls are the old frame, from its
    first such key to the new one, where the new frame (up to the key's next time, or the end) writes
    as many values (value_count) as the old one, as parallel clauses do ("case number XY1234 in Los
    Angeles County Court, and case number GH5678 in Orange County Court"); else only the old values'
    places ("sample size of 50 and sample mean of 25? And the same for a sample size of 150"). None
    where there is none."""
    found = []                                         # (old key, where it comes again, next time, old place, new)
    for value in args.values():
        places = [p for p in _places(text, value) if p[0] >= since]
        key = key_before(text, places[0][0]) if places else None
        if key is None:
            continue
        start, end = places[0]
        pattern = re.compile(r"(?<![A-Za-z])" + r"\W+".join(re.escape(w) for w in key[1]) + r"(?![A-Za-z])",
                             re.IGNORECASE)
        for m in pattern.finditer(text, end):
            new = _value_after(text, m.end(), isinstance(value, (int, float)))
            if new is not None and not _held(new, calls + [args]):
                later = pattern.search(text, m.end())
                found.append((key[0], m.start(), later.start() if later else len(text), (start, end), new))
                break
    if not found:
        return None
    old, at = min(f[0] for f in found), min(f[1] for f in found)
    upto = min(f[2] for f in found)
    whole = value_count(text[at:upto]) >= value_count(text[old:at])
    return Frame(at, ((old, at),) if whole else tuple(f[3] for f in found), tuple(f[4] for f in found))


_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)$")


def value_count(text: str) -> int:
    """How many values ``text`` writes: numbers, quoted strings, runs of capitalized words (not a
    sentence's first word alone) and codes with digits."""
    n, at = 0, 0
    while at < len(text):
        m = WRITTEN_NUMBER.match(text, at) or _STRING.match(text, at)
        lone_first = m is not None and m.group(0)[:1].isupper() and " " not in m.group(0) \
            and _SENTENCE_START.search(text[:at]) is not None
        if m and m.end() > at and not lone_first and (at == 0 or not text[at - 1].isalnum()):
            n += 1
            at = m.end()
        else:
            at += 1
    return n


def holds_new(args: dict, frame: Frame) -> bool:
    """Whether a call (argument dict) holds one of ``frame``'s new values."""
    return any(_held(value, [args]) for value in frame.values)
