"""How the training split writes the values of properties named a date where the request writes a
date out whole: what SpanRules.whole_dates (runtime/stated.py whole_dates) assumes when it gives a
piece of such a date ("2022" of "May 12, 2022"), or a date in digits cut short ("2010-0"), the
whole date.

Reads every call of the training split (glaive en, Seal-Tools, SGD) with a string property named a
date (no enum) whose latest user message writes a date out whole (full_dates). Runs the rule three
times per call: on the reference arguments (a value it changes is one it would be wrong on); with
each value that is one of the request's whole dates cut to "20-"; and with each cut to its year
(the piece a copy takes). A call given back exactly tests the order the rule assigns the request's
dates in, and the format it writes them in.
Run: python scripts/measure_whole_dates.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import run, schema_calls

from edgeagent.runtime.keyed import key_words
from edgeagent.runtime.stated import full_dates, whole_dates


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, request, schema, args in schema_calls(records):
        props = schema.get("properties") or {}
        keys = [k for k, p in props.items() if isinstance(p, dict) and "enum" not in p
                and isinstance(args.get(k), str) and "date" in key_words("/" + k)]
        fulls = full_dates(request)
        if not keys or not fulls:
            continue
        source = rec["meta"]["dataset"]
        c[source, "calls with a date value, the request writing a whole date"] += 1
        if whole_dates(args, schema, request) != args:
            c[source, "... the rule changes (wrong)"] += 1
            if show:
                print(f"  changed {rec['id']} {request[:100]!r} {args} -> {whole_dates(args, schema, request)}")
        whole = {k: d for k in keys for w, d in fulls if args[k] in (w, d.isoformat(), d.strftime("%m-%d-%Y"),
                                                                     d.strftime("%d-%m-%Y"))}
        if not whole:
            continue
        c[source, "... calls holding one of the request's whole dates"] += 1
        c[source, "... values that are one of the request's whole dates"] += len(whole)
        for how, cut in (("cut to '20-'", lambda d: "20-"), ("cut to its year", lambda d: str(d.year))):
            back = whole_dates({**args, **{k: cut(d) for k, d in whole.items()}}, schema, request) == args
            c[source, f"... every such value {how}: given back"] += back
            if show and not back:
                print(f"  {how} {rec['id']} {request[:100]!r} {args}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print the calls the rule changes or does not give back")
