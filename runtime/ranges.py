"""Ranges the request writes, in the order it writes them (SpanRules.range_order; stdlib only).

"between 2012 and 2015" for `from_year` and `to_year`, "from 1871 to 1945" for `start_year` and
`end_year`: the slot filler copies both numbers but often swaps them, or copies one twice ("from
x = -2 to x = 3": start_x 3, end_x 3). A pair of properties of one call whose names differ only in
a start word and an end word (start/end, from/to, min/max, origin/destination, ...: range_pairs)
takes the range's first value for the start and its second for the end, where the latest user
message writes "from A to B" or "between A and B" (also "A through B", "A-B" after "from") and the
call holds exactly A and B swapped, or, for numbers, one of them twice. A request that writes the
same two values in both orders ("from A to B and back from B to A") keeps the call as it is.

Measured on the training split of ../shared/data (glaive en, Seal-Tools, SGD; every call whose tool
has such a pair holding two values; the latest user message before it; scripts/measure_ranges.py):
the message writes 70 of those pairs as a range, 68 in the call's order and 2 the other way round
(SGD, "from San Diego to Sacramento" for a trip from Sacramento). Run on the calls as written, the
rule changes those 2; with each pair's values swapped, it puts back all 68; with one of a number
pair's values in both places, 4 of 4.
"""

from __future__ import annotations

import re

from edgeagent.runtime.keyed import DIGITS, key_words

START_WORDS = frozenset(("start", "from", "begin", "beginning", "min", "minimum", "lower", "low", "first",
                         "initial", "earliest", "since", "origin", "source", "departure"))
END_WORDS = frozenset(("end", "to", "until", "max", "maximum", "upper", "high", "last", "final", "latest",
                       "destination", "target", "arrival"))
_OPENS = re.compile(r"(?<!\w)(?:from|between)\s+", re.IGNORECASE)
_LINK = re.compile(r"\s*,?\s*(?:to|and|until|till|through|thru|up\s+to)\s+|\s*[-\u2013]\s*", re.IGNORECASE)
_NUMBER_AT = re.compile(r"(?:[A-Za-z_]\w{0,15}\s*=\s*)?\$?" + DIGITS + r"(?![\d.]\d)")


def range_pairs(schema: dict) -> list[tuple[str, str]]:
    """(start property, end property) of a schema's top-level properties whose names are the same
    words but for one start word and one end word ("start_year", "end_year"; "origin", "destination");
    a property that would pair twice pairs with none."""
    props = (schema or {}).get("properties") or {}
    roles = {}
    for key in props:
        words = key_words("/" + key)
        starts, ends = [w for w in words if w in START_WORDS], [w for w in words if w in END_WORDS]
        if bool(starts) != bool(ends):
            rest = tuple(w for w in words if w not in START_WORDS and w not in END_WORDS)
            roles[key] = ("start" if starts else "end", rest)
    pairs = [(a, b) for a, (ra, wa) in roles.items() for b, (rb, wb) in roles.items()
             if ra == "start" and rb == "end" and wa == wb]
    once = lambda key: sum(key in p for p in pairs) == 1
    return [(a, b) for a, b in pairs if once(a) and once(b)]


def _written_at(request: str, at: int, value) -> int | None:
    """Where ``value`` ends when the request writes it from ``at`` on (a number as its digits, with a
    "x =" before it allowed; a string in any case, ending at a word's end); None where it does not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = _number_at(request, at)
        return number[1] if number and number[0] == float(value) else None
    if isinstance(value, str) and value.strip():
        end = at + len(value)
        if request[at:end].lower() == value.lower() and not request[end:end + 1].isalnum():
            return end
    return None


def _number_at(request: str, at: int) -> tuple[float, int] | None:
    """(the number the request writes from ``at`` on, where it ends); None where none starts there."""
    m = _NUMBER_AT.match(request, at)
    return (float(m.group(1).replace(",", "").replace("\u2212", "-")), m.end()) if m else None


def written_orders(request: str, a, b) -> set[tuple]:
    """The orders, (a, b) and/or (b, a), in which the request writes a range of the two values."""
    out = set()
    for opens in _OPENS.finditer(request or ""):
        for x, y in ((a, b), (b, a)):
            end = _written_at(request, opens.end(), x)
            link = _LINK.match(request, end) if end is not None else None
            if link and _written_at(request, link.end(), y) is not None:
                out.add((x, y))
    return out


def _number_ranges(request: str) -> list[tuple[float, float]]:
    """(first, second) of each range of two numbers the request writes ("from x = -2 to x = 3")."""
    out = []
    for opens in _OPENS.finditer(request or ""):
        x = _number_at(request, opens.end())
        link = _LINK.match(request, x[1]) if x else None
        y = _number_at(request, link.end()) if link else None
        if y is not None and x[0] != y[0]:
            out.append((x[0], y[0]))
    return out


def in_range_order(args: dict, schema: dict, request: str) -> dict:
    """``args`` with each range pair (range_pairs) in the order the request writes its range: swapped
    where the request writes it only the other way round; a number pair holding one of a written
    range's two numbers twice takes both. Unchanged where nothing applies."""
    if not isinstance(args, dict) or not request:
        return args
    out = dict(args)
    for start, end in range_pairs(schema):
        a, b = out.get(start), out.get(end)
        if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
            continue
        if a != b:
            if written_orders(request, a, b) == {(b, a)}:
                out[start], out[end] = b, a
            continue
        if isinstance(a, (int, float)):
            ranges = [r for r in _number_ranges(request) if float(a) in r]
            if len(ranges) == 1:
                first, second = ranges[0]
                cast = int if isinstance(a, int) and first.is_integer() and second.is_integer() else float
                out[start], out[end] = cast(first), cast(second)
    return out
