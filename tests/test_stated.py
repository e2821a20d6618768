"""Dates and times the conversation states (runtime/stated.py), and the pipeline applying them to a
filled call (SpanRules.stated_values)."""

import pytest

from edgeagent.runtime.stated import (RELATIVE, prose_of, restate, restate_count, restate_date, restate_time,
                                      stated_counts, stated_dates, stated_times)


@pytest.mark.parametrize("text, dates", [
    ("How about March 8th?", [(3, 8, None)]),
    ("the 4th of March, then Sept. 12", [(3, 4, None), (9, 12, None)]),
    ("I need it till the 9th of this month", [(None, 9, None)]),       # "this month" names no month
    ("from March 1st until the 6th", [(3, 1, None), (None, 6, None)]),  # the 1st is not read twice
    ("next Friday, or tomorrow", [RELATIVE, RELATIVE]),
    ("You may 2nd it", [(None, 2, None)]),                              # "may" the verb is no month
    ("for 2 people at 7", []),
    ("at closing March.11, 2022", [(3, 11, 2022)]),                     # the year, where stated
    ("starting from 10th December 2022", [(12, 10, 2022)]),
    ("on 5 May, or June 3rd, 2019", [(5, 5, None), (6, 3, 2019)]),
    ("for 2 nights in 2022", []),                                        # a year alone is no date
])
def test_stated_dates(text, dates):
    assert stated_dates(text) == dates


@pytest.mark.parametrize("text, times", [
    ("evening 4:30", [(16, 30, True)]),
    ("at a quarter to 1 in the afternoon", [(12, 45, True)]),
    ("half past 6 in the morning", [(6, 30, True)]),
    ("11:45 am, or 12 am", [(11, 45, True), (0, 0, True)]),
    ("at noon", [(12, 0, True)]),
    ("at 4 pm", [(16, 0, True)]),
    ("15:45", [(15, 45, True)]),
    ("4:30", [(4, 30, False)]),                                  # morning or afternoon: open
    ("seven o'clock", [(7, 0, False)]),
    ("a table for 2 people at 7", []),                           # a bare number is no time
])
def test_stated_times(text, times):
    assert stated_times(text) == times


@pytest.mark.parametrize("text, counts", [
    ("a table for two people", [2]),
    ("3 tickets, then 4 adult tickets", [3, 4]),
    ("book it for 4 of us", [4]),
    ("a room for 3 nights", []),                                 # a stay, not a head count
    ("for 7 pm on the 2nd", []),
])
def test_stated_counts(text, counts):
    assert stated_counts(text) == counts


def test_a_head_count_in_a_string_takes_the_latest_stated_count():
    assert restate_count("1", ["Two tickets please", "Make it three tickets"]) == "3"
    assert restate_count("1", ["no count here"]) == "1"
    texts = ["I need three tickets on the 2nd"]
    assert restate({"number_of_tickets": "1", "star_rating": "2"}, texts) == {"number_of_tickets": "3",
                                                                             "star_rating": "2"}
    assert restate({"star_rating": "2"}, texts) == {"star_rating": "2"}          # not a head count's name
    assert restate({"party_size": 1}, texts) == {"party_size": 1}                # an integer is copy_numbers' job
    two = {"number_of_rooms": "1", "number_of_adults": "1"}
    assert restate(two, texts) == two


def test_a_generated_date_takes_the_parts_the_conversation_states():
    assert restate_date("2019-03-01", ["Book it for March 8th."]) == "2019-03-08"
    assert restate_date("2019-03-01", ["On the 12th", "Sure."]) == "2019-03-12"           # the month is kept
    assert restate_date("2021-01-05", ["May 3rd, then next Friday"]) == "2021-01-05"      # relative last: kept
    assert restate_date("2019-02-01", ["the 30th"]) == "2019-02-01"                       # no such day: kept
    assert restate_date("March 8th", ["March 9th"]) == "March 8th"                        # not an ISO date
    assert restate_date("2019-03-01", ["the 4th of March", "No, the 5th of April"]) == "2019-04-05"  # the latest
    assert restate_date("2010-00-01", ["the stock price at closing March.11, 2022"]) == "2022-03-11"  # the year too


