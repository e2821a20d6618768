"""Whether a call copies a value from the words an earlier call of the same turn copied for another
property: what SpanRules.echo_repeats (runtime/pipeline.py) assumes when a further call that does
so ends the turn.

Reads every turn of the training split (glaive en, Seal-Tools, SGD) with two or more calls. A value
of a later call (a string, or a number as the request writes it) that the turn's user message
writes exactly once has a known place. It is "fresh" where no earlier call's value of the turn
holds that place; else it overlaps one of a property of another name (where the rule would be
wrong), of the same name in another function ("patient_id" for two tools: not the rule's
business), or of the same function's same property. Per later call of a function the turn has not
called yet, with such a value: whether one of its values overlaps another name's, and whether every
one overlaps some earlier value (a rule that took such calls for echoes, as echo_repeats takes a
repeat's, would be wrong there; docs/dev-s27/README.md tried it).
Run: python scripts/measure_cross_calls.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

import re
from collections import Counter

from measure_common import run


def _place(text: str, value) -> set[int] | None:
    """The characters of ``text`` that hold ``value``, where it writes it exactly once."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    value = str(value)
    found = [m.span() for m in re.finditer(re.escape(value), text, re.IGNORECASE)] if len(value) >= 2 else []
    return set(range(*found[0])) if len(found) == 1 else None


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec in records:
        request = ""
        for m in rec["messages"]:
            if m.get("role") == "user" and isinstance(m.get("content"), str):
                request = m["content"]
            calls = m.get("tool_calls") or []
            if len(calls) < 2:
                continue
            earlier = []                                # (function, property, characters) of earlier calls
            for k, call in enumerate(calls):
                name, here = call["function"]["name"], []
                new = k and all(c["function"]["name"] != name for c in calls[:k])
                others = overlaps = 0
                for key, value in call["function"]["arguments"].items():
                    at = _place(request, value)
                    if at is None:
                        continue
                    here.append((name, key, at))
                    if not k:
                        continue
                    hit = [(f, p) for f, p, where in earlier if where & at]
                    kind = "number" if isinstance(value, (int, float)) else "string"
                    source = rec["meta"]["dataset"]
                    others += any(p != key for _, p in hit)
                    overlaps += bool(hit)
                    if any(p != key for _, p in hit):
                        c[source, kind, "overlaps a property of another name's (the rule would be wrong)"] += 1
                        if show:
                            print(f"  {rec['id']} {name}.{key}={value!r} over {hit}")
                    elif any(f != name for f, _ in hit):
                        c[source, kind, "overlaps the same name's in another function"] += 1
                    elif hit:
                        c[source, kind, "overlaps the same function's same property"] += 1
                    else:
                        c[source, kind, "fresh"] += 1
                if new and here:
                    source = rec["meta"]["dataset"]
                    c[source, "call", "of a new function, with a value written once"] += 1
                    c[source, "call", "... a value over another name's"] += others > 0
                    c[source, "call", "... every value over an earlier one"] += overlaps == len(here)
                earlier += here
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print the values that overlap another property's")
