"""How often a string-enum value is the one member its request names: what SpanRules.named_choices
(runtime/rewrite.py with_named_members) assumes when it overrides the head's choice with it.

Reads every call of the training split (glaive en, Seal-Tools, SGD) and, for each string value of a
property with an enum, the members the latest user message names in so many words (named_in: whole
words, any case, no flags, none under three letters). Where it names one, counts the values that are
that member and those that are another (there the rule would be wrong).
Run: python scripts/measure_named_choices.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import run

from edgeagent.runtime.rewrite import named_in


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec in records:
        tools = {t["function"]["name"]: t["function"].get("parameters") or {} for t in rec.get("tools") or []}
        source, request = rec["meta"]["dataset"], ""
        for m in rec["messages"]:
            if m.get("role") == "user" and isinstance(m.get("content"), str):
                request = m["content"]
            for call in m.get("tool_calls") or []:
                props = (tools.get(call["function"]["name"]) or {}).get("properties") or {}
                for key, value in call["function"]["arguments"].items():
                    prop = props.get(key)
                    if not isinstance(value, str) or not isinstance(prop, dict) \
                            or not isinstance(prop.get("enum"), list):
                        continue
                    c[source, "string-enum values"] += 1
                    said = named_in(request, prop["enum"])
                    if len(said) > 1:
                        c[source, "  the request names several members"] += 1
                    if len(said) != 1:
                        continue
                    c[source, "  the request names one member"] += 1
                    if said[0][1] == value:
                        c[source, "    the value is that member"] += 1
                    else:
                        c[source, "    another (the rule is wrong)"] += 1
                        if show:
                            print(f"  {rec['id']} {key}={value!r}, named {said[0][1]!r}: {request[:120]!r}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print the values the rule would break")
