"""A percentage the request writes, as the schema asks for it (runtime/percent.py)."""

from edgeagent.runtime.percent import asks_fraction, percent_fractions


def _schema(**descriptions):
    return {"type": "object", "properties": {k: {"type": "number", "description": d}
                                             for k, d in descriptions.items()}}


def test_only_a_description_that_asks_for_a_decimal_asks_a_fraction():
    assert asks_fraction({"type": "number", "description": "The annual interest rate. Enter as a decimal."})
    assert asks_fraction({"type": "number", "description": "The interest rate per period (e.g., 0.05 for 5%)"})
    assert asks_fraction({"type": ["number", "null"], "description": "The tip as a fraction of the bill"})
    assert not asks_fraction({"type": "number", "description": "The annual interest rate"})
    assert not asks_fraction({"type": "number", "description": "The increase (e.g., 5.0 for a 5% increase)"})
    assert not asks_fraction({"type": "number", "description": "Round to 2 decimal places"})
    assert not asks_fraction({"type": "integer", "description": "The rate as a decimal"})
    assert not asks_fraction({"type": "number"})


def test_a_value_written_as_a_percentage_becomes_the_fraction_the_schema_asks_for():
    schema = _schema(rate="The annual interest rate, as a decimal", tip="The tip percentage",
                     years="The number of years, as a decimal")
    request = "Compound $10,000 at an annual rate of 4.5% for 5 years, and tip 15 percent."
    args = {"rate": 4.5, "tip": 15, "years": 5}
    assert percent_fractions(args, schema, request) == {"rate": 0.045, "tip": 15, "years": 5}
    assert args == {"rate": 4.5, "tip": 15, "years": 5}                     # not changed in place
    assert percent_fractions({"rate": 0.045}, schema, request) == {"rate": 0.045}   # a fraction already
    assert percent_fractions({"rate": 4.5}, schema, "at a rate of 4.5 a year") == {"rate": 4.5}
    assert percent_fractions({"rate": True}, schema, request) == {"rate": True}
    assert percent_fractions({"rate": 0.5}, schema, "at 0.5% a month") == {"rate": 0.005}
