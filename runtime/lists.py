"""Lists the request writes (SpanRules.list_items, list_goes_on, list_split, alike_lists; stdlib only).

"Play Taylor Swift and Maroon 5", "the weather in Phoenix, Sonoma and Nairobi", "circles of radius 5,
10 and 15": a request that writes several values of one property in a list wants a call for each.
The slot filler copies one element; these read the others off the request's words:

    next_in_list      the element after (or, in a list closed with "and" / "or", before) the value a
                      call holds that no earlier call used: the next call's value
    list_elements     the elements a list goes on with after a first one: an array's items past
                      its item places (runtime/fill.py _continue_lists)
    split_list        a value that is itself a closed list ("Sonoma and Marshall"), which a property
                      that holds one value (holds_one_value) takes the first element of
                      (first_of_lists)

An element is a number, or words up to the next separator, "and" / "or", preposition or possessive
("Berlin and Madrid's music stores"), quotes dropped; words that open a clause ("and should be
analyzed", "and I want") end the list. A quoted value's list goes on past its closing quote where
the next element is quoted too ('"Climate Change" and "Artificial Intelligence"'). On the training
split's listed requests (scripts/measure_list_next.py) the two (possessive, quoted) together moved
next_in_list from 1,547 to 1,566 right (114 wrong either way, 28 -> 9 none), and its false calls on
one-call requests stayed 8 of 2,180.
"""

from __future__ import annotations

import json
import re

_LIST_SEP = re.compile(r"\s*(?:[,;]\s*(?:(?:and|or)\s+)?|(?:and|or)\s+)")
LIST_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?![0-9A-Za-z])")
LIST_LEAD = re.compile(r"(?:-?[0-9]+(?:\.[0-9]+)?(?![0-9A-Za-z])" + _LIST_SEP.pattern + r")+\s*$")
# a word element drops a leading preposition ("in Paris and in Rome" -> "Rome") and a lowercase
# article ("a Vegan Salad recipe": of the training split's 91,018 string values 1 opens with one,
# 3,253 are written right after one), and ends at a separator, "and" / "or", or a preposition
# ("Oslo for 2 days" -> "Oslo")
_PREPOSITION = r"(?:for|in|on|at|with|from|to|by|during|using)"
_LIST_TEXT = re.compile(rf"""(?:{_PREPOSITION}\s+)?(?:(?:a|an|the)\s+)?(["']?)([^,;.!?\n"']+?)\1"""
                        rf"""(?=\s*(?:[,;.!?\n\])]|\s(?:and|or)\s|$)|\s(?:{_PREPOSITION}|respectively)\b|'s\b)""")


# words that open a clause, a question or an elaboration, not a value: "and should be analyzed", "and
# I want", "and then", "and in which year" (no string value of the training split opens with a
# lowercase question word), "MsBjQ1lRevQ, including medical history"
_CLAUSE = re.compile(r"(?:(?:is|are|was|were|be|been|has|have|had|do|does|did|will|would|shall|should|can|could"
                     r"|may|might|must|also|then|please|we|you|he|she|it|they|let|including|especially"
                     r"|particularly|specifically|regarding|such\s+as"
                     r"|which|what|who|whom|whose|where|when|how|why)\b|I\b)")


def list_elements(text: str, kind: str, limit: int) -> list[str]:
    """The elements of the list that ``text`` goes on with, after a first element already copied:
    ", 10, 15 and 20." -> ["10", "15", "20"]; ``kind`` "number"/"integer" reads numbers, else words
    up to the next separator (quotes around an element are dropped). The element after "and" /
    "or" is the last ("Paris, Rome and Oslo, in celsius" ends at Oslo)."""
    return _list_after(text, kind, limit)[0]


