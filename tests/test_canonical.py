"""SpanRules.canonical_case: a copied string spelled as the conversation's tool results spell it."""

from edgeagent.runtime.canonical import canonical_case, spelled, tool_texts

SAID = ['{"pickup_location": "Pacific Central Station", "city": "Vancouver"}', "Hill Valley Apartments: 2 baths"]


def test_a_value_the_tools_write_in_another_case_takes_their_spelling():
    assert spelled("pacific central station", SAID) == "Pacific Central Station"
    assert spelled("Hill valley apartments", SAID) == "Hill Valley Apartments"
    assert spelled("Vancouver", SAID) == "Vancouver"                        # written as it is: kept
    assert spelled("Seattle", SAID) == "Seattle"                            # not written: kept
    assert spelled("ba", ["BA"]) == "ba"                                    # under three characters
    assert spelled("van", SAID) == "van"                                    # part of a word is no match
    assert spelled("vancouver", ["vancouver tours", "Vancouver"]) == "vancouver"   # one tool writes it so


def test_only_tool_messages_are_read_and_enum_members_stay():
    messages = [{"role": "user", "content": "a car at pacific central station"},
                {"role": "assistant", "content": "PACIFIC CENTRAL STATION?"},
                {"role": "tool", "content": SAID[0]}]
    texts = tool_texts(messages)
    assert len(texts) == 1 and "Pacific Central Station" in texts[0]
    schema = {"type": "object", "properties": {"where": {"type": "string"},
                                               "city": {"type": "string", "enum": ["vancouver", "Vancouver"]},
                                               "stops": {"type": "array", "items": {"type": "string"}}}}
    args = {"where": "pacific central station", "city": "vancouver", "stops": ["hill valley apartments", 3]}
    assert canonical_case(args, schema, texts + [SAID[1]]) == {
        "where": "Pacific Central Station", "city": "vancouver", "stops": ["Hill Valley Apartments", 3]}
    assert canonical_case(args, schema, []) == args
