"""The scaffold's API details: special ids, masks, budgets, errors; and the real tokenizer (marked model)."""

import types

import numpy as np
import pytest

from edgeagent.scaffold import ArgumentError, Budgets, SchemaError, compile_schema
from edgeagent.scaffold.testing import real_tokenizer, tiny_tokenizer

SCHEMA = {"type": "object", "required": ["city"], "properties": {
    "city": {"type": "string"}, "days": {"type": "integer", "default": 3}, "temp": {"type": "number"},
    "unit": {"enum": ["celsius", "fahrenheit"]}, "alerts": {"type": "boolean"},
    "when": {"type": ["string", "null"]}, "stops": {"type": "array", "items": {"type": "string"}}}}
ARGS = {"city": "Zürich \"Old Town\"", "days": 5, "temp": -3.5e-2, "unit": "celsius", "alerts": True,
        "when": None, "stops": ["a", ""]}


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


@pytest.mark.parametrize("impl", ["cpp", "python"])
def test_special_ids_positions_and_masks(tok, impl):
    sc = compile_schema(SCHEMA, tok, impl=impl)
    V = tok.get_vocab_size(with_added_tokens=True)
    assert (sc.vocab_size, sc.null_id, sc.mask_id) == (V, V, V + 1)
    assert sorted(np.concatenate([s.positions for s in sc.slots])) == sorted(sc.slot_positions)
    assert sc.is_slot.sum() == len(sc.slot_positions) == sum(s.budget for s in sc.slots)
    ids = sc.encode(ARGS)
    for s in sc.slots:
        mask = sc.allowed_mask(s)
        assert mask.shape == (V + 2,) and mask[sc.null_id] and not mask[sc.mask_id]
        if s.kind not in ("string", "json"):
            assert mask[ids[s.positions]].all(), s
    unit = next(s for s in sc.slots if s.pointer == "/unit")
    assert unit.kind == "choice" and len(unit.choices) == 2
    assert set(np.flatnonzero(unit.allowed)) == {t for c in unit.choices for t in c} | {sc.null_id}
    days = next(s for s in sc.slots if s.pointer == "/days")
    assert days.has_default and days.default == 3
    special = tok.token_to_id("<|endoftext|>")
    assert not any(sc.allowed_mask(i)[special] for i in range(len(sc.slots)))


def test_class_masks_agree_and_follow_the_rules(tok):
    cpp, py = compile_schema(SCHEMA, tok, impl="cpp"), compile_schema(SCHEMA, tok, impl="python")
    from edgeagent.scaffold.vocab import entry_for

    e = entry_for(tok)
    for kind in ("string", "integer", "number", "json"):
        assert e.core("cpp").class_mask(kind) == e.core("python").class_mask(kind)
    integer = np.frombuffer(e.core("cpp").class_mask("integer"), dtype=np.uint8).astype(bool)
    digits = {tok.token_to_id(d) for d in "0123456789-"}
    assert digits <= set(np.flatnonzero(integer)) and tok.token_to_id(".") not in set(np.flatnonzero(integer))
    string = np.frombuffer(e.core("cpp").class_mask("string"), dtype=np.uint8).astype(bool)
    quote = tok.token_to_id('"')
    assert not string[quote] and string[tok.token_to_id("a")]
    assert cpp.length == py.length


def test_budget_overrides_and_over_budget_error(tok):
    sc = compile_schema(SCHEMA, tok, string=3, budgets={"/city": 40, "/stops": 1})
    assert next(s for s in sc.slots if s.pointer == "/city").budget == 40
    assert [s.pointer for s in sc.slots if s.pointer.startswith("/stops/")] == ["/stops/0", "/stops/0"]
    with pytest.raises(ArgumentError) as e:
        sc.encode({"city": "x", "stops": ["a", "b"]})
    assert e.value.pointer == "/stops" and "2 items" in e.value.reason
    with pytest.raises(ArgumentError) as e:
        sc.encode({"city": "ok", "when": "a much longer value than three tokens"})
    assert e.value.pointer == "/when" and "budget" in str(e.value)
    with pytest.raises(ArgumentError) as e:
        sc.encode({"city": "ok", "stops": ["tokyo paris new york"]})
    assert e.value.pointer == "/stops/0" and "needs" in e.value.reason
    with pytest.raises(TypeError):
        compile_schema(SCHEMA, tok, strnig=3)
    with pytest.raises(ValueError):
        compile_schema(SCHEMA, tok, string=0)
    assert Budgets().string >= 16


