"""Numbers the request writes that no call holds (runtime/owed.py)."""

from edgeagent.runtime.owed import held_numbers, numbers_owed, pay_owed, written_numbers


def test_numbers_written_on_their_own():
    text = "x2 5m 2022-03-11 at 10:30, -3 and 60,000 or 5% then 3.5."
    assert written_numbers(text) == {-3.0, 60000.0, 5.0, 3.5}


def test_a_call_holds_numbers_as_values_percentages_and_inside_strings():
    assert held_numbers({"rate": 0.05, "f": "3x^2 + 2", "xs": [1, {"y": 4}], "ok": True}) >= {5.0, 3.0, 2.0, 1.0, 4.0}
    assert 1.0 not in held_numbers({"ok": True})                        # a boolean is no number


def test_owed_numbers_are_the_written_ones_no_call_holds():
    request = "BMI for 1.8 m and 80 kg, also for 1.6 m and 60 kg, at a 5% margin."
    assert numbers_owed(request, [{"height": 1.8, "weight": 80, "margin": 0.05}]) == {1.6, 60.0}
    assert numbers_owed(request, [{"height": 1.8, "weight": 80, "margin": 5}, {"height": 1.6, "weight": 60}]) == set()


def test_a_repeated_number_takes_the_owed_number_written_in_its_place():
    """SpanRules.owed_repeats: the k-th owed number for the value that repeats the earlier call's k-th
    number; nothing where the counts differ or nothing repeats."""
    bmi = "BMI for 1.8 m and 80 kg, also for 1.6 m and 60 kg."
    first = {"weight": 80, "height": 1.8}
    assert pay_owed({"weight": 80, "height": 2}, [first], {1.6, 60.0}, bmi) == {"weight": 60, "height": 2}
    assert pay_owed({"weight": 80, "height": 1.8}, [first], {1.6, 60.0}, bmi) == {"weight": 60, "height": 1.6}
    assert pay_owed({"weight": 80, "height": 1.8}, [first], {60.0}, bmi) == first        # 2 numbers, 1 owed
    assert pay_owed({"weight": 7, "height": 2}, [first], {1.6, 60.0}, bmi) == {"weight": 7, "height": 2}
    cases = "cases filed in 2019, also list cases filed in the year 2018"
    assert pay_owed({"year": 2018}, [{"year": 2018}], {2019.0}, cases) == {"year": 2019}
    assert pay_owed({"year": 2018}, [], {2019.0}, cases) == {"year": 2018}


def test_lead_clauses_open_with_a_lead_word_after_the_first_words():
    from edgeagent.runtime.owed import lead_clauses

    text = "Get the soup recipe. Also, the salad one, and then the bread one. Finally, stop."
    assert lead_clauses(text) == ["Also, the salad one", ", and then the bread one. ", "Finally, stop."]
    # a lead word that opens the text, or sits inside a sentence ("next Friday", "also"), opens none
    assert lead_clauses("Also, get the soup recipe") == []
    assert lead_clauses("Book it for next Friday, I also want a view.") == []


def test_a_lead_clause_is_owed_where_no_call_holds_its_values_and_calls_are_few():
    from edgeagent.runtime.owed import clauses_owed, holds_clause

    text = "Area for base 10 and height 5. Also, the area for base 7 and height 3, in cm."
    also = "Also, the area for base 7 and height 3, in cm."
    assert holds_clause({"base": 7}, also) and holds_clause({"unit": "CM"}, also)
    assert holds_clause({"units": ["cm"]}, also)
    assert not holds_clause({"base": 10, "height": 5}, also) and not holds_clause({"unit": "c"}, also)
    assert clauses_owed(text, [{"base": 10, "height": 5}]) == [also]
    assert clauses_owed(text, [{"base": 10, "height": 3}]) == []            # a call holds its 3
    # as many calls as the request's first words and its lead clauses: nothing owed
    assert clauses_owed(text, [{"base": 10, "height": 5}, {"base": 1, "height": 1}]) == []