def test_a_generated_time_takes_the_latest_stated_time():
    assert restate_time("11:00", ["at 7:30 pm", "No, evening 8:15"]) == "20:15"
    assert restate_time("16:00", ["4:30"]) == "16:30" and restate_time("05:00", ["4:30"]) == "04:30"
    assert restate_time("1:30", ["afternoon 1:30"]) == "13:30"
    assert restate_time("11:00", ["no time here"]) == "11:00"


def test_restate_reads_one_date_and_one_time_per_call():
    texts = ["Dinner on March 8th at 7 pm for 2"]
    args = {"date": "2019-03-01", "time": "11:00", "party_size": 2, "city": "Paris"}
    assert restate(args, texts) == {"date": "2019-03-08", "time": "19:00", "party_size": 2, "city": "Paris"}
    short = {"pickup_time": "1:30", "scale": "1:50"}
    assert restate(short, ["afternoon 1:30"]) == {"pickup_time": "13:30", "scale": "1:50"}   # a ratio is no time
    two = {"check_in": "2019-03-01", "check_out": "2019-03-02"}
    assert restate(two, texts) == two                      # whose date is whose is not read


def test_prose_is_the_users_and_the_assistants_text():
    messages = [{"role": "system", "content": "today is May 1st"},
                {"role": "user", "content": [{"type": "text", "text": "March 8th"}]},
                {"role": "assistant", "content": None, "tool_calls": []},
                {"role": "tool", "content": "at 12:00"},
                {"role": "assistant", "content": "Booked for 7 pm."}]
    assert prose_of(messages) == ["March 8th", "", "Booked for 7 pm."]


def test_the_pipeline_restates_a_filled_date_unless_the_rule_is_off_or_the_schema_refuses(tiny_backend, monkeypatch):
    """The filled call's date and time are restated from the conversation; SpanRules.off() keeps the
    slot filler's values, and so does a schema the restated value would break."""
    pytest.importorskip("torch")
    import dataclasses
    import json

    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo
    from edgeagent.runtime.rules import SpanRules
    from edgeagent.runtime.pipeline import Pipeline, PipelineConfig

    monkeypatch.setattr(pipeline_mod, "fill_and_decode", lambda *a, **kw: (
        {"date": "2019-03-01", "time": "11:00"}, None, FillInfo(), None))
    date = {"type": "string"}
    tools = [{"type": "function", "function": {"name": "book", "parameters": {
        "type": "object", "properties": {"date": date, "time": {"type": "string"}}, "required": ["date", "time"]}}}]
    request = {"messages": [{"role": "user", "content": "A table on March 8th"},
                            {"role": "assistant", "content": "At what time?"},
                            {"role": "user", "content": "evening 7:30"}],
               "tools": tools, "tool_choice": "required"}
    args = lambda p: json.loads(p.respond(request)["tool_calls"][0]["function"]["arguments"])
    assert args(Pipeline(tiny_backend, PipelineConfig(max_calls=1))) == {"date": "2019-03-08", "time": "19:30"}
    assert args(Pipeline(tiny_backend, PipelineConfig(max_calls=1, rules=SpanRules.off()))) == \
        {"date": "2019-03-01", "time": "11:00"}
    date["pattern"] = "^2019-03-0[1-5]$"                   # the restated call would break it: the filled one stays
    assert args(Pipeline(tiny_backend, dataclasses.replace(PipelineConfig(max_calls=1)))) == \
        {"date": "2019-03-01", "time": "11:00"}


@pytest.mark.parametrize("value, iso", [
    ("20th May 2021", "2021-05-20"),
    ("March 11, 2022", "2022-03-11"),
    ("December 10th, 2022", "2022-12-10"),
    ("the 8th of March 2019", "2019-03-08"),
    ("May 5", None),                                   # no year
    ("2021", None),
    ("July 1st, 2021 - July 5th", None),               # a range
    ("February 30, 2021", None),                       # no such day
    ("2022-01-01 in the morning", "2022-01-01"),       # the words after an ISO date go
    ("2022-01-01 to 2022-01-05", None),
])
def test_iso_date(value, iso):
    from edgeagent.runtime.stated import iso_date

    assert iso_date(value) == iso


