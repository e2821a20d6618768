"""How often two number properties of one call hold the same number: what SpanRules.disjoint_numbers
(runtime/fill.py _part_numbers) assumes when it gives two number properties two different numbers
of the conversation.

Reads every call of the training split (glaive en, Seal-Tools, SGD) with two or more number values,
and counts the values two of its properties share, and those the user messages before the call write
fewer times than properties hold them (there the rule would be wrong).
Run: python scripts/measure_disjoint_numbers.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import run

from edgeagent.runtime.owed import number_mentions


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec in records:
        said = ""
        for m in rec["messages"]:
            if m.get("role") == "user" and isinstance(m.get("content"), str):
                said += "\n" + m["content"]
            for call in m.get("tool_calls") or []:
                values = [float(v) for v in call["function"]["arguments"].values()
                          if isinstance(v, (int, float)) and not isinstance(v, bool)]
                if len(values) < 2:
                    continue
                source = rec["meta"]["dataset"]
                c[source, "calls with two or more number values"] += 1
                for value, n in Counter(values).items():
                    if n < 2:
                        continue
                    c[source, "a number two properties share"] += 1
                    if number_mentions(said).count(value) < n:
                        c[source, "  written fewer times (the rule is wrong)"] += 1
                        if show:
                            print(f"  {rec['id']} {call['function']['arguments']}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, 'print the calls the rule would break')
