"""One golden table of schema cases (tests/scaffold_golden.json), run against both implementations.

Each case fixes the tokenizer-independent layout (literal text with <kind:budget> slots), the slot
list, arguments that must round-trip and arguments that must fail at a given pointer; each error
case fixes the schema pointer of the SchemaError.
"""

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from edgeagent.scaffold import ArgumentError, SchemaError, compile_schema
from edgeagent.scaffold.testing import layout_text, tiny_tokenizer

GOLDEN = json.loads((Path(__file__).parent / "scaffold_golden.json").read_text(encoding="utf-8"))
IMPLS = ["cpp", "python"]


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda c: c["name"])
def test_layout_and_round_trip(case, impl, tok):
    sc = compile_schema(case["schema"], tok, impl=impl, **{**GOLDEN["budgets"], **case["budgets"]})
    assert layout_text(sc) == case["layout"]
    assert [[s.pointer, s.kind, s.required] for s in sc.slots] == case["slots"]
    masked = sc.masked()
    assert np.array_equal(masked == sc.mask_id, sc.is_slot)
    for args in case["valid"]:
        jsonschema.validate(args, case["schema"])
        ids = sc.encode(args)
        assert np.array_equal(ids[~sc.is_slot], masked[~sc.is_slot])
        assert not (ids == sc.mask_id).any()
        out = sc.decode(ids)
        assert out == args
        jsonschema.validate(out, case["schema"])
    for bad in case["invalid"]:
        with pytest.raises(ArgumentError) as e:
            sc.encode(bad["arguments"])
        assert e.value.pointer == bad["pointer"]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("case", GOLDEN["errors"], ids=lambda c: c["name"])
def test_schema_errors(case, impl, tok):
    kw = {"array_items": 20} if case["name"] == "too long" else {}
    with pytest.raises(SchemaError) as e:
        compile_schema(case["schema"], tok, impl=impl, **kw)
    assert e.value.pointer == case["pointer"]
    assert e.value.reason == case["reason"]
    assert case["pointer"] in str(e.value) or case["pointer"] == ""
    assert case["reason"] in str(e.value)


def test_golden_table_is_substantial():
    assert len(GOLDEN["cases"]) >= 25 and len(GOLDEN["errors"]) >= 30
