"""The parts a request numbers "first", "second", ... (SpanRules.ordinal_parts; stdlib only).

"The first triangle has a base of 12 meters and a height of 15 meters. The second triangle has a
base of 18 meters and a height of 24 meters." A request that lays its cases out as the first, the
second, ... one asks for a call of its function per case, and each call's values come from its own
part, or from the words before the first part, which the parts share. The slot filler reads the
whole request and mixes the parts ("base 12, height 24"); the another-call head ends the turn after
one call.

    ordinal_parts   the parts: for each ordinal, the character spans of the stretches it opens; a
                    stretch runs from the ordinal to the next one ("If the first object falls for
                    10 seconds and the second for 7": the stretches interleave)
    splits_values   whether a function takes the parts as two of its own properties ("the first
                    charge ... the second charge" for charge1 and charge2): then one call holds them
    others          the spans a call for part k does not copy from: the other parts' stretches
    holds_part      whether a call holds a value a part writes: the call made for it stays only then
    walls           for the turn's next call: the other parts, where the calls so far are all of its
                    function and a part is left for it (a request for several tools: the part holds
                    the function's words most, runtime/clauses.py tool_scores)

An ordinal counts where it opens a sentence or follows "the" / "a" ("The first one", "In the
second setup", "a second car", "Third, ..."), not "first-degree" or "per second", and only in
order: a "third" before any "second" starts nothing. The parts are all "First, ..." leads or all
"the first ..." cases, as the first one is ("First, compute the interference of the two devices
... the second device's power" has one part).
"""

from __future__ import annotations

import re

from .clauses import tool_scores
from .owed import holds_clause

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_MARK = re.compile(r"(?:(?<=^)|(?<=[.!?:;\n])\s*|(?<=\bthe\s)|(?<=\ba\s)|(?<=\bThe\s)|(?<=\bA\s))"
                   rf"({'|'.join(ORDINALS)}|{'|'.join(o.capitalize() for o in ORDINALS)})\b(?![-\u2010])")
_SPLIT_NAME = re.compile(rf"(?:^|_)(?:{'|'.join(ORDINALS)})(?=_|$)|[0-9]+|_[a-z]$")


def ordinal_parts(text: str) -> list[list[tuple[int, int]]]:
    """[[(start, end)] of each part's stretches] in ordinal order, where ``text`` opens a first and a
    second part; [] otherwise."""
    marks, seen, form = [], 0, None
    for m in _MARK.finditer(text):
        k = ORDINALS.index(m.group(1).lower())
        lead = text[m.end(1):m.end(1) + 1] == ","      # "First, ..." lists tasks; "the first one" cases
        if k > seen or (form is not None and lead != form):   # "the third" before any second; "First,
            continue                                          # check ..." then "the second device"
        form = lead if form is None else form
        seen = max(seen, k + 1)
        marks.append((m.start(1), k))
    if seen < 2:
        return []
    parts: list[list[tuple[int, int]]] = [[] for _ in range(seen)]
    for (start, k), (end, _) in zip(marks, marks[1:] + [(len(text), 0)]):
        parts[k].append((start, end))
    return parts


def part_text(text: str, part: list[tuple[int, int]]) -> str:
    """The words of one part (its stretches, joined by a space)."""
    return " ".join(text[a:b] for a, b in part)


def holds_part(args: dict, part: str) -> bool:
    """Whether a call (argument dict) holds a value that ``part`` (part_text) writes (owed.py
    holds_clause), a number also where written with its unit ("10cm")."""
    return holds_clause(args, part, glued=True)


def splits_values(schema: dict) -> bool:
    """Whether two top-level properties of ``schema`` differ only by a number, an ordinal or a last
    letter ("charge1" / "charge2", "first_number" / "second_number", "dataset_A" / "dataset_B"): a
    function that takes two parts' values in one call."""
    props = (schema or {}).get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return False
    bare = [_SPLIT_NAME.sub("", name.lower()) for name in props]
    return len(set(bare)) < len(bare)


def others(parts: list[list[tuple[int, int]]], k: int) -> list[tuple[int, int]]:
    """The character spans of every part but part ``k``."""
    return [span for j, part in enumerate(parts) if j != k for span in part]


def walls(text: str, parts: list[list[tuple[int, int]]], calls: list[str], name: str, schema: dict,
          tools: list[tuple[str, str, dict]]) -> list[tuple[int, int]] | None:
    """The character spans of request ``text`` that the next call, of function ``name`` (``schema``
    its parameters), does not copy from, given ``parts`` (ordinal_parts) and the names of the turn's
    ``calls`` so far; None where the parts do not apply (no part left for it, an earlier call of
    another function, a function that takes two parts' values in one call, or a part that belongs to
    another listed tool)."""
    k = len(calls)
    if k >= len(parts) or any(c != name for c in calls) or splits_values(schema):
        return None
    if len(tools) > 1:
        f = [t[0] for t in tools].index(name)
        scores = tool_scores(part_text(text, parts[k]), tools)
        if scores[f] <= 0 or scores[f] < scores.max():
            return None
    return others(parts, k)
