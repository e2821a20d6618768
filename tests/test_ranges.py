"""Ranges the request writes (runtime/ranges.py, SpanRules.range_order): a start/end pair in the
order the request writes its range."""

from edgeagent.runtime.ranges import in_range_order, range_pairs, written_orders

YEARS = {"type": "object", "properties": {"name": {"type": "string"}, "from_year": {"type": "integer"},
                                          "to_year": {"type": "integer"}}}


def test_range_pairs_match_start_and_end_words_of_one_name():
    assert range_pairs(YEARS) == [("from_year", "to_year")]
    schema = {"properties": {"start_date": {}, "end_date": {}, "min_price": {}, "max_price": {}, "origin": {},
                             "destination": {}, "start_x": {}, "end_y": {}}}
    assert sorted(range_pairs(schema)) == [("min_price", "max_price"), ("origin", "destination"),
                                           ("start_date", "end_date")]
    # a start that would pair with two ends pairs with none
    assert range_pairs({"properties": {"start": {}, "end": {}, "to": {}}}) == []
    assert range_pairs({}) == [] and range_pairs(None) == []


def test_a_swapped_pair_takes_the_written_order():
    request = "Find the criminal cases of Mr. X in New York between 2012 and 2015."
    assert in_range_order({"name": "Mr. X", "from_year": 2015, "to_year": 2012}, YEARS, request) == \
        {"name": "Mr. X", "from_year": 2012, "to_year": 2015}
    # in order already, or no range written: unchanged
    assert in_range_order({"from_year": 2012, "to_year": 2015}, YEARS, request) == {"from_year": 2012, "to_year": 2015}
    assert in_range_order({"from_year": 2015, "to_year": 2012}, YEARS, "cases of 2012, and of 2015") == \
        {"from_year": 2015, "to_year": 2012}
    # strings, in any case; "through" and "-" link a range too
    trip = {"properties": {"origin": {"type": "string"}, "destination": {"type": "string"}}}
    assert in_range_order({"origin": "LA", "destination": "new york"}, trip, "Fly from New York to LA.") == \
        {"origin": "new york", "destination": "LA"}
    assert in_range_order({"from_year": 1945, "to_year": 1871}, YEARS, "events from 1871-1945") == \
        {"from_year": 1871, "to_year": 1945}
    assert in_range_order({"from_year": 1945, "to_year": 1871}, YEARS, "from 1871 through 1945") == \
        {"from_year": 1871, "to_year": 1945}


def test_a_range_written_both_ways_keeps_the_call():
    trip = {"properties": {"origin": {"type": "string"}, "destination": {"type": "string"}}}
    request = "Fly from Boston to Denver, and back from Denver to Boston."
    assert written_orders(request, "Boston", "Denver") == {("Boston", "Denver"), ("Denver", "Boston")}
    assert in_range_order({"origin": "Denver", "destination": "Boston"}, trip, request) == \
        {"origin": "Denver", "destination": "Boston"}


def test_a_number_held_twice_takes_both_ends_of_its_range():
    schema = {"properties": {"start_x": {"type": "number"}, "end_x": {"type": "number"}}}
    request = "The area under the curve from x = -2 to x = 3 for y = x^3."
    assert in_range_order({"start_x": 3, "end_x": 3}, schema, request) == {"start_x": -2, "end_x": 3}
    assert in_range_order({"start_x": -2.0, "end_x": -2.0}, schema, request) == {"start_x": -2.0, "end_x": 3.0}
    # a value the range does not hold, or two ranges that hold it: unchanged
    assert in_range_order({"start_x": 5, "end_x": 5}, schema, request) == {"start_x": 5, "end_x": 5}
    two = "from 1 to 3, then from 3 to 9"
    assert in_range_order({"start_x": 3, "end_x": 3}, schema, two) == {"start_x": 3, "end_x": 3}
    # a word between "from" and the number: no range of numbers
    assert in_range_order({"start_x": 3, "end_x": 3}, schema, "from about 1 to 3") == {"start_x": 3, "end_x": 3}


def test_nothing_to_order_is_left_as_it_is():
    assert in_range_order({"from_year": True, "to_year": False}, YEARS, "from 1 to 2") == \
        {"from_year": True, "to_year": False}
    assert in_range_order({"from_year": 2012}, YEARS, "between 2012 and 2015") == {"from_year": 2012}
    assert in_range_order({"from_year": 2015, "to_year": 2012}, YEARS, "") == {"from_year": 2015, "to_year": 2012}
    assert in_range_order(None, YEARS, "between 2012 and 2015") is None