def test_iso_dates_rewrite_only_a_date_property_that_asks_for_no_other_format():
    from edgeagent.runtime.stated import iso_dates

    schema = {"properties": {"start_date": {"type": "string"}, "note": {"type": "string"},
                             "due_date": {"type": "string", "description": "Due date, MM/DD/YYYY."},
                             "end_date": {"type": "string", "description": "In the format YYYY-MM-DD, not MM/DD."}}}
    args = {"start_date": "10th December 2022", "note": "March 11, 2022", "due_date": "March 11, 2022",
            "end_date": "March 12, 2022"}
    assert iso_dates(args, schema) == {"start_date": "2022-12-10", "note": "March 11, 2022",
                                       "due_date": "March 11, 2022", "end_date": "2022-03-12"}
    assert iso_dates({"date": "today"}, None) == {"date": "today"}


HOTEL = {"type": "object", "properties": {
    "hotel_name": {"type": "string"},
    "check_in_date": {"type": "string", "description": "Check-in date. Format - DD-MM-YYYY."},
    "check_out_date": {"type": "string", "description": "Check-out date in the format YYYY-MM-DD."},
    "start_date": {"type": "string"}, "date_kind": {"type": "string", "enum": ["2022", "other"]}}}


def test_full_dates_read_whole_dates_only():
    from edgeagent.runtime.stated import full_dates

    assert [w for w, _ in full_dates("from March 10, 2022 to 15th October,2023 or 2024-01-02")] == \
        ["March 10, 2022", "15th October,2023", "2024-01-02"]
    # no year, a year alone, an impossible day: no whole date
    assert full_dates("on March 10th of the year 2022, or February 30, 2022") == []


def test_a_piece_of_a_whole_date_or_a_cut_date_takes_the_date_in_the_format_asked():
    from edgeagent.runtime.stated import whole_dates

    request = "Book 'Royal Hotel' from March 10, 2022 to March 20, 2022, then May 12, 2022 onwards."
    # a piece takes the first whole date holding it; a cut date the first date left
    args = {"hotel_name": "Royal Hotel", "check_in_date": "2022", "check_out_date": "201-0-01"}
    assert whole_dates(args, HOTEL, request) == {"hotel_name": "Royal Hotel", "check_in_date": "10-03-2022",
                                                 "check_out_date": "2022-03-20"}
    # a date another value holds is not taken again; a piece names its own date
    args = {"check_in_date": "March 10, 2022", "check_out_date": "May 12", "start_date": "20-"}
    assert whole_dates(args, HOTEL, request) == {"check_in_date": "March 10, 2022", "check_out_date": "2022-05-12",
                                                 "start_date": "2022-03-20"}


def test_whole_dates_leave_what_is_no_piece_of_a_date():
    from edgeagent.runtime.rewrite import rewrite_values
    from edgeagent.runtime.rules import SpanRules
    from edgeagent.runtime.stated import whole_dates

    request = "Book the Plaza from 1st June 2022 for 3 nights."
    # a whole date in digits, a word, an empty value, an enum, a property not named a date: kept
    args = {"check_in_date": "01-06-2022", "check_out_date": "nights", "start_date": "", "date_kind": "2022",
            "hotel_name": "2022"}
    assert whole_dates(args, HOTEL, request) == args
    assert whole_dates({"start_date": "2022"}, HOTEL, "Book the Plaza in 2022") == {"start_date": "2022"}
    # a date in digits with no such day is cut short; then the piece finds its date taken
    stay = {"type": "object", "properties": {"start_date": {"type": "string"}, "end_date": {"type": "string"}}}
    assert whole_dates({"start_date": "2010-03-0", "end_date": "2022"}, stay, request) == \
        {"start_date": "2022-06-01", "end_date": "2022"}
    # in the value chain: on unless the rule is off, and not for a call the trunk wrote
    start = {"type": "object", "properties": {"start_date": HOTEL["properties"]["start_date"]}}
    assert rewrite_values({"start_date": "2010-0"}, start, SpanRules(), request) == {"start_date": "2022-06-01"}
    assert rewrite_values({"start_date": "2010-0"}, start, SpanRules(whole_dates=False), request) == \
        {"start_date": "2010-0"}
    assert rewrite_values({"start_date": "2010-0"}, start, SpanRules(), request, written=True) == \
        {"start_date": "2010-0"}
