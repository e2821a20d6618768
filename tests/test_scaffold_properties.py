"""Property tests: random schemas and valid arguments; C++ == Python, and the round-trip law.

impl="both" compiles, encodes and decodes with both implementations and raises
ImplementationMismatch on any difference (ids, slots, errors, decoded text).
"""

import json

import jsonschema
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeagent.scaffold import ArgumentError, SchemaError, compile_schema
from edgeagent.scaffold.testing import tiny_tokenizer

BUDGETS = dict(string=48, integer=24, number=32, json=48, array_items=3, max_len=4096)
SETTINGS = settings(max_examples=300, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))

keys = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=4)
texts = st.text(st.characters(codec="utf-8"), max_size=6)
numbers = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from([0.0, -0.0, 1e-7, -2.5e+30, 1.5, 100.0]))
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)


def _scalar_schema():
    simple = st.sampled_from([{"type": t} for t in ("string", "integer", "number", "boolean", "null")])
    enum = st.lists(scalars, min_size=1, max_size=4).map(lambda v: {"enum": v})
    const = scalars.map(lambda v: {"const": v})
    nullable = st.sampled_from(["string", "integer", "number", "boolean"]).map(lambda t: {"type": [t, "null"]})
    union = st.lists(st.sampled_from([{"type": "string"}, {"type": "integer"}, {"type": "number"},
                                      {"type": "null"}, {"const": 7}, {"enum": ["x", True]}]),
                     min_size=2, max_size=3).map(lambda b: {"anyOf": b})
    default = st.sampled_from([{"type": "string", "default": "d"}, {"type": "integer", "default": 3}])
    return st.one_of(simple, enum, const, nullable, union, default)


def _extend(children):
    obj = st.builds(
        lambda props, req_mask, ap: {"type": "object", "properties": props,
                                     "required": [k for k, r in zip(props, req_mask) if r],
                                     **({"additionalProperties": False} if ap else {})},
        st.dictionaries(keys, children, max_size=4), st.lists(st.booleans(), min_size=4, max_size=4), st.booleans())
    arr = st.builds(lambda item, cap: {"type": "array", "items": item, **({"maxItems": cap} if cap is not None else {})},
                    children, st.sampled_from([None, None, 1, 2]))
    nullable = st.one_of(obj, arr).map(lambda s: {**s, "type": [s["type"], "null"]})
    return st.one_of(obj, arr, nullable)


schemas = st.recursive(_scalar_schema(), _extend, max_leaves=8)


@st.composite
def top_schemas(draw):
    props = draw(st.dictionaries(keys, schemas, max_size=5))
    req = [k for k in props if draw(st.booleans())]
    schema = {"type": "object", "properties": props, "required": req}
    if props and draw(st.booleans()):
        first = next(iter(props))
        schema["$defs"] = {"D": props[first]}
        props[first] = {"$ref": "#/$defs/D"}
    return schema


def _validate(args, schema):
    """jsonschema validation without re-checking the schema against the meta-schema (slow)."""
    jsonschema.Draft202012Validator(schema).validate(args)


def _resolve(schema, root):
    return root["$defs"]["D"] if "$ref" in schema else schema


def values(schema, root):
    """A strategy of valid values for one of the generated schemas."""
    s = _resolve(schema, root)
    if "const" in s:
        return st.just(s["const"])
    if "enum" in s:
        return st.sampled_from(s["enum"])
    if "anyOf" in s:
        return st.one_of([values(b, root) for b in s["anyOf"]])
    t = s["type"]
    if isinstance(t, list):
        return st.one_of(st.none(), values({**s, "type": t[0]}, root))
    if t == "string":
        return texts
    if t == "integer":
        return st.integers(-10**12, 10**12)
    if t == "number":
        return numbers
    if t == "boolean":
        return st.booleans()
    if t == "null":
        return st.none()
    if t == "array":
        cap = min(s.get("maxItems", BUDGETS["array_items"]), BUDGETS["array_items"])
        return st.lists(values(s["items"], root), max_size=cap)
    props, req = s["properties"], s.get("required", [])

    @st.composite
    def obj(draw):
        out = {}
        for k, sub in props.items():
            if k in req or draw(st.booleans()):
                out[k] = draw(values(sub, root))
        return out
    return obj()


def _check(schema, draw_args):
    tok = tiny_tokenizer()
    try:
        sc = compile_schema(schema, tok, impl="both", **BUDGETS)
    except SchemaError as e:
        # The only schemas the generator makes that may be refused: a scaffold over max_len.
        assert "max_len" in e.reason
        return
    args = draw_args()
    _validate(args, schema)
    ids = sc.encode(args)
    masked = sc.masked()
    assert np.array_equal(ids[~sc.is_slot], masked[~sc.is_slot])
    assert np.array_equal(masked == sc.mask_id, sc.is_slot)
    for s in sc.slots:
        assert s.allowed[ids[s.start:s.start + s.budget]].all() or s.kind in ("string", "json")
    out = sc.decode(ids)
    assert out == args
    assert json.dumps(out, sort_keys=True) == json.dumps(args, sort_keys=True)
    _validate(out, schema)


@SETTINGS
@given(data=st.data())
def test_hypothesis_schemas_round_trip_and_agree(data):
    """Schemas and arguments drawn by hypothesis strategies (shrinks well, slower to generate)."""
    schema = data.draw(top_schemas())
    _check(schema, lambda: data.draw(values(schema, schema)))


_TEXTS = ["", "a", "Tokyo", "東京", "😀x", "q\"uote", "back\\slash", "tab\tnl\n", "\u0001\u001f", "é ü", " sp ", "/~"]
_NUMS = [0, -1, 7, 10**12, -10**12, 0.5, -0.0, 1e-7, -2.5e+30, 3.14159, 1e300, 123456.789]