def _list_after(text: str, kind: str, limit: int) -> tuple[list[str], bool]:
    """list_elements, and whether the list ends with an "and" / "or" element (a list the request
    closes, "Rome and Oslo", rather than "Paris, France")."""
    out, pos = [], 0
    while len(out) < limit:
        sep = _LIST_SEP.match(text, pos)
        if not sep:
            break
        if kind in ("number", "integer"):
            m = LIST_NUMBER.match(text, sep.end())
            value = m.group(0) if m else ""
        else:
            m = _LIST_TEXT.match(text, sep.end())
            value = m.group(2).strip() if m else ""
            if _CLAUSE.match(value):                    # "a white powder and should be analyzed": no list
                break
        if not value:
            break
        out.append(value)
        pos = m.end()
        if re.search(r"\b(?:and|or)\b", sep.group(0)):
            return out, True                            # "..., B and C": C is the last element
    return out, False


_UNIT = re.compile(r"\s+([A-Za-z]+)")
_QUOTED_NEXT = re.compile(r"""\s*(?:,\s*)?(?:(?:and|or)\s+)?["']""")
_FIRST_ELEMENT = re.compile(r"(.+?)(?=\s*[,;]|\s+(?:and|or)\s)")
_PLURAL = re.compile(r"(?<![su])s$")
_MANY = re.compile(r"\b(?:lists?|comma|separated|multiple)\b", re.IGNORECASE)


def split_list(value: str) -> list[str] | None:
    """The elements of ``value`` where it is a list closed with "and" / "or" and nothing else
    ("Phoenix, Sonoma and Nairobi" -> three; "Tokyo, Japan" and "Paris" -> None); None also where an
    element runs past four words or the value is a sentence (ends with "."). A first element of
    more words starts after its last preposition, as the others do ("What's the weather in Napa
    and Vancouver" -> Napa, Vancouver)."""
    m = _FIRST_ELEMENT.match(value)
    if not m or value.rstrip().endswith("."):
        return None
    rest, ends = _list_after(value[m.end():], "string", 8)
    if not ends or not value.rstrip().endswith(rest[-1]):
        return None
    first = m.group(1).strip()
    if len(first.split()) > 4 and (lead := re.search(rf".*\s{_PREPOSITION}\s+(\S.*)$", first)):
        first = lead.group(1)
    out = [first] + rest
    return out if all(0 < len(e.split()) <= 4 for e in out) else None


def holds_one_value(name: str, prop: dict) -> bool:
    """Whether a property holds one value, not a list written as a string (SpanRules.list_split):
    a string without an enum, the last word of its name no plural ("city"; not "skeletal_elements",
    "personalityTraits"), its description no word of lists ("comma-separated", "multiple")."""
    if not isinstance(prop, dict) or prop.get("type") != "string" or "enum" in prop:
        return False
    last = re.split(r"[_\W]+|(?<=[a-z])(?=[A-Z])", name.strip("_"))[-1].lower()
    return not _PLURAL.search(last) and not _MANY.search(str(prop.get("description", "")))


def first_of_lists(args: dict, schema: dict) -> dict:
    """SpanRules.list_split: ``args`` with each top-level value that is a list (split_list) of a
    property that holds one value (holds_one_value) cut to the list's first element."""
    return _cut_one_values(args, schema, lambda value: (items := split_list(value)) and items[0])


def _cut_one_values(args: dict, schema: dict, cut) -> dict:
    """``args`` with each top-level string of a property that holds one value (holds_one_value) as
    ``cut`` (value -> its first part, or None to keep it) leaves it."""
    props = (schema or {}).get("properties") or {}
    out = dict(args)
    for key, value in args.items():
        if isinstance(value, str) and holds_one_value(key, props.get(key)) and (part := cut(value)):
            out[key] = part
    return out


_AND = re.compile(r",?\s+and\s+")
_CLAUSE_REST = re.compile(rf"\b{_PREPOSITION}\b|(?:^|\s)[\"'\u201c\u2018]|^(?:another|then|also)\b")


