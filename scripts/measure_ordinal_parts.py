"""How the calls of a request that numbers its parts ("The first triangle ... The second triangle
...") line up with those parts: what SpanRules.ordinal_parts (runtime/parts.py) assumes when it
walls each call of a function off the other parts and asks for a call per part.

Reads the first request of each record of the training split (glaive en, Seal-Tools, SGD) that is
answered with calls. For those with ordinal parts it counts the calls against the parts, and plays
the rule on the calls in order: where walls() would wall a call, each of its values that the request
writes (a string of two or more characters, or a number) counts as met where its own part or the
words outside the other parts write it, and as walled where only the other parts do.
Run: python scripts/measure_ordinal_parts.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import first_requests, run

from edgeagent.runtime.parts import holds_part, ordinal_parts, part_text, walls


def outside(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the character ``spans`` blanked out."""
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, request, calls in first_requests(records):
        parts = ordinal_parts(request)
        if not parts:
            continue
        source = rec["meta"]["dataset"]
        tools = [(t["function"]["name"], t["function"].get("description") or "", t["function"].get("parameters"))
                 for t in rec.get("tools") or []]
        schemas = {name: params for name, _, params in tools}
        c[source, "first requests with ordinal parts"] += 1
        c[source, "... answered with as many calls as parts or more"] += len(calls) >= len(parts)
        for k, (name, args) in enumerate(calls):
            spans = walls(request, parts, [n for n, _ in calls[:k]], name, schemas.get(name) or {}, tools)
            if spans is None:
                continue
            c[source, "calls the rule walls"] += 1
            open_text = outside(request, spans)
            for key, value in args.items():
                if not holds_part({key: value}, request):
                    continue
                met = holds_part({key: value}, open_text)
                c[source, "... their written values, met" if met else "... their written values, walled"] += 1
                if show and not met:
                    print(f"  {rec['id']} call {k} {name} {key}={value!r}: walled; {request[:160]!r}")
        if show:
            print(f"  {rec['id']} {len(calls)} calls, {len(parts)} parts: "
                  f"{[part_text(request, p)[:40] for p in parts]}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print each request with parts, and each walled value")
