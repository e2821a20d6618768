"""Numbers the request writes that no call of the turn holds (SpanRules.numbers_owed; stdlib only).

"Calculate the BMI for a person who is 6 feet tall and weighs 80 kg, also for a person who is 5.6
feet and weighs 60 kg": after the first call the another-call head often says "end", and 5.6 and 60
are left over. In ../shared/data a number the user writes is nearly always some call's value: of
the 2,180 training-split first requests answered with one call (glaive, Seal-Tools, SGD), 8 leave
a written number out of it (SGD's "a song from '15"); of the 446 Seal-Tools requests answered with
calls of several functions, 222 leave one out of the first call and 18 out of all of them
(scripts/measure_owed.py). So where the head says "end" and the request still holds a number no
call holds, the turn goes on with one more call, and that call stays only if it holds one of
those numbers (or, SpanRules.owed_repeats, takes one in a repeated value's place: pay_owed).

A number is written on its own ("6", "5.6", "60,000", "-3"; not the "2" of "x2", "5m",
"2022-03-11", nor an exponent: "m^3", "x**2"), and a call holds it as a number value, as either
side of a percentage (5 or 0.05 for "5%"), or inside a string value ("3x^2 + 2" holds 3 and 2).

Clauses are owed the same way (SpanRules.clauses_owed): "Search for a Chicken Noodle Soup recipe.
Also, find one for a Vegan Salad." A clause that a lead word opens ("Also, ...", "Finally, ...",
", and then ...") asks for a call of its own: of the training split's 431 first requests with such
clauses, 427 are answered with at least one call more than they have lead clauses
(scripts/measure_clauses_owed.py). Where the head says "end" with fewer calls than that, and a lead
clause holds no value of any call of the turn, one more call is made, kept only where it holds a
value that clause writes.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"(?<!\d)-?\d+(?:,\d{3})*(?:\.\d+)?")
WRITTEN_NUMBER = re.compile(r"(?<![\w.\-/:^*])-?\d+(?:,\d{3})*(?:\.\d+)?(?![\w/:\-]|\.\d)")


def number_mentions(text: str) -> list[float]:
    """The numbers ``text`` writes on their own, each time it writes one."""
    return [float(m.group(0).replace(",", "")) for m in WRITTEN_NUMBER.finditer(text)]


def written_numbers(text: str) -> set[float]:
    """The numbers ``text`` writes on their own."""
    return set(number_mentions(text))


def held_numbers(value) -> set[float]:
    """The numbers a call value holds: a number (and its percentage reading), the numbers written
    in a string, those of a list's or an object's values."""
    if isinstance(value, bool) or value is None:
        return set()
    if isinstance(value, (int, float)):
        return {float(value), round(float(value) * 100, 9)}
    if isinstance(value, str):                         # any run of digits: "3x^2" holds 3
        return {float(x.replace(",", "")) for x in _DIGITS.findall(value)}
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return set().union(*(held_numbers(v) for v in items))


def numbers_owed(request: str, calls: list[dict]) -> set[float]:
    """The numbers ``request`` writes that none of ``calls`` (argument dicts) holds."""
    held = held_numbers(list(calls))
    return {n for n in written_numbers(request) if n not in held}


def pay_owed(args: dict, earlier: list[dict], owed: set[float], request: str) -> dict:
    """SpanRules.owed_repeats: the arguments of the call that the ``owed`` numbers asked for, where it
    holds none of them. Where the request writes as many owed numbers as the function's latest
    earlier call (``earlier``, argument dicts) holds number values, the two are read as parallel
    clauses ("1.8 m and 80 kg, also for 1.6 m and 60 kg"): each top-level number value that repeats
    the earlier call's value of the same property takes the owed number written in its place, the
    k-th owed number for the k-th of the earlier call's numbers, both in the order the request
    writes them ("filed in 2019, also ... in the year 2018": the first call took 2018, the second
    2018 again, so it takes 2019). Anything else is left as it is."""
    if not earlier or not isinstance(args, dict):
        return args
    mentions = number_mentions(request)
    order = list(dict.fromkeys(n for n in mentions if n in owed))
    before = {k: v for k, v in earlier[-1].items() if isinstance(v, (int, float)) and not isinstance(v, bool)
              and float(v) in mentions}
    if len(before) != len(order):
        return args
    ranks = sorted(before, key=lambda k: mentions.index(float(before[k])))
    out = dict(args)
    for key in ranks:
        if args.get(key) == before[key] and not isinstance(args.get(key), bool):
            n = order[ranks.index(key)]
            out[key] = int(n) if n.is_integer() else n
    return out


# SpanRules.clauses_owed: a sentence that opens with a lead word ("Also, ...", "Finally, ..."), or a
# clause after ", then" / ", and also" / " and then", asks for a call of its own
_LEAD_CLAUSE = re.compile(r"(?:(?<=[.?!]\s)|(?<=[.?!]\s\s)|(?<=\n))(?:Also|Additionally|Then|After that|Afterwards"
                          r"|Finally|Next|Lastly|Furthermore|Moreover|Besides)\b"
                          r"|,\s+(?:and\s+)?(?:then|also|additionally|finally)\b|\s+and\s+(?:then|also)\b")


def lead_clauses(text: str) -> list[str]:
    """The clauses of ``text`` that a lead word opens, each to the next one or the end: a sentence
    that opens with "Also", "Then", "Finally", ... or a clause after ", then", ", and also", " and
    then"; not the text's first words."""
    cuts = [m.start() for m in _LEAD_CLAUSE.finditer(text)]
    return [text[a:b] for a, b in zip(cuts, cuts[1:] + [len(text)]) if a > 0]


def holds_clause(args: dict, clause: str, glued: bool = False) -> bool:
    """Whether a call (argument dict) holds a value ``clause`` writes: a string of two or more
    characters, top-level or a list's item, that the clause writes in any case, or a number it
    writes (held_numbers); ``glued``: also a number written with its unit ("10cm")."""
    said = clause.lower()
    strings = [v for v in args.values() if isinstance(v, str)]
    strings += [x for v in args.values() if isinstance(v, list) for x in v if isinstance(x, str)]
    if any(len(s.strip()) >= 2 and s.strip().lower() in said for s in strings):
        return True
    written = {float(x.replace(",", "")) for x in _DIGITS.findall(clause)} if glued else written_numbers(clause)
    return not written.isdisjoint(held_numbers(list(args.values())))


def clauses_owed(request: str, calls: list[dict]) -> list[str]:
    """The lead clauses of ``request`` (lead_clauses) that none of ``calls`` (argument dicts) holds a
    value of, where the request has more lead clauses than calls after the first; [] otherwise."""
    leads = lead_clauses(request)
    if len(calls) >= 1 + len(leads):
        return []
    return [c for c in leads if not any(holds_clause(a, c) for a in calls)]
