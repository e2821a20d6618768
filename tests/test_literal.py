"""Free-form JSON values (runtime/literal.py): read from a literal the user wrote, never invented."""

import jsonschema
import numpy as np
import pytest

from edgeagent.heads.spec import ACTION_GEN, ACTION_NULL, ACTION_SPAN
from edgeagent.runtime.fill import fill_and_decode, token_texts, written
from edgeagent.runtime.literal import free_type, literal_ends, literal_value, repair_free
from edgeagent.scaffold import compile_schema
from edgeagent.scaffold.testing import tiny_tokenizer

FREE = {"type": "object", "properties": {
    "grades": {"type": "object"}, "tags": {"type": "array"}, "opts": {"type": ["object", "null"]},
    "fixed": {"type": "object", "properties": {"a": {"type": "integer"}}},
    "keyed": {"$ref": "#/$defs/Any"}}, "required": ["grades"], "$defs": {"Any": {"type": "object"}}}


@pytest.mark.parametrize("raw,kind,want", [
    ("{'math':90, 'science':75}", "object", '{"math": 90, "science": 75}'),
    ('{"a": [1, null]} and more', "object", '{"a": [1, null]}'),
    ("{'a': True, 'b': None}).", "object", '{"a": true, "b": null}'),
    ("  ['x', \"y's\"]", "array", '["x", "y\'s"]'),
    ("(1, 2.5)", "array", "[1, 2.5]"),
    ("{'k': 'é}'}", "object", '{"k": "é}"}'),
    ("[1, 2]", "object", None),                            # the wrong type
    ("{1, 2}", "object", None),                            # a set is no JSON value
    ("{'a': 1", "object", None),                           # never closed
    ("the list [1, 2]", "array", None),                    # must open the span
    ("{'a': f(1)}", "object", None),                       # not a literal
])
def test_literal_value(raw, kind, want):
    assert literal_value(raw, kind) == want


def test_free_type_names_the_slots_of_free_form_json():
    tok = tiny_tokenizer()
    sc = compile_schema(FREE, tok)
    kinds = {s.pointer: free_type(sc.schema, s) for s in sc.slots}
    assert kinds["/grades"] == "object" and kinds["/tags"] == "array" and kinds["/opts"] == "object"
    assert kinds["/keyed"] == "object"                     # through $ref
    assert kinds["/fixed/a"] is None


def _context(text):
    tok = tiny_tokenizer()
    ctx = np.asarray(tok.encode(text, add_special_tokens=False).ids)
    text_of = lambda ids: tok.decode([int(i) for i in ids])  # noqa: E731
    return tok, ctx, text_of, token_texts(text_of, ctx)


PROMPT = ('<|im_start|>system\n<tools>{"name": "avg", "parameters": {"type": "object"}}</tools><|im_end|>\n'
          "<|im_start|>user\nAverage of {'math': 90, 'art': 70} please, also [3, 4]<|im_end|>\n"
          '<|im_start|>assistant\n<tool_call>{"name": "avg", "arguments": {"grades": {"x": 1}}}')


def test_literals_are_found_only_where_the_user_wrote_them():
    tok, ctx, text_of, texts = _context(PROMPT)
    mine = written(texts)
    inside = "".join(t for t, m in zip(texts, mine) if m)
    assert "{'math': 90, 'art': 70}" in inside and "parameters" not in inside and '"x"' not in inside
    closes = literal_ends(texts, "object")
    opened = [i for i in np.flatnonzero(closes >= 0)]
    assert len(opened) == 6                                # the listing's 2, the user's, the call's 3
    user = [i for i in opened if mine[i]]
    assert list(np.flatnonzero(literal_ends(texts, "object", mine) >= 0)) == user   # the rest never read
    assert len(user) == 1 and literal_value(text_of(ctx[user[0]:closes[user[0]] + 1]), "object") \
        == '{"math": 90, "art": 70}'


def _head(sc, T, action, prefer):
    """A head that routes every value by ``action`` and scores span starts at ``prefer`` highest."""
    def step(ids, kinds, spos, rows=None):
        L = len(ids)
        act = np.zeros((L, 3), np.float32)
        act[:, action] = 5.0
        start = np.zeros((L, T), np.float32)
        start[:, prefer] = 9.0
        tok = np.zeros((L, sc.null_id + 1), np.float32)
        return (tok if rows is None else tok[np.asarray(rows)]), act, start, np.zeros((L, T), np.float32)
    return step


def test_a_free_form_slot_copies_the_users_literal_whole():
    tok, ctx, text_of, texts = _context(PROMPT)
    schema = {"type": "object", "properties": {"grades": {"type": "object"}, "extra": {"type": "array"}},
              "required": ["grades"]}
    sc = compile_schema(schema, tok)
    tokenize = lambda t: tok.encode(t, add_special_tokens=False).ids  # noqa: E731
    listing = int(np.flatnonzero(literal_ends(texts, "object") >= 0)[0])
    args, _, info, err = fill_and_decode(sc, _head(sc, len(ctx), ACTION_SPAN, listing), ctx, tokenize, text_of)
    assert err is None and args == {"grades": {"math": 90, "art": 70}, "extra": [3, 4]}, (args, err)
    assert info.routes == {"/grades": "span", "/extra": "span"}
    # the head says "leave it out": an optional free-form value stays out, a required one is copied
    args, _, info, err = fill_and_decode(sc, _head(sc, len(ctx), ACTION_NULL, listing), ctx, tokenize, text_of)
    assert err is None and args == {"grades": {"math": 90, "art": 70}}


def test_a_free_form_value_with_nothing_to_copy_is_repaired_to_a_valid_one():
    tok, ctx, text_of, texts = _context("<|im_start|>user\nno literal here<|im_end|>\n")
    sc = compile_schema(FREE, tok)
    tokenize = lambda t: tok.encode(t, add_special_tokens=False).ids  # noqa: E731
    args, _, info, err = fill_and_decode(sc, _head(sc, len(ctx), ACTION_GEN, 0), ctx, tokenize, text_of)
    assert err is None, err
    jsonschema.validate(args, FREE)
    assert isinstance(args["grades"], dict)


def test_repair_free():
    tok = tiny_tokenizer()
    tokenize = lambda t: tok.encode(t, add_special_tokens=False).ids  # noqa: E731
    text = lambda ids: tok.decode([i for i in ids if i != -1])   # noqa: E731
    assert text(repair_free("{'a': 1} tail", "object", 24, tokenize, -1)) == '{"a": 1}'
    assert text(repair_free("garbage", "array", 24, tokenize, -1)) == "[]"
    assert text(repair_free("{'a': 'a long value'}", "object", 3, tokenize, -1)) == "{}"   # over its budget