def before_clause(value: str) -> str | None:
    """The words before " and " where ``value`` joins a first element of at most four words to a
    clause, words that hold a preposition, a quote or open a clause of their own (SpanRules.and_clauses):
    "AUD and USD to CAD" -> "AUD", "2022 and another flight from Tokyo to Sydney" -> "2022", "Louvre
    museum, and 'Age of Reptiles'" -> "Louvre museum"; None for a name, a list or a sentence ("Josie
    and the Pussycats", "Brandon Lee and Bruce Lee's Grave Site", "Buy milk, eggs, and bread", "Join
    our team and work on new technologies.")."""
    m = _AND.search(value)
    if m is None:
        return None
    first, rest = value[:m.start()].strip(), value[m.end():]
    if not first or len(first.split()) > 4 or value.rstrip().endswith("."):
        return None
    return first if _CLAUSE_REST.search(rest) or _CLAUSE.match(rest) else None


def before_clauses(args: dict, schema: dict) -> dict:
    """SpanRules.and_clauses: ``args`` with each top-level value of a property that holds one value
    (holds_one_value) that joins a first element to a clause (before_clause) cut to that element."""
    return _cut_one_values(args, schema, before_clause)


_SEP_BEFORE = re.compile(r"(?:,\s*(?:(?:and|or)\s+)?|\s+(?:and|or)\s+)$")
_WORD_BEFORE = re.compile(r"([\w'&.-]+)\s*$")


def _list_before(text: str, kind: str, lower: bool, limit: int = 8) -> list[str]:
    """The elements of the list that ``text`` ends in, before a next element ("in Phoenix, Sonoma and "
    -> ["Phoenix", "Sonoma"]), in order. Numbers as they are written; a word element is its
    capitalized words ("Built On Glass"; up to four), or one word where the element after it is
    lower-case ("my savings and checking" -> "savings")."""
    if kind in ("number", "integer"):
        lead = LIST_LEAD.search(text)
        return LIST_NUMBER.findall(lead.group(0))[-limit:] if lead else []
    out = []
    while len(out) < limit and (sep := _SEP_BEFORE.search(text)):
        text, words = text[:sep.start()], []
        while len(words) < (1 if lower else 4) and (w := _WORD_BEFORE.search(text)):
            word = w.group(1)
            starts = not text[:w.start()].strip() or text[:w.start()].rstrip()[-1] in ".!?"
            if (not lower and not word[:1].isupper() and not word[:1].isdigit()) or re.fullmatch(
                    _PREPOSITION + r"|and|or", word if not starts else word.lower()):
                break                                   # "in"; "In" opening a sentence; not "Built On Glass"
            words.insert(0, word)
            text = text[:w.start()]
        if not words:
            break
        out.insert(0, " ".join(words))
    return out