def _rand_scalar(rng):
    return rng.choice([None, True, False, rng.choice(_NUMS), rng.choice(_TEXTS), rng.randint(-99, 99)])


def _rand_schema(rng, depth):
    r = rng.random()
    if depth >= 3 or r < 0.55:
        kind = rng.randrange(9)
        if kind < 5:
            return {"type": ["string", "integer", "number", "boolean", "null"][kind]}
        if kind == 5:
            return {"enum": [_rand_scalar(rng) for _ in range(rng.randint(1, 4))]}
        if kind == 6:
            return {"const": _rand_scalar(rng)}
        if kind == 7:
            return {"type": [rng.choice(["string", "integer", "number", "boolean"]), "null"]}
        return {"anyOf": rng.sample([{"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "null"},
                                     {"const": 7}, {"enum": ["x", True]}], rng.randint(2, 3))}
    if r < 0.8:
        props = {rng.choice(["a", "b/c", "d~", "é", "", "k" + str(i)]): _rand_schema(rng, depth + 1)
                 for i in range(rng.randint(0, 4))}
        s = {"type": "object", "properties": props, "required": [k for k in props if rng.random() < 0.5]}
        if rng.random() < 0.2:
            s["additionalProperties"] = False
    else:
        s = {"type": "array", "items": _rand_schema(rng, depth + 1)}
        if rng.random() < 0.3:
            s["maxItems"] = rng.randint(0, 2)
    if rng.random() < 0.15:
        s["type"] = [s["type"], "null"]
    return s


def _rand_value(rng, s, root):
    s = _resolve(s, root)
    if "const" in s:
        return s["const"]
    if "enum" in s:
        return rng.choice(s["enum"])
    if "anyOf" in s:
        return _rand_value(rng, rng.choice(s["anyOf"]), root)
    t = s["type"]
    if isinstance(t, list):
        return None if rng.random() < 0.3 else _rand_value(rng, {**s, "type": t[0]}, root)
    if t == "string":
        return "".join(rng.choice(_TEXTS) for _ in range(rng.randint(0, 2)))
    if t == "integer":
        return rng.choice([rng.randint(-10**9, 10**9), 0, -3, 10**12])
    if t == "number":
        return rng.choice(_NUMS + [rng.uniform(-1e6, 1e6)])
    if t == "boolean":
        return rng.random() < 0.5
    if t == "null":
        return None
    if t == "array":
        cap = min(s.get("maxItems", BUDGETS["array_items"]), BUDGETS["array_items"])
        return [_rand_value(rng, s["items"], root) for _ in range(rng.randint(0, cap))]
    req = s.get("required", [])
    return {k: _rand_value(rng, v, root) for k, v in s["properties"].items() if k in req or rng.random() < 0.5}


@settings(max_examples=2000, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**63))
def test_random_schemas_round_trip_and_agree(seed):
    """2,000 (schema, arguments) pairs from a seeded generator: nested arrays of objects, enums,
    unicode and escaped strings, exponents, optional, nullable, $ref; C++ == Python, round trip."""
    import random

    rng = random.Random(seed)
    props = {f"p{i}": _rand_schema(rng, 1) for i in range(rng.randint(1, 5))}
    schema = {"type": "object", "properties": props, "required": [k for k in props if rng.random() < 0.5]}
    if rng.random() < 0.3:
        schema["$defs"] = {"D": props["p0"]}
        props["p0"] = {"$ref": "#/$defs/D"}
    _check(schema, lambda: _rand_value(rng, schema, schema))


garbage = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, allow_infinity=False),
              st.sampled_from(["string", "object", "array", "integer", "null", "#", "#/$defs/A", "#/properties"]),
              texts),
    lambda c: st.one_of(
        st.lists(c, max_size=3),
        st.dictionaries(st.sampled_from(["type", "properties", "items", "required", "enum", "const", "anyOf",
                                         "oneOf", "$ref", "$defs", "A", "maxItems", "additionalProperties",
                                         "default", "allOf", "x"]), c, max_size=4)),
    max_leaves=12)


@settings(max_examples=400, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(schema=garbage, args=garbage)
def test_garbage_schemas_and_arguments_never_crash(schema, args):
    tok = tiny_tokenizer()
    try:
        sc = compile_schema(schema, tok, impl="both", **BUDGETS)
    except SchemaError as e:
        assert isinstance(e.pointer, str) and e.reason
        return
    try:
        sc.decode(sc.encode(args))
    except ArgumentError as e:
        assert isinstance(e.pointer, str) and e.reason


SCHEMA = {"type": "object", "required": ["a"], "properties": {
    "a": {"type": "string"}, "n": {"type": ["number", "null"]}, "e": {"enum": ["x", 2]},
    "l": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "integer"}}}}}}


@settings(max_examples=400, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_garbage_ids_decode_to_error_or_valid_arguments(data):
    sc = compile_schema(SCHEMA, tiny_tokenizer(), impl="both", string=4, number=4, json=4, integer=3, array_items=2)
    ids = sc.masked()
    positions = data.draw(st.lists(st.sampled_from(list(sc.slot_positions)), max_size=12))
    for p in positions:
        ids[p] = data.draw(st.sampled_from([sc.null_id, sc.mask_id, -1, 10**9, 0])
                           | st.integers(0, sc.vocab_size + 1))
    if data.draw(st.booleans()):
        ids[data.draw(st.integers(0, sc.length - 1))] = data.draw(st.integers(0, sc.vocab_size + 1))
    try:
        out = sc.decode(ids)
    except ArgumentError as e:
        assert isinstance(e.pointer, str)
        return
    _validate(out, SCHEMA)
