"""Which parts of a request a call's values come from (numpy and stdlib only).

A request that asks for several things says each one's values in its own sentence or clause:
"First, check the current price of gold in New York. Then, calculate the future value of
$100,000 at 5% for 5 years. Finally, get the revenue of hotel JJHwjnitvdD1." The slot filler
reads the whole conversation and copies "JJHwjnitvdD1" into getCommodityPrice's commodity.

The request is cut into segments (sentences, and clauses that open with "then", "also",
"additionally", "finally", ...). Each segment belongs to the listed tool whose words it holds
most, if one does (the name's words of 4+ letters count 2, the description's words no other
listed tool's description has 1, the parameter names' words 0.5, set by hand; runtime/select.py
matches words on their first four letters); a segment that holds none of any tool's words
continues the one before it. Where the segments belong to two or more tools, a call of tool f is
pointed away from the segments that belong to another tool and hold none of f's words
(``away``). A segment where f's words occur stays open, so a tool listed beside a near namesake
(getHybridInfo beside getHybridVehicleInfo) still reads its own sentence.

On the cpu recipe's training split (scripts/measure_clauses.py), of the 6,191 values that requests
for two or more tools write in so many words, the rule meets 5,794 and puts 24 only in segments it
points their call away from (those segments hold 52% of such a request's characters); of the 2,045
values of requests for one tool it meets 14, all in an open segment. On its dev split: 236 of 255
met, none pointed away. End to end it does not pay (SpanRules.other_clauses, off by default).
"""

from __future__ import annotations

import re

import numpy as np

from .select import name_words, text_words

_SENTENCE = re.compile(r"(?<=[?!;])\s+|(?<=\.)\s+(?=[A-Z\"'(\[])|\s*\n\s*")
_LEAD = re.compile(r"(?<!\band)(?<!\bor),?\s+(?=(?:and\s+)?(?:then|after that|afterwards|additionally|also|finally|"
                   r"next|lastly|furthermore|moreover|besides)\b)", re.IGNORECASE)
NAME_WEIGHT, DESC_WEIGHT, PARAM_WEIGHT = 2.0, 1.0, 0.5


def segments(text: str) -> list[tuple[int, int]]:
    """[(start, end)] character spans of ``text``'s sentences and lead-word clauses, in order."""
    cuts = {0, len(text)}
    cuts.update(m.end() for m in _SENTENCE.finditer(text))
    cuts.update(m.end() for m in _LEAD.finditer(text))
    cuts = sorted(cuts)
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if text[a:b].strip()]


def _tool_words(tools: list[tuple[str, str, dict]]) -> list[tuple[set, set, set]]:
    descs = [{w for w in text_words(desc or "") if len(w) >= 4} for _, desc, _ in tools]
    out = []
    for j, (name, _, params) in enumerate(tools):
        props = params.get("properties") if isinstance(params, dict) else None
        props = props if isinstance(props, dict) else {}
        out.append(({w for w in name_words(name) if len(w) >= 4},
                    descs[j].difference(*(d for i, d in enumerate(descs) if i != j)),
                    {w for key in props for w in name_words(key) if len(w) >= 4}))
    return out


def segment_scores(text: str, tools: list[tuple[str, str, dict]]) -> tuple[list[tuple[int, int]], np.ndarray]:
    """(segments, [S, K] how much of each listed (name, description, parameters) tool's words each
    segment holds)."""
    segs = segments(text)
    words = _tool_words(tools)
    return segs, np.array([_scores(text[a:b], words) for a, b in segs]).reshape(len(segs), len(tools))


def tool_scores(text: str, tools: list[tuple[str, str, dict]]) -> np.ndarray:
    """[K] how much of each listed (name, description, parameters) tool's words ``text`` holds."""
    return np.asarray(_scores(text, _tool_words(tools)), np.float64)


def _scores(text: str, words: list[tuple[set, set, set]]) -> list[float]:
    found = set(text_words(text))
    return [NAME_WEIGHT * len(n & found) + DESC_WEIGHT * len(d & found) + PARAM_WEIGHT * len(p & found)
            for n, d, p in words]


def away(text: str, tools: list[tuple[str, str, dict]], f: int) -> list[tuple[int, int]]:
    """The character spans of request ``text`` that a call of ``tools[f]`` should not copy from: the
    segments that belong to another tool and hold none of f's words, where the segments belong to two
    or more tools; [] where they do not."""
    if len(tools) < 2:
        return []
    segs, scores = segment_scores(text, tools)
    owner, mine = [], []
    for row in scores:
        top = row.max()
        if top > 0:
            owner.append(int(row.argmax()) if (row == top).sum() == 1 else None)
            mine.append(row[f] > 0)
        else:                                          # none of any tool's words: it goes on the last one
            owner.append(owner[-1] if owner else None)
            mine.append(mine[-1] if mine else False)
    if len({o for o in owner if o is not None}) < 2:
        return []
    return [seg for seg, o, m in zip(segs, owner, mine) if o is not None and o != f and not m]
