"""How often a value the user writes in another case is spelled as the call spells it by the
conversation's tool results: what SpanRules.canonical_case (runtime/canonical.py, whose docstring
quotes this script) assumes when it respells a copied string as a tool wrote it.

Reads every string value (three or more characters, with a letter; not an enum member) of the calls in the training
split (glaive en, Seal-Tools, SGD) that the user messages before the call write, in any case. Takes
the user's spelling (the latest), as the slot filler copies it, and respells it from the tool
messages before the call. Run: python scripts/measure_canonical_case.py [--data DIR] [-v]
"""

from __future__ import annotations

import re
from collections import Counter

from measure_common import run

from edgeagent.runtime.canonical import spelled


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec in records:
        user, system = [], []
        tools = {t["function"]["name"]: t["function"]["parameters"].get("properties") or {} for t in rec["tools"]}
        for m in rec["messages"]:
            if isinstance(m.get("content"), str) and m["content"]:
                (user if m.get("role") == "user" else system if m.get("role") == "tool"
                 else []).append(m["content"])
            for call in m.get("tool_calls") or []:
                props = tools.get(call["function"]["name"], {})
                for key, value in call["function"]["arguments"].items():
                    if not isinstance(value, str) or len(value) < 3 or not re.search(r"[^\W\d_]", value):
                        continue
                    if "enum" in (props.get(key) or {}):
                        continue                       # an enum member is chosen, not copied
                    pattern = re.compile(r"(?<!\w)" + re.escape(value) + r"(?!\w)", re.IGNORECASE)
                    written = [w.group(0) for text in user for w in pattern.finditer(text)]
                    if not written:
                        continue
                    source = rec["meta"]["dataset"]
                    copied = written[-1]
                    respelled = spelled(copied, system)
                    if copied != value:
                        c[source, "the user writes it in another case"] += 1
                        c[source, "  respelled as the call does"] += respelled == value
                        c[source, "  respelled otherwise"] += respelled not in (value, copied)
                    elif respelled != value:
                        c[source, "the user writes it as the call: respelled wrong"] += 1
                        if show:
                            print(f"  {rec['id']} {value!r} -> {respelled!r}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, 'print the values the rule respells wrong')
