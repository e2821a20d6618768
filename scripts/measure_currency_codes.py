"""How the training split writes currency values: what SpanRules.currency_codes (runtime/currency.py)
assumes when it writes a currency property's value as the code of a currency the request names, and
gives a value that names none of them the request's currency no other value holds.

Reads every call of the training split (glaive en, Seal-Tools, SGD) with a currency property
(currency_keys: a string property named a currency, without an enum). Counts its values: the codes
among them, those of a currency the latest user message names, and those it names by name rather
than by code. Then runs the rule twice per call: on the reference arguments (a value it changes is
one it would be wrong on), and on the arguments with every currency value cut to "" (each one
astray, as a generated value that names no currency of the request is): the calls it then gives
back exactly test the order it assigns the request's currencies in.
Run: python scripts/measure_currency_codes.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

import re
from collections import Counter

from measure_common import run, schema_calls

from edgeagent.runtime.currency import currency_codes, currency_keys, named_currencies


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, request, schema, args in schema_calls(records):
        keys = [k for k in currency_keys(schema) if isinstance(args.get(k), str)]
        if not keys:
            continue
        source, named = rec["meta"]["dataset"], named_currencies(request)
        for k in keys:
            c[source, "currency values"] += 1
            c[source, "codes"] += bool(re.fullmatch(r"[A-Z]{3}", args[k]))
            c[source, "of a currency the request names"] += args[k] in named
            c[source, "... named by name, not code"] += args[k] in named and args[k] not in request
        c[source, "calls"] += 1
        if currency_codes(args, schema, request) != args:
            c[source, "calls the rule changes (wrong)"] += 1
            if show:
                print(f"  changed {rec['id']} {args} -> {currency_codes(args, schema, request)}")
        blank = {**args, **{k: "" for k in keys}}
        if all(args[k] in named for k in keys):
            c[source, "calls whose currencies the request names"] += 1
            right = currency_codes(blank, schema, request) == args
            c[source, "... every value cut: given back"] += right
            if show and not right:
                print(f"  order {rec['id']} {request[:120]!r} {args}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print the calls the rule changes or gives back in another order")
