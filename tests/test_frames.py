"""Values a request writes again after the same key words (runtime/frames.py, SpanRules.keyed_frames)."""

from edgeagent.runtime.frames import holds_new, key_before, next_frame, value_count

CASES = ("What is the status of case number XY1234 in Los Angeles County Court, and case number GH5678 in "
         "Orange County Court?")
LAWSUITS = ('Retrieve all lawsuits involving the entity "Google" from the county of "Santa Clara" and then do the '
            'same for the entity "Facebook" in the county of "San Mateo", both in the state of California?')


def _frame(text, args, calls=()):
    f = next_frame(text, args, list(calls))
    return f and (f.values, [text[a:b] for a, b in f.walls], text[f.start:f.start + 14])


def test_key_words_run_back_to_the_nearest_content_word():
    assert key_before(CASES, CASES.index("XY1234"))[1] == ("number",)
    assert key_before(LAWSUITS, LAWSUITS.index('"Santa'))[1] == ("county", "of")
    assert key_before(LAWSUITS, LAWSUITS.index('"Google'))[1] == ("entity",)
    assert key_before("So it is in Paris", 11) is None                 # "it is in": no content word
    assert key_before("size 10, 20", 9) is None                        # a number comes first


def test_a_key_written_again_with_a_new_value_opens_a_frame():
    assert _frame(CASES, {"case_number": "XY1234", "court": "Los Angeles County Court"}) == \
        (("GH5678",), ["number XY1234 in Los Angeles County Court, and case "], "number GH5678 ")
    assert _frame(LAWSUITS, {"entity": "Google", "county": "Santa Clara"}) == \
        (("Facebook", "San Mateo"), ['entity "Google" from the county of "Santa Clara" and then do the same for the '],
         'entity "Facebo')
    # the new frame writes fewer values than the old one ("the same, but ..."): only the old value is walled
    ci = "A sample size of 50 and sample mean of 25? And the same for a sample size of 150 instead?"
    assert _frame(ci, {"sample_size": 50, "sample_mean": 25}) == ((150.0,), ["50"], "size of 150 in")


def test_values_are_numbers_quotes_codes_and_capitalized_runs():
    assert value_count("number XY1234 in Los Angeles County Court, and case ") == 2
    assert value_count("size of 50 and mean of 25? And can you do the same") == 2   # not "And" alone
    assert value_count('the entity "Google" from the county of "Santa Clara"') == 2


def test_no_frame_where_the_calls_hold_the_new_values_already():
    trip = "Book a flight from the city of Paris to the city of Rome."
    assert _frame(trip, {"origin": "Paris", "destination": "Rome"}) is None
    assert _frame(CASES, {"case_number": "XY1234"}, [{"case_number": "GH5678"}]) is None
    assert _frame("Weather in Paris today.", {"city": "Paris"}) is None


def test_the_next_frame_is_looked_for_after_the_latest():
    three = "Get case number A1 now, case number B2 later and case number C3 last."
    first = next_frame(three, {"case": "A1"}, [])
    assert first.values == ("B2",)
    assert next_frame(three, {"case": "B2"}, [{"case": "A1"}], first.start).values == ("C3",)
    assert holds_new({"case": "b2"}, first) and not holds_new({"case": "A1"}, first)
