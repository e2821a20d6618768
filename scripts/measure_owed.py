"""How often a first request writes a number that its call does not hold: what SpanRules.numbers_owed
(runtime/owed.py, whose docstring quotes this script) reads as "one more call is due".

Reads the first tool turn of every training-split record (glaive en, Seal-Tools, SGD) whose
conversation is one user message, and counts the requests that write a number the first call does
not hold, and one that no call of the turn holds, by how the turn calls: one call, several calls
of one function, calls of several functions. Run: python scripts/measure_owed.py [--data DIR] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import run

from edgeagent.runtime.owed import numbers_owed


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec in records:
        for i, m in enumerate(rec["messages"]):
            if m.get("role") != "assistant" or not m.get("tool_calls"):
                continue
            users = [u for u in rec["messages"][:i] if u.get("role") == "user"]
            if len(users) == 1 and isinstance(users[0].get("content"), str):
                calls = [call["function"]["arguments"] for call in m["tool_calls"]]
                names = {call["function"]["name"] for call in m["tool_calls"]}
                kind = "one call" if len(calls) == 1 else "calls of one function" if len(names) == 1 \
                    else "calls of several functions"
                key = (rec["meta"]["dataset"], kind)
                c[key + ("first requests",)] += 1
                c[key + ("a number the first call does not hold",)] += bool(numbers_owed(users[0]["content"],
                                                                                       calls[:1]))
                owed = numbers_owed(users[0]["content"], calls)
                c[key + ("a number no call holds",)] += bool(owed)
                if show and owed and len(calls) == 1:
                    print(f"  {rec['id']} {sorted(owed)}: {users[0]['content'][:120]!r}")
            break
    return c


if __name__ == "__main__":
    run(__doc__, measure, 'print the one-call requests with a number left')