def next_in_list(request: str, value, used, closed: bool = False, caseless: bool = False,
                 alike: bool = False) -> object | None:
    """For a call that would repeat an earlier one: the element after ``value`` in a list the
    request writes it in, skipping the ``used`` ones ("Taylor Swift and Maroon 5" -> "Maroon 5";
    "20 minutes and 15 minutes" -> 15), typed like ``value``; then, where the list is closed with an
    "and" / "or" element, the elements before ``value`` ("Phoenix, Sonoma and Nairobi" from Nairobi
    -> Phoenix); None where there is none. ``closed``: only from a closed list ("Paris, France" is
    none). ``caseless`` (SpanRules.caseless_lists): a string value the request writes in another case
    only ("Music" for "an international music and Sports event") is found there too. ``alike``
    (SpanRules.alike_lists): where the request writes the value capitalized, an element that opens
    in lower case is no element of its list ("Manhattan, offering Thai food and a vegan menu")."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value == "":
        return None
    kind = "string" if isinstance(value, str) else "number"
    text = value if isinstance(value, str) else json.dumps(value)
    for at in _written_at(request, text, kind, caseless):
        found = _next_after(request, at, text, kind, value, used, closed, alike)
        if found is not None:
            return found
    return None


def _written_at(request: str, text: str, kind: str, caseless: bool = False) -> list[int]:
    """Where ``text`` stands in ``request`` as a whole word or number ("10" not in "$1000"), first to
    last; else its first place inside something longer; else (``caseless``, a string) where it
    stands as a whole word in another case; [] where it is not written."""
    edge = (r"(?<![\d.])", r"(?![\d]|[.,]\d)") if kind == "number" else (r"(?<!\w)", r"(?!\w)")
    whole = [m.start() for m in re.finditer(edge[0] + re.escape(text) + edge[1], request)]
    if whole:
        return whole
    at = request.find(text)
    if at >= 0 or not caseless or kind != "string":
        return [at] if at >= 0 else []
    return [m.start() for m in re.finditer(edge[0] + re.escape(text) + edge[1], request, re.IGNORECASE)]


def _next_after(request: str, at: int, text: str, kind: str, value, used, closed: bool,
                alike: bool = False) -> object | None:
    """next_in_list from the place ``at`` where the request writes ``value`` (as ``text``)."""
    # "..., Rome and Oslo": Oslo ends its list; so does "Oslo" in '"Rome" and "Oslo"'
    last = re.search(r"""\b(?:and|or)\s+$|["']\s*,?\s*(?:and|or)\s+["']$""", request[:at]) is not None
    after = request[at + len(text):]
    if at > 0 and request[at - 1] in "\"'" and after[:1] == request[at - 1] \
            and _QUOTED_NEXT.match(after, 1):            # '"Climate Change" and "AI"': past its closing quote
        after = after[1:]
    elements, ends = ([], True) if last else _list_after(after, kind, 8)
    unit = _UNIT.match(after) if kind == "number" and not elements and not last else None
    if unit:                                            # a number with its unit: drop the unit words
        rest = re.sub(rf"(?<=[0-9])\s+{re.escape(unit.group(1))}\b", "", after[unit.end():])
        elements, ends = _list_after(rest, kind, 8)
    if ends:
        elements += _list_before(request[:at], kind, lower=kind == "string" and not text[:1].isupper())
    elif closed:
        return None
    named = alike and kind == "string" and request[at:at + 1].isupper()   # the value as the request writes it
    for e in elements:
        if named and not (e[:1].isupper() or e[:1].isdigit()):
            continue                                    # "Manhattan ... and a vegan menu": no name
        v = (_capitalized(e) if text[:1].isupper() else e) if kind == "string" else json.loads(e)
        if v not in used and v != value and not (kind == "string" and _inside(v, used)):
            return v
    return None


def _inside(element: str, used) -> bool:
    """Whether ``element`` is the words of a used value or part of them ("powder" of "white powder":
    read back from "white powder and ...", one word is all of it a lower-case list can tell)."""
    pat = re.compile(r"(?<!\w)" + re.escape(element.lower()) + r"(?!\w)")
    return any(isinstance(u, str) and pat.search(u.lower()) for u in used)


_JOINS = frozenset("of the de la du von van vs vs. & a an on in for at".split())


def _capitalized(element: str) -> str:
    """A list element of names, as far as its capitalized words go ("Phoenix weather" -> "Phoenix",
    "Angels Vs White Sox is really good" -> "Angels Vs White Sox"; "Place of Worship" stays):
    lowercase joining words stay only between capitalized ones. An element that opens lowercase
    stays as it is."""
    words = element.split()
    if not words or not (words[0][:1].isupper() or words[0][:1].isdigit()):
        return element
    keep = 1
    for i in range(1, len(words)):
        w = words[i]
        if w[:1].isupper() or w[:1].isdigit():
            keep = i + 1
        elif w.lower() not in _JOINS:
            break
    return " ".join(words[:keep])
