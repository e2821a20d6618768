"""Currencies the request names, as the codes a currency property takes (runtime/currency.py,
SpanRules.currency_codes)."""

from edgeagent.runtime.currency import currency_codes, currency_of, named_currencies
from edgeagent.runtime.rewrite import rewrite_values
from edgeagent.runtime.rules import SpanRules

CONVERT = {"type": "object", "properties": {
    "base_currency": {"type": "string", "description": "The currency to convert from."},
    "target_currency": {"type": "string", "description": "The currency to convert to."},
    "amount": {"type": "number"}}, "required": ["base_currency", "target_currency", "amount"]}


def test_names_and_codes_read_as_codes():
    assert currency_of("Euros") == "EUR" and currency_of("usd") == "USD"
    assert currency_of("Canadian dollars") == "CAD" and currency_of("dollars") == "USD"
    assert currency_of("British Pound") == "GBP" and currency_of("E") is None
    assert currency_of("the Louvre") is None
    # the longest name wins where it starts: Canadian dollars are not US dollars
    assert named_currencies("Convert 150 Euros to Canadian dollars, then 20 USD to euro") == ["EUR", "CAD", "USD"]
    assert named_currencies("Get the exchange rate from British pounds to Japanese yen.") == ["GBP", "JPY"]
    # no currency named; a code only in capitals (a "try" is no Turkish lira)
    assert named_currencies("Let me try again in 2 hours") == []


def test_a_value_that_names_no_currency_of_the_request_takes_the_one_left():
    request = "Calculate the current cost in British Pounds if I need to convert 200 US dollars."
    args = {"base_currency": "USD", "target_currency": "EUR", "amount": 200}
    assert currency_codes(args, CONVERT, request) == {"base_currency": "USD", "target_currency": "GBP", "amount": 200}
    # two astray: the request's currencies in its order, to the properties in the schema's
    request = "Get me the latest exchange rate from British Pounds to Japanese Yen."
    assert currency_codes({"base_currency": "USD", "target_currency": "E", "amount": 1}, CONVERT, request) == \
        {"base_currency": "GBP", "target_currency": "JPY", "amount": 1}


def test_a_named_currency_is_written_as_its_code():
    request = "Convert 150 Euros to Canadian dollars."
    args = {"base_currency": "E", "target_currency": "Canadian dollars", "amount": 150}
    assert currency_codes(args, CONVERT, request) == {"base_currency": "EUR", "target_currency": "CAD", "amount": 150}


def test_currencies_stay_where_the_request_names_none_or_none_is_left():
    args = {"base_currency": "USD", "target_currency": "EUR", "amount": 5}
    assert currency_codes(args, CONVERT, "How much is 5 of it in the other one?") == args
    # both the request's currencies held: the stray value keeps what it has
    three = {"type": "object", "properties": {**CONVERT["properties"], "fee_currency": {"type": "string"}}}
    held = {"base_currency": "USD", "target_currency": "EUR", "fee_currency": "XYZ", "amount": 5}
    assert currency_codes(held, three, "Convert 5 USD to EUR") == held
    # an enum is named_members' case, and a property not named a currency is not read
    enum = {"type": "object", "properties": {"currency": {"type": "string", "enum": ["USD", "EUR"]},
                                             "to": {"type": "string"}}}
    assert currency_codes({"currency": "USD", "to": "Euros"}, enum, "from pounds to Euros") == \
        {"currency": "USD", "to": "Euros"}


def test_the_rule_runs_in_the_value_chain_as_the_rules_say():
    request = "Get the exchange rate from British pounds to Japanese yen with the fee 0.02 included."
    args = {"base_currency": "USD", "target_currency": "EUR", "amount": 0.02}
    assert rewrite_values(args, CONVERT, SpanRules(), request) == \
        {"base_currency": "GBP", "target_currency": "JPY", "amount": 0.02}
    assert rewrite_values(args, CONVERT, SpanRules(currency_codes=False), request) == args
    assert rewrite_values(args, CONVERT, SpanRules(), request, written=True) == args
    # a list's next element is written as a code, and its call takes no currency it does not hold
    request = "Convert 10 Euros to Canadian dollars and British pounds."
    listed = {"base_currency": "E", "target_currency": "British pounds", "amount": 10}
    assert rewrite_values(listed, CONVERT, SpanRules(), request, listed=True) == {**listed, "target_currency": "GBP"}
    # a code that breaks the schema's pattern is not taken
    strict = {"type": "object", "properties": {**CONVERT["properties"],
                                               "target_currency": {"type": "string", "pattern": "^[a-z]+$"}}}
    assert rewrite_values(args, strict, SpanRules(), request) == args
