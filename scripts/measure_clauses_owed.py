"""How many calls a request asks for where a lead word opens a clause ("Also, ...", "Finally, ...",
", and then ..."): what SpanRules.clauses_owed (runtime/owed.py clauses_owed) assumes when, after
the another-call head says "end", it makes one more call for a lead clause that no call holds a
value of.

Reads the first request of each record of the training split (glaive en, Seal-Tools, SGD) that is
answered with calls. For those with lead clauses (lead_clauses) it counts how many have at least
one call more than lead clauses, and how many lead clauses hold a value of some call
(holds_clause). Then it plays the rule: after all the request's calls, a clause still owed is one
where the rule would look for a call the data does not have (it keeps one only where the call
holds a value of the clause); after fewer calls, one owed is where it would rightly go on.
Run: python scripts/measure_clauses_owed.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import first_requests, run

from edgeagent.runtime.owed import clauses_owed, holds_clause, lead_clauses


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, request, named in first_requests(records):
        calls = [args for _, args in named]
        source = rec["meta"]["dataset"]
        owed = clauses_owed(request, calls)
        if owed:
            c[source, "after all its calls, a clause still owed (the rule looks for a wrong call)"] += 1
            if show:
                print(f"  {rec['id']} {request[:160]!r}: {len(calls)} calls, owed {owed}")
        leads = lead_clauses(request)
        if not leads:
            continue
        c[source, "first requests with lead clauses"] += 1
        c[source, "... with a call more than lead clauses"] += len(calls) >= 1 + len(leads)
        c[source, "lead clauses"] += len(leads)
        c[source, "... holding a value of some call"] += sum(any(holds_clause(a, s) for a in calls) for s in leads)
        if len(calls) >= 2:
            c[source, "... with 2+ calls: after its first call, a clause owed (the rule goes on)"] += \
                bool(clauses_owed(request, calls[:1]))
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print the requests where a clause is still owed after all their calls")
