"""How often a string value is the quoted text written right after its property's name
("relationship type 'DJZaRcI60Ps'"; runtime/keyed.py quoted_pattern, SpanRules.keyed_quotes, whose
docstring quotes this script), for required and optional properties (an optional one may be left out).

Reads every string property of the called functions in the training split (glaive en, Seal-Tools,
SGD), against the user messages before the call.
Run: python scripts/measure_keyed_quotes.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import run

from edgeagent.runtime.keyed import quoted_pattern
from edgeagent.scaffold.reference import esc_ptr


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec in records:
        said = ""
        tools = {t["function"]["name"]: t["function"].get("parameters") or {} for t in rec["tools"]}
        for m in rec["messages"]:
            if m.get("role") == "user" and isinstance(m.get("content"), str):
                said += "user\n" + m["content"] + "\n"
            for call in m.get("tool_calls") or []:
                schema = tools.get(call["function"]["name"]) or {}
                required = set(schema.get("required") or [])
                for key, prop in (schema.get("properties") or {}).items():
                    if not isinstance(prop, dict) or prop.get("type") != "string":
                        continue
                    pattern = quoted_pattern("/" + esc_ptr(key))
                    found = [x.group(1) for x in pattern.finditer(said)] if pattern is not None else []
                    if not found:
                        continue
                    value = call["function"]["arguments"].get(key)
                    kind = "required" if key in required else "optional"
                    what = ("left out" if value is None else "the first quoted text" if value == found[0]
                            else "a later quoted text" if value in found else "another value")
                    c[(kind, what)] += 1
                    if show and what not in ("the first quoted text",):
                        print(f"  {rec['id']} {key}={value!r} quoted {found}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print the values that are not the first quoted text")
