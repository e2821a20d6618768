"""How the calls of the training split hold a range the request writes: what SpanRules.range_order
(runtime/ranges.py, whose docstring quotes this script) reads as "the start takes the range's first
value".

Walks every call of the training split (glaive en, Seal-Tools, SGD) whose tool has a range pair
(runtime/ranges.py range_pairs) holding two values, with the latest user message before the call.
Counts the pairs that message writes as a range ("from A to B", "between A and B") in the call's
order, in the other order, or both; what in_range_order changes in the calls as written (each change
is wrong); and what it puts back in the calls with each such pair's values swapped, or, for
numbers, with one of them in both places.
Run: python scripts/measure_ranges.py [--data DIR] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import run, schema_calls

from edgeagent.runtime.ranges import in_range_order, range_pairs, written_orders


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, latest, schema, args in schema_calls(records):
        if not isinstance(args, dict):
            continue
        for start, end in range_pairs(schema):
            a, b = args.get(start), args.get(end)
            if a is None or b is None or a == b:
                continue
            key = rec["meta"]["dataset"]
            orders = written_orders(latest, a, b)
            if not orders:
                continue
            order = "both orders" if len(orders) == 2 else \
                "in the call's order" if (a, b) in orders else "the other order"
            c[(key, "written as a range: " + order)] += 1
            if in_range_order(args, schema, latest) != args:
                c[(key, "calls as written: changed (wrong)")] += 1
                if show:
                    print(f"  changed {rec['id']} {start}={a!r} {end}={b!r}: {latest[:120]!r}")
            swapped = {**args, start: b, end: a}
            c[(key, "pair swapped: put back")] += in_range_order(swapped, schema, latest) == args
            if isinstance(a, (int, float)) and isinstance(b, (int, float)):
                c[(key, "numbers, one held twice")] += 2
                c[(key, "numbers, one held twice: put back")] += sum(
                    in_range_order({**args, start: v, end: v}, schema, latest) == args for v in (a, b))
    return c


if __name__ == "__main__":
    run(__doc__, measure, 'print the calls as written that the rule changes')
