"""Rewrites of a filled call's values from the conversation's words (SpanRules; no torch).

After the slot filler (or the trunk) has written a call's arguments, a chain of decoding rules may
rewrite values the way the conversation writes them: a generated date or head count as stated
(stated_values), a count written as a word (count_words), a date in ISO form (iso_dates), a piece of
a date written whole as that date (whole_dates), a name as the tool results spell it
(canonical_case), a percentage as the fraction a description asks for (percent_fractions), a range
in its written order (range_order), an enum member or a flag the request names (named_members,
named_choices, named_flags, named_items), a list in one value cut to its first element (list_split),
the state of a "City, State" pair as its city (city_states), and a currency as its code
(currency_codes). Each rewrite stands only where the call still validates against its schema. The
rules and their measures are documented on SpanRules (runtime/rules.py).
"""

from __future__ import annotations

import re

from edgeagent.runtime.canonical import canonical_case
from edgeagent.runtime.currency import currency_codes
from edgeagent.runtime.keyed import count_words
from edgeagent.runtime.lists import before_clauses, first_of_lists, next_in_list
from edgeagent.runtime.options import described_options
from edgeagent.runtime.percent import percent_fractions
from edgeagent.runtime.places import city_states
from edgeagent.runtime.ranges import in_range_order
from edgeagent.runtime.rules import SpanRules
from edgeagent.runtime.select import named_properties
from edgeagent.runtime.stated import iso_dates, restate, whole_dates
from edgeagent.runtime.validate import schema_violation
from edgeagent.scaffold.reference import esc_ptr


def rewrite_values(args: dict, schema: dict, rules: SpanRules, request: str, prose: list[str] | None = None,
                   said: list[str] | None = None, tool_said: list[str] | None = None, written: bool = False,
                   listed: bool = False) -> dict:
    """``args`` after the value rules that ``rules`` turns on, in order. ``request``: the latest user
    message; ``prose``: the conversation's prose (stated_values); ``said``: the user's messages
    (count_words); ``tool_said``: the tool results (canonical_case); ``written``: the trunk wrote the
    call (the rules that read copied spans leave it); ``listed``: the call takes a list's next
    element (list_split leaves it whole). A rewrite that breaks the schema is not taken, except
    list_split's, which the caller's final check reports. Where the trunk wrote the call, its cache
    keeps the written text: only the next another-call read sees a rewrite."""
    def kept(new: dict) -> dict:
        return new if new == args or schema_violation(new, schema) is None else args

    if rules.stated_values and prose:
        args = kept(restate(args, prose))                       # a generated date, time or head count, as stated
    if rules.count_words and said:
        args = kept(count_words(args, schema, said))            # "I just want one room": number_of_rooms 1
    if rules.iso_dates:
        args = kept(iso_dates(args, schema))                    # "20th May 2021" for a date: 2021-05-20
    if rules.whole_dates and not written:
        args = kept(whole_dates(args, schema, request))         # "2022" of "May 12, 2022": 2022-05-12
    if rules.canonical_case and tool_said:
        args = kept(canonical_case(args, schema, tool_said))    # a name as the tool results spell it
    if rules.percent_fractions:
        args = kept(percent_fractions(args, schema, request))   # "5%" as 0.05 where the description asks
    if rules.range_order:
        args = kept(in_range_order(args, schema, request))      # "from 1871 to 1945": start_year 1871
    if (rules.named_members or rules.named_choices) and not written:
        args = with_named_members(args, schema, request, left_out=rules.named_members, chosen=rules.named_choices,
                                  described=rules.described_members)
    if rules.named_flags and not written:
        args = named_flags(args, schema, request)               # "with details": details true
    if rules.named_items and not written:
        args = named_items(args, schema, request)               # "its elevation and area": both
    if rules.list_split and not written and not listed:
        # "Sonoma and Marshall" for one city: the first element; list_goes_on calls the others
        args = first_of_lists(args, schema)
    if rules.and_clauses and not written and not listed:
        args = kept(before_clauses(args, schema))               # "AUD and USD to CAD" for one currency: AUD
    if rules.city_states and not written:
        args = kept(city_states(args, schema, request))         # "Seattle, Washington" for a location: Seattle
    if rules.currency_codes and not written:
        args = kept(currency_codes(args, schema, request, fill=not listed))   # "British Pounds": GBP
    return args


