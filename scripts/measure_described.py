"""How often a string property's description lists its options in prose, and what the calls hold
there: the ground of SpanRules.described_members (runtime/options.py described_options), which
lets the enum rules (named_members, named_choices) read such a list as the property's members.

Reads every call of the training split (glaive en, Seal-Tools, SGD). For each string property
without an enum whose description lists options, it counts the values that are one of them, and
plays the rules: a property left out where the request names one option (named_members would set
it), and a value held where the request names one option that is not it (named_choices would
change it).
Run: python scripts/measure_described.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import run, schema_calls

from edgeagent.runtime.options import described_options
from edgeagent.runtime.rewrite import named_in


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, request, schema, args in schema_calls(records):
        source = rec["meta"]["dataset"]
        for key, prop in (schema.get("properties") or {}).items():
            options = described_options(prop)
            if not options:
                continue
            c[source, "string properties whose description lists options"] += 1
            value = args.get(key)
            said = named_in(request, options)
            if value is None:
                c[source, "... left out"] += 1
                c[source, "... left out where the request names one option (the rule sets it)"] += len(said) == 1
            else:
                c[source, "... held, one of the options"] += isinstance(value, str) and \
                    value.lower() in {o.lower() for o in options}
                c[source, "... held, the request names one option and the value is another (the rule changes it)"] \
                    += len(said) == 1 and not (isinstance(value, str) and value.lower() == said[0][1].lower())
            if show:
                print(f"  {rec['id']} {key}: options {options}, value {value!r}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print each such property with its options and value")
