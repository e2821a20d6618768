"""A city the request writes with its state (runtime/places.py, SpanRules.city_states)."""

from edgeagent.runtime.places import city_state_pairs, city_states
from edgeagent.runtime.rewrite import rewrite_values
from edgeagent.runtime.rules import SpanRules

WEATHER = {"type": "object", "properties": {"location": {"type": "string"}, "state": {"type": "string"}}}


def test_city_state_pairs_read_a_city_and_a_state_name_or_code():
    assert city_state_pairs("What's the weather in Seattle, Washington and San Francisco, CA?") == \
        [("Seattle", "Washington"), ("San Francisco", "CA")]
    # a city that opens a sentence loses its first word; a state that is no state's name pairs nothing
    assert city_state_pairs("Visit Austin, TX. Then Paris, France.") == [("Austin", "TX")]


def test_the_state_of_a_pair_takes_its_city():
    request = "What's the current temperature and humidity in Seattle, Washington?"
    assert city_states({"location": "Washington"}, WEATHER, request) == {"location": "Seattle"}
    assert city_states({"location": "WA"}, WEATHER, "in Seattle, WA") == {"location": "Seattle"}
    # a property named a state keeps it; so does a value that is the city or the whole pair
    assert city_states({"state": "Washington"}, WEATHER, request) == {"state": "Washington"}
    assert city_states({"location": "Seattle, Washington"}, WEATHER, request) == {"location": "Seattle, Washington"}
    # a state paired with two cities names no one city
    two = "hotels in Austin, TX or Dallas, TX"
    assert city_states({"location": "TX"}, WEATHER, two) == {"location": "TX"}


def test_the_rule_runs_in_the_value_chain_as_the_rules_say():
    request = "What's the current temperature in Seattle, Washington?"
    args = {"location": "Washington"}
    assert rewrite_values(args, WEATHER, SpanRules(), request) == {"location": "Seattle"}
    assert rewrite_values(args, WEATHER, SpanRules(city_states=False), request) == args
    assert rewrite_values(args, WEATHER, SpanRules(), request, written=True) == args
