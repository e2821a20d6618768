"""Whether a turn goes on after a call, and with what (SpanRules; no torch).

After each call the another-call head votes "another" or "end". The rules here decide what a
further call must bring to be made (news: a value, or copied words, that no earlier call of the
function had; fresh_calls, echo_repeats, news_refill), when a turn ends instead (ends_turn), and
which values a further call takes from the request itself: the next element of a list the request
writes (list_goes_on, list_items, lists_first) or the numbers it still owes (owed_template). The
rules and their measures are documented on SpanRules (runtime/rules.py).
"""

from __future__ import annotations

import json

from edgeagent.runtime.fill import top_property
from edgeagent.runtime.lists import next_in_list
from edgeagent.runtime.owed import held_numbers, numbers_owed, pay_owed
from edgeagent.runtime.validate import schema_violation


def brings_news(args: dict, spans: dict, earlier: list[dict], held: set[int]) -> bool:
    """SpanRules.fresh_calls: whether a further call of a function says something its ``earlier``
    calls did not: a top-level value that differs from each of theirs and, where it is copied, is
    copied from words none of them copied (``spans``: pointer -> the sequence positions this call
    copied; ``held``: the positions theirs copied, and the turn's calls as written, which are
    context too). A call that copies again the words an earlier call took, for any of its
    properties, and otherwise chooses as they did, brings nothing."""
    for key, value in args.items():
        at = [p for ptr, where in spans.items() if top_property(ptr) == key for p in where]
        if all(e.get(key) != value for e in earlier) and held.isdisjoint(at):
            return True
    return False


def refill_for_news(fill_call, args: dict, info, spans: dict, earlier: list[dict], held: set[int], owed: set[float],
          tries: int = 3):
    """SpanRules.news_refill: a further call of a function that brings nothing its ``earlier`` calls
    did not (brings_news; ``held``: the positions theirs copied and the turn's calls as written) is
    filled again with one copied value kept off the words earlier calls copied: the value whose
    other words cost the head least first (FillInfo.news), up to ``tries`` of them ("then repeat
    with a change in time of 10 seconds": d_time). Only where the request writes numbers no call
    holds (``owed``; runtime/owed.py: a number the user writes is nearly always some call's value):
    the first fill that brings news and holds one of them is the call (``fill_call(fresh)`` ->
    (args, info, err, spans)); None where none does."""
    if not owed or brings_news(args, spans, earlier, held):
        return None
    for ptr in sorted(info.news, key=info.news.get, reverse=True)[:tries]:
        redone = fill_call({ptr})
        new = redone[0]
        if new is None or new == args or not brings_news(new, redone[3], earlier, held):
            continue
        if held_numbers(new).isdisjoint(owed):
            continue
        return redone
    return None


def ends_turn(args: dict | None, text: str, calls: list[dict], name: str, idle: bool, route: dict,
               due: set[float] | None) -> bool:
    """Whether a further call ends the turn instead of being made: there is none, or it is an earlier
    call again (parallel calls are never repeats), or it is ``idle`` (brings no news, or copies words
    another property's value was copied from: SpanRules.fresh_calls, echo_repeats) and no list moved
    it on, or it holds none of the numbers ``due`` that it was made for (SpanRules.numbers_owed)."""
    return args is None or any(c["function"]["name"] == name and c["function"]["arguments"] == text
                               for c in calls) or (idle and route.get("") != "next-in-list") \
        or (due is not None and held_numbers(args).isdisjoint(due))


def owed_template(same: list[dict], calls: list[dict], request: str, schema: dict) -> dict | None:
    """SpanRules.owed_template: for a further call of the turn's latest function that would end the
    turn (it repeats, brings no news or echoes another property's words), that latest call
    (``same[-1]``, the function's calls' arguments) with the numbers the request owes (numbers_owed
    over ``calls``) in its own written numbers' places, in the order the request writes both
    (pay_owed); None where nothing is owed, the counts differ or the result breaks the schema."""
    owed = numbers_owed(request, [json.loads(c["function"]["arguments"]) for c in calls])
    paid = pay_owed(same[-1], same, owed, request) if owed else same[-1]
    return paid if paid != same[-1] and schema_violation(paid, schema) is None else None


def list_next(args: dict, earlier: list[dict], request: str, caseless: bool = False, alike: bool = False) -> dict:
    """SpanRules.list_goes_on: {key: element} for each top-level value of this call that sits in a
    list the request closes with "and" / "or", where the list has an element that no call of this
    function used for that key and no other value of this call holds ("GCD of 36 and 48" is one
    call with both); {} where there is none. ``caseless``, ``alike``: SpanRules.caseless_lists,
    alike_lists."""
    done, held = earlier + [args], list(args.values())
    out = {}
    for key, value in args.items():
        nxt = next_in_list(request, value, [c.get(key) for c in done] + held, closed=True, caseless=caseless,
                           alike=alike)
        if nxt is not None:
            out[key] = nxt
    return out


def fits(args: dict, sc) -> bool:
    try:
        sc.encode(args)
    except ValueError:
        return False
    return True


def with_values(args: dict, values: dict, sc, schema: dict | None = None) -> dict:
    """``args`` with ``values`` set, where the result fits the schema; else ``args``. A list element
    that names an enum member in its first words takes the member ("savings account balance" ->
    "savings", "rock" -> "Rock"; ``schema``: the function's parameters)."""
    props = (schema or {}).get("properties") or {}
    values = {k: enum_member(v, props.get(k)) for k, v in values.items()}
    out = {**args, **values}
    return out if fits(out, sc) else args


def enum_member(value, prop) -> object:
    """The member of ``prop``'s string enum that ``value``'s first words spell (any case; the most
    words that do); else ``value``."""
    members = [m for m in (prop or {}).get("enum") or [] if isinstance(m, str)] if isinstance(prop, dict) else []
    if not isinstance(value, str) or not members or value in members:
        return value
    words = value.split()
    for n in range(len(words), 0, -1):
        said = " ".join(words[:n]).lower()
        hit = [m for m in members if m.lower() == said]
        if hit:
            return hit[0]
    return value


def next_call(args: dict, earlier: list[dict], request: str, sc, schema: dict | None = None,
               caseless: bool = False, alike: bool = False) -> dict | None:
    """A call that repeats an earlier one of the same function, moved on where the request lists
    more values ("Play Taylor Swift and Maroon 5": the second call takes "Maroon 5"): each top-level
    value the request writes in a list takes the next element no earlier call used. None where no
    value moves, or the result does not fit the schema. ``caseless``, ``alike``: SpanRules.caseless_lists,
    alike_lists."""
    out, props = dict(args), (schema or {}).get("properties") or {}
    for key, value in args.items():
        nxt = next_in_list(request, value, [e.get(key) for e in earlier], caseless=caseless, alike=alike)
        if nxt is not None:
            out[key] = enum_member(nxt, props.get(key))
    return out if out != args and fits(out, sc) else None
