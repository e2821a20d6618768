"""How the training split writes a value where the request writes a city with its state ("Seattle,
Washington"): what SpanRules.city_states (runtime/places.py) assumes when it gives a value that is
the state of such a pair the pair's city.

Reads every string value of the calls in the training split (glaive en, Seal-Tools, SGD) whose
user messages before the call write "City, State" pairs (city_state_pairs), and counts the values
that are a pair's city, its state or the whole pair. A state under a property the rule reads (not
named a state, region, province or country) is a value the rule would be wrong on.
Run: python scripts/measure_city_states.py [--data ../shared/data] [-v]
"""

from __future__ import annotations

from collections import Counter

from measure_common import call_values, run

from edgeagent.runtime.places import city_state_pairs, city_states


def measure(records, show: bool = False) -> Counter:
    c = Counter()
    for rec, said, _, key, value in call_values(records):
        if not isinstance(value, str):
            continue
        pairs = city_state_pairs(said)
        source = rec["meta"]["dataset"]
        for city, state in pairs:
            if value in (city, state, f"{city}, {state}"):
                what = "the city" if value == city else "the state" if value == state else "the whole pair"
                c[source, f"values that are {what} of a pair"] += 1
                break
        if city_states({key: value}, None, said) != {key: value}:
            c[source, "values the rule changes (wrong)"] += 1
            if show:
                print(f"  {rec['id']} {key}={value!r} -> {city_states({key: value}, None, said)[key]!r}")
    return c


if __name__ == "__main__":
    run(__doc__, measure, "print the values the rule would change")