_NO_NAME = frozenset(("true", "false", "dontcare", "none", "null", "any", "all", "other"))


def named_in(request: str, members: list) -> list[tuple[int, str]]:
    """(where, member) of each string member the request names in so many words (any case, whole
    words), in the request's order; members of under three letters and flags ("True", "dontcare")
    name nothing."""
    said = []
    for m in members:
        if isinstance(m, str) and len(m) >= 3 and m.lower() not in _NO_NAME:
            at = re.search(r"(?<!\w)" + re.escape(m) + r"(?!\w)", request, re.IGNORECASE)
            if at:
                said.append((at.start(), m))
    return sorted(said)


def with_named_members(args: dict, schema: dict, request: str, left_out: bool = True,
                       chosen: bool = False, described: bool = False) -> dict:
    """SpanRules.named_members: ``args`` with each optional property they leave out set to the member
    of its string enum that the request names in so many words ("some Reggae songs" -> genre
    "Reggae"): the one member it names, or the first of several it names in one list ("Pop and
    Country": Pop, and list_goes_on gives Country its call). Members of under three letters and
    flags ("True", "dontcare") name nothing. ``chosen`` (SpanRules.named_choices): a string value the
    call holds takes the member too, where the request names that one member only ("compounded
    monthly" -> "monthly", not the head's "quarterly"). ``described`` (SpanRules.described_members):
    a string property without an enum whose description lists options (runtime/options.py) takes
    them as its members. ``args`` unchanged where the result breaks the schema."""
    out = dict(args)
    for key, prop in ((schema or {}).get("properties") or {}).items():
        members = prop.get("enum") if isinstance(prop, dict) else None
        if not isinstance(members, list) and described:
            members = described_options(prop)
        if not isinstance(members, list):
            continue
        held = key in args
        if (held and not (chosen and isinstance(args[key], str))) or (not held and not left_out):
            continue
        said = named_in(request, members)
        if not said:
            continue
        at, first = said[0]
        if held:
            if len(said) == 1:
                out[key] = first
            continue
        written = request[at:at + len(first)]
        nxt = next_in_list(request, written, [written], closed=True) if len(said) > 1 else None
        if len(said) == 1 or (isinstance(nxt, str) and nxt.lower() in {m.lower() for _, m in said[1:]}):
            out[key] = first
    return out if schema_violation(out, schema) is None else args


def named_flags(args: dict, schema: dict, request: str) -> dict:
    """SpanRules.named_flags: ``args`` with each optional flag they leave out (a boolean, or a string
    enum with "True", SGD's flags) set true where the request names the property
    (runtime/select.py named_properties: "with details" names ``details``, "no entry fee"
    ``free_entry``). ``args`` unchanged where the result breaks the schema."""
    props = (schema or {}).get("properties") or {}
    required = set((schema or {}).get("required") or [])
    named = named_properties(["/" + esc_ptr(k) for k in props], request)
    out = dict(args)
    for key, prop in props.items():
        if key in args or key in required or "/" + esc_ptr(key) not in named or not isinstance(prop, dict):
            continue
        if prop.get("type") == "boolean" and "enum" not in prop:
            out[key] = True
        elif isinstance(prop.get("enum"), list) and "True" in prop["enum"]:
            out[key] = "True"
    return out if schema_violation(out, schema) is None else args


def named_items(args: dict, schema: dict, request: str) -> dict:
    """SpanRules.named_items: ``args`` with each top-level array whose items are a string enum set to
    every member the request names in so many words (named_in: any case, whole words, not flags or
    members under three letters), in the order it names them ("What's the elevation and area of
    Yellowstone?" -> ["Elevation", "Area"]), where the call leaves the array out, holds it empty, or
    holds only members the request names. Unchanged where the request names none, where the call
    holds a member it does not name, or where the result breaks the schema."""
    out = dict(args)
    for key, prop in ((schema or {}).get("properties") or {}).items():
        items = prop.get("items") if isinstance(prop, dict) and prop.get("type") == "array" else None
        if not isinstance(items, dict) or not isinstance(items.get("enum"), list):
            continue
        said = [m for _, m in named_in(request, items["enum"])]
        held = args.get(key, [])
        if said and isinstance(held, list) and all(h in said for h in held):
            out[key] = said
    return out if schema_violation(out, schema) is None else args
