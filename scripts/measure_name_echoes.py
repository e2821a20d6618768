"""How often a string value that the request writes next to its property's lower-case name word
leaves that word out: what SpanRules.name_echoes (runtime/fill.py drop_name_words) assumes when it
drops the word from a copied value's edges ("Chinese cuisine" for `cuisine` -> "Chinese").

Reads every string value of the calls in the training split (glaive en, Seal-Tools, SGD) that the
user messages before the call write word for word. "Leaves it out": the request writes the value
right before or after the name word ("Chinese cuisine", "dataset mnist"), and the value does not
hold it; had the copy taken the word, the rule gives the value back. "Holds it": the value itself
starts or ends with the name word ("national database" for `database`); the rule would cut it.
Run: python scripts/measure_name_echoes.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

from edgeagent.data.records import load
from edgeagent.data.split import split_records
from edgeagent.runtime.fill import drop_name_words
from edgeagent.runtime.keyed import key_words


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec in records:
        said = ""
        for m in rec["messages"]:
            if m.get("role") == "user" and isinstance(m.get("content"), str):
                said += "\n" + m["content"]
            for call in m.get("tool_calls") or []:
                for key, value in call["function"]["arguments"].items():
                    words = [w for w in key_words("/" + key) if len(w) >= 3]
                    if not isinstance(value, str) or not value.strip() or not words or value not in said:
                        continue
                    source = rec["meta"]["dataset"]
                    if drop_name_words(value, words) != value:
                        c[source, "holds it (the rule would be wrong)"] += 1
                        if show:
                            print(f"  {rec['id']} {key}={value!r}")
                        continue
                    name = "(?:" + "|".join(map(re.escape, words)) + ")s?"
                    v = re.escape(value)
                    if re.search(rf"(?<!\w){v}\s+{name}(?!\w)|(?<!\w){name}\s+{v}(?!\w)", said):
                        c[source, "written next to it, leaves it out"] += 1
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="the data folder (default: ../shared/data, as train finds it)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the values the rule would cut")
    a = ap.parse_args()
    train, _ = split_records(load(a.data, datasets=["glaive_en", "sealtools", "sgd"]).all())
    for (source, what), n in sorted(measure(train, a.verbose).items()):
        print(f"{source:10s} {what:40s} {n}")


if __name__ == "__main__":
    main()
