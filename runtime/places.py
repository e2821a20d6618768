"""A city the request writes with its state ("Seattle, Washington", "Austin, TX"), for the value
rules (SpanRules.city_states; stdlib only).

The slot filler sometimes copies the state of such a pair for a location ("What's the weather in
Seattle, Washington?" -> "Washington"). Where the request writes "City, State", a value that is one
part of it is nearly always the city: of the training split's 2,510 string values that are the city,
the state or the whole of such a pair, 2,495 are the city, 9 the whole pair and 6 the state; the
rule would change 5 of the state values ("New York" of "Big Apple, New York"), the sixth being under
a property named a state (scripts/measure_city_states.py). So a value that is the state of a pair
the latest user message writes takes the pair's city, unless its property is named a state (or a
region, province or country).
"""

from __future__ import annotations

import re

from edgeagent.runtime.keyed import key_words

STATES = ("Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware", "Florida",
          "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine",
          "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska",
          "Nevada", "New Hampshire", "New Jersey", "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio",
          "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas",
          "Utah", "Vermont", "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming")
_PAIR = re.compile(r"\b((?:[A-Z][a-z]+ ){0,2}[A-Z][a-z]+), (" + "|".join(STATES) + r"|[A-Z]{2})\b")
_OPENS = re.compile(r"(?:^|[.?!:\n]\s*)$")                   # what stands before a run that opens a sentence
_STATE_WORDS = frozenset(("state", "states", "region", "province", "country"))


def city_state_pairs(text: str) -> list[tuple[str, str]]:
    """(city, state) of each "City, State" pair ``text`` writes ("Seattle, Washington", "Austin, TX"):
    up to three capitalized words before ", " and a US state's name or two capital letters; a
    city that opens a sentence loses its first word where it has more ("Visit Austin, TX": Austin)."""
    out = []
    for m in _PAIR.finditer(text):
        words = m.group(1).split()
        if len(words) > 1 and _OPENS.search(text[:m.start()]):
            words = words[1:]
        out.append((" ".join(words), m.group(2)))
    return out


def city_states(args: dict, schema: dict | None, request: str) -> dict:
    """SpanRules.city_states: ``args`` with each top-level string value that is the state of one
    "City, State" pair ``request`` writes (city_state_pairs) given that pair's city; not for a property
    named a state, region, province or country, nor where the request pairs that state with two
    cities."""
    pairs = city_state_pairs(request)
    if not pairs:
        return args
    out = dict(args)
    for key, value in args.items():
        if not isinstance(value, str) or _STATE_WORDS & set(key_words("/" + key)):
            continue
        cities = {city for city, state in pairs if state == value.strip()}
        if len(cities) == 1:
            out[key] = cities.pop()
    return out
