"""How often next_in_list finds a repeated call's next value, as the request writes its list.

Where one turn calls a function two or more times and the calls differ in a value ("the weather in
Paris and London"), the list rules (SpanRules.list_goes_on, runtime/further.py list_next) read the
request for the element after the one a call holds. Two sets from the training split: the original
requests (one user message, its turn's calls) and the listed requests made from them
(data/augment.py list_values, whose first element is written as the request wrote it, in any
case). For each later call, each value that differs from the call before it: the element
next_in_list reads after the earlier value (the earlier calls' values of that key and the earlier
call's other values used), counted right (the later call's value), wrong, or none, as the rule
reads it before caseless_lists, with ``caseless`` (SpanRules.caseless_lists: a value the request
writes in another case only, "Music" where it says "music and Sports", is found there too), and
with ``alike`` too (SpanRules.alike_lists: where the request writes the value capitalized, an
element that opens in lower case is none). A third count reads the original requests answered by
one call: where list_goes_on (list_next) finds an element after the call's own values, it would
add a call the turn does not have (a false call).

    python scripts/measure_list_next.py [-v]
"""

from __future__ import annotations

import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))

from measure_common import run  # noqa: E402

from edgeagent.data.mix import listed_requests  # noqa: E402
from edgeagent.runtime.lists import next_in_list  # noqa: E402
from edgeagent.runtime.further import list_next  # noqa: E402

MODES = (("as it was", False, False), ("caseless", True, False), ("caseless, alike", True, True))


def _turns(records, calls_at_least: int = 2):
    """(request, calls) for each record's first user message answered by ``calls_at_least`` or more
    calls."""
    for rec in records:
        users = [i for i, m in enumerate(rec["messages"]) if m["role"] == "user"]
        if not users:
            continue
        after = rec["messages"][users[0] + 1] if users[0] + 1 < len(rec["messages"]) else {}
        calls = [c["function"] for c in after.get("tool_calls") or []]
        if len(calls) >= calls_at_least and isinstance(rec["messages"][users[0]]["content"], str):
            yield rec["messages"][users[0]]["content"], calls


def measure(records, verbose: bool = False) -> Counter:
    counts: Counter = Counter()
    sets = {"original": list(_turns(records)), "listed": list(_turns(listed_requests(records, 0)))}
    for name, turns in sets.items():
        for request, calls in turns:
            for k in range(1, len(calls)):
                prev, cur = calls[k - 1], calls[k]
                if prev["name"] != cur["name"]:
                    continue
                same = [c["arguments"] for c in calls[:k] if c["name"] == cur["name"]]
                for key, value in prev["arguments"].items():
                    want = cur["arguments"].get(key)
                    if want == value or isinstance(value, (bool, dict, list)) or value is None:
                        continue
                    used = [a.get(key) for a in same] + list(prev["arguments"].values())
                    got = {mode: next_in_list(request, value, used, closed=True, caseless=caseless, alike=alike)
                           for mode, caseless, alike in MODES}
                    for mode, element in got.items():
                        what = "none" if element is None else "right" if element == want else "wrong"
                        counts[(name, mode, what)] += 1
                    if verbose and got["caseless"] != got["caseless, alike"]:
                        print(f"{name}: {request[:140]!r}\n   {key}: {value!r} -> {got['caseless']!r} / "
                              f"{got['caseless, alike']!r} (want {want!r})")
    for request, calls in _turns(records, calls_at_least=1):
        if len(calls) != 1:
            continue
        for mode, caseless, alike in MODES:
            extra = list_next(calls[0]["arguments"], [], request, caseless, alike)
            counts[("one call", mode, "turns")] += 1
            counts[("one call", mode, "false calls")] += bool(extra)
            if verbose and extra and mode == "caseless, alike":
                print(f"one call: {request[:140]!r}\n   {extra}")
    return counts


if __name__ == "__main__":
    run(__doc__, measure, "print each value alike_lists changes, and its false calls")
