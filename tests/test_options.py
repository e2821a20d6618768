"""Options a property's description lists (runtime/options.py, SpanRules.described_members)."""

from edgeagent.runtime.options import described_options
from edgeagent.runtime.rewrite import rewrite_values, with_named_members
from edgeagent.runtime.rules import SpanRules


def _text(description):
    return {"type": "string", "description": description}


def test_quoted_values_and_parenthesized_lists_are_options():
    assert described_options(_text("Resistivity (Default: 'copper'). Allowed values: 'copper', 'aluminum'")) == \
        ["copper", "aluminum"]
    assert described_options(_text("The temperature unit ('Celsius' or 'Fahrenheit').")) == ["Celsius", "Fahrenheit"]
    assert described_options(_text("The type of paint (Watercolor, Oil, Acrylic).")) == ["Watercolor", "Oil", "Acrylic"]


def test_examples_formats_and_single_values_are_no_options():
    assert described_options(_text("The city, e.g. 'Paris', 'Rome'")) is None
    assert described_options(_text("Cities such as 'Paris' or 'Rome'")) is None
    assert described_options(_text("The date in the format 'YYYY-MM-DD' or 'MM/DD'")) is None
    assert described_options(_text("A move the Pokemon may learn. default is 'Run'")) is None
    assert described_options(_text("The user's name (first and last)")) is None
    assert described_options({"type": "string", "enum": ["a", "b"], "description": "('a' or 'b')"}) is None
    assert described_options({"type": "integer", "description": "('1' or '2')"}) is None


WIRE = {"type": "object", "properties": {
    "length": {"type": "integer"},
    "resistivity": _text("Resistivity of the material (Default: 'copper'). Allowed values: 'copper', 'aluminum'")},
    "required": ["length"]}


def test_the_enum_rules_read_the_options_as_members():
    request = "The resistance of a 5 m wire with the resistivity of copper and aluminum"
    # left out: the first of the options the request lists (list_goes_on gives aluminum its call)
    assert with_named_members({"length": 5}, WIRE, request, described=True) == {"length": 5, "resistivity": "copper"}
    assert with_named_members({"length": 5}, WIRE, request, described=False) == {"length": 5}
    # held: the one option the request names
    one = "The resistance of a 5 m aluminum wire"
    assert with_named_members({"length": 5, "resistivity": "wire"}, WIRE, one, chosen=True, described=True) == \
        {"length": 5, "resistivity": "aluminum"}
    assert rewrite_values({"length": 5}, WIRE, SpanRules(), one) == {"length": 5, "resistivity": "aluminum"}
    assert rewrite_values({"length": 5}, WIRE, SpanRules(described_members=False), one) == {"length": 5}
