"""Rewrites of a filled call's values (runtime/rewrite.py): the value rules' chain and the members
the request names."""

from edgeagent.runtime.rewrite import named_items, rewrite_values
from edgeagent.runtime.rules import SpanRules

PARK = {"type": "object", "properties": {
    "park_name": {"type": "string"},
    "information": {"type": "array", "items": {"type": "string", "enum": ["Elevation", "Area", "Location",
                                                                        "Established Year"]}}},
    "required": ["park_name", "information"]}


def test_an_enum_array_takes_the_members_the_request_names_in_order():
    request = "What's the area and elevation of Yellowstone National Park?"
    assert named_items({"park_name": "Yellowstone", "information": []}, PARK, request) == \
        {"park_name": "Yellowstone", "information": ["Area", "Elevation"]}
    # left out, or holding only named members: the same
    assert named_items({"park_name": "Yellowstone"}, PARK, request)["information"] == ["Area", "Elevation"]
    assert named_items({"park_name": "Y", "information": ["Elevation"]}, PARK, request)["information"] == \
        ["Area", "Elevation"]


def test_an_enum_array_keeps_a_member_the_request_does_not_name():
    request = "What's the area of Yellowstone National Park?"
    held = {"park_name": "Yellowstone", "information": ["Location"]}
    assert named_items(held, PARK, request) == held
    # nothing named: unchanged; a member named only inside a word names nothing
    assert named_items({"park_name": "Y", "information": []}, PARK, "Tell me about Yellowstone") == \
        {"park_name": "Y", "information": []}
    empty = {"park_name": "Y", "information": []}
    assert named_items(empty, PARK, "its areas") == empty


def test_an_enum_array_rewrite_that_breaks_the_schema_is_not_taken():
    schema = {"type": "object", "properties": {"information": {**PARK["properties"]["information"], "maxItems": 1}}}
    request = "the area and elevation"
    assert named_items({"information": []}, schema, request) == {"information": []}
    assert named_items({}, schema, "the area") == {"information": ["Area"]}


def test_the_value_rules_run_only_as_the_rules_say():
    request = "What's the area and elevation of Yellowstone, between 2012 and 2015?"
    schema = {"type": "object", "properties": {**PARK["properties"], "from_year": {"type": "integer"},
                                               "to_year": {"type": "integer"}}}
    args = {"park_name": "Yellowstone", "information": [], "from_year": 2015, "to_year": 2012}
    on = rewrite_values(args, schema, SpanRules(), request)
    assert on == {"park_name": "Yellowstone", "information": ["Area", "Elevation"], "from_year": 2012, "to_year": 2015}
    assert rewrite_values(args, schema, SpanRules.off(), request) == args
    # a call the trunk wrote keeps what the rules that read the request's words would change
    assert rewrite_values(args, schema, SpanRules(), request, written=True)["information"] == []


def test_a_one_value_string_joined_to_a_clause_keeps_its_first_element():
    request = "Get me the currency exchange rates of the following pairs: USD to AUD and USD to CAD?"
    schema = {"type": "object", "properties": {"base_currency": {"type": "string"},
                                               "target_currency": {"type": "string"}}}
    args = {"base_currency": "USD", "target_currency": "AUD and USD to CAD"}
    assert rewrite_values(args, schema, SpanRules(), request)["target_currency"] == "AUD"
    # (currency_codes alone would give it AUD too: the request's currency no other value holds)
    assert rewrite_values(args, schema, SpanRules(and_clauses=False, currency_codes=False), request) == args
    # a call that takes a list's next element, or one the trunk wrote, keeps its value
    assert rewrite_values(args, schema, SpanRules(), request, listed=True) == args
    assert rewrite_values(args, schema, SpanRules(), request, written=True) == args


def test_rules_off_turns_every_rule_off():
    import dataclasses

    off = SpanRules.off()
    on = {f.name for f in dataclasses.fields(SpanRules) if getattr(SpanRules(), f.name) != getattr(off, f.name)}
    assert {"range_order", "past_articles", "named_items", "bare_echoes", "and_clauses", "currency_codes",
            "keyed_numbers", "length_penalty"} <= on
    assert off.empty_strings is True and off.optional_echoes == "keep"
    assert all(not getattr(off, f.name) for f in dataclasses.fields(SpanRules)
               if f.name not in ("empty_strings", "optional_echoes"))