@pytest.mark.parametrize("impl", ["cpp", "python"])
def test_decode_errors(tok, impl):
    sc = compile_schema(SCHEMA, tok, impl=impl)
    ids = sc.encode(ARGS)
    cases = []
    cases.append((ids[:-1], ""))
    lit = ids.copy(); lit[0] = sc.null_id; cases.append((lit, ""))
    masked = ids.copy(); masked[sc.slots[0].start] = sc.mask_id; cases.append((masked, "/city"))
    empty = ids.copy(); days = next(s for s in sc.slots if s.pointer == "/days")
    empty[days.positions] = sc.null_id
    assert sc.decode(empty) == {k: v for k, v in ARGS.items() if k != "days"}
    letters = ids.copy(); letters[days.start] = tok.token_to_id("a"); cases.append((letters, "/days"))
    special = ids.copy(); special[days.start] = tok.token_to_id("<|endoftext|>"); cases.append((special, "/days"))
    unit = next(s for s in sc.slots if s.pointer == "/unit")
    bad_choice = ids.copy(); bad_choice[unit.start] = tok.token_to_id("a"); cases.append((bad_choice, "/unit"))
    required = ids.copy(); required[sc.slots[0].positions] = sc.null_id
    assert sc.decode(required)["city"] == ""
    for bad, pointer in cases:
        with pytest.raises(ArgumentError) as e:
            sc.decode(bad)
        assert e.value.pointer == pointer
    with pytest.raises(ArgumentError):
        sc.decode([[1, 2]])
    with pytest.raises(ArgumentError):
        sc.decode(["a"] * sc.length)


def test_argument_and_schema_input_errors(tok):
    sc = compile_schema(SCHEMA, tok)
    for bad in (None, [], {"city": float("nan")}, {"city": object()}, {"city": "\ud800"}):
        with pytest.raises(ArgumentError):
            sc.encode(bad)
    for bad in ({"type": "object", "properties": {"a": {"type": "number", "default": float("inf")}}},
                {"type": "object", "properties": {"a": {1, 2}}}, None, "schema", []):
        with pytest.raises(SchemaError):
            compile_schema(bad, tok)


def test_transformers_style_tokenizer_and_non_byte_level(tok):
    wrapped = types.SimpleNamespace(backend_tokenizer=tok)
    assert compile_schema(SCHEMA, wrapped).decode(compile_schema(SCHEMA, wrapped).encode(ARGS)) == ARGS
    from tokenizers import Tokenizer, models, pre_tokenizers

    wl = Tokenizer(models.WordLevel({"a": 0, "[UNK]": 1}, unk_token="[UNK]"))
    wl.pre_tokenizer = pre_tokenizers.Whitespace()
    with pytest.raises(ValueError, match="byte-level"):
        compile_schema(SCHEMA, wl)


@pytest.fixture(scope="module")
def real():
    t = real_tokenizer()
    if t is None:
        pytest.skip("set EDGEAGENT_TOKENIZER to a tokenizer.json (e.g. SmolLM2's) to run")
    return t


@pytest.mark.model
def test_real_tokenizer_round_trip_and_agreement(real):
    sc = compile_schema(SCHEMA, real, impl="both")
    assert sc.decode(sc.encode(ARGS)) == ARGS
    unicode_args = {"city": "東京 😀 naïve", "stops": ["\u0001", "ß"], "temp": 1e+300}
    assert sc.decode(sc.encode(unicode_args)) == unicode_args
    ids = sc.encode({"city": "Tokyo"})
    city = sc.slots[0]
    assert real.decode([int(t) for t in ids[city.positions] if t != sc.null_id]) == "Tokyo"


@pytest.mark.model
def test_real_tokenizer_masks(real):
    sc = compile_schema(SCHEMA, real, impl="both")
    days = next(s for s in sc.slots if s.pointer == "/days")
    allowed = {real.id_to_token(int(i)) for i in np.flatnonzero(days.allowed[:sc.vocab_size])}
    assert {str(d) for d in range(10)} <= allowed and all(set(t) <= set("0123456789-") for t in allowed)
    specials = [real.token_to_id(t) for t in ("<|im_start|>", "<|im_end|>") if real.token_to_id(t) is not None]
    assert specials and not any(sc.slots[0].allowed[specials])
