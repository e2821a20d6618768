"""How often two string properties of one call hold the same text: what SpanRules.disjoint_texts
(runtime/fill.py _part_spans) assumes when it decodes again a copied string that repeats another
property's text from other words ("Seattle" for both `from_location` and `to_location`).

Reads every call of the training split (glaive en, Seal-Tools, SGD) with two or more string values
(of two letters or more), and counts the texts two of its properties share (case aside): those where
both properties are free strings (no enum; the rule would be wrong there) and those where one holds
an enum member ("checking" for `account_type` and `recipient_account_type`, "True" for two flags),
which the slot filler chooses rather than copies.
Run: python scripts/measure_disjoint_texts.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import run


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec in records:
        schemas = {t["function"]["name"]: (t["function"].get("parameters") or {}).get("properties") or {}
                   for t in rec.get("tools") or []}
        for m in rec["messages"]:
            for call in m.get("tool_calls") or []:
                props = schemas.get(call["function"]["name"], {})
                held: dict[str, list[str]] = {}
                for key, value in call["function"]["arguments"].items():
                    if isinstance(value, str) and len(value) >= 2:
                        held.setdefault(value.lower(), []).append(key)
                if sum(map(len, held.values())) < 2:
                    continue
                source = rec["meta"]["dataset"]
                c[source, "calls with two or more string values"] += 1
                for text, keys in held.items():
                    if len(keys) < 2:
                        continue
                    free = [k for k in keys if "enum" not in (props.get(k) or {})]
                    if len(free) >= 2:
                        c[source, "a text two free strings share (the rule is wrong)"] += 1
                        if show:
                            print(f"  {rec['id']} {call['function']['name']} {keys} = {text!r}")
                    else:
                        c[source, "a text shared with an enum member"] += 1
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print the calls the rule would break")
