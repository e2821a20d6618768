"""Trunk-anchored spans: context tokens scored by the trunk's guess at a value's first token,
the guess steering the copied span, and the branch passes leaving the trunk's cache as it was."""

import numpy as np
import pytest

from edgeagent.heads.spec import ACTION_SPAN
from edgeagent.runtime.anchor import FLOOR, TokenTexts, slot_prefixes
from edgeagent.runtime.fill import fill_and_decode
from edgeagent.scaffold import compile_schema
from edgeagent.scaffold.testing import tiny_tokenizer

from test_fill import scripted_step

CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


def enc(tok, text):
    return np.asarray(tok.encode(text, add_special_tokens=False).ids)


def city_case(tok):
    """(scaffold with one string slot, context "weather in New York today", tokenize, text_of)."""
    return (compile_schema(CITY, tok), enc(tok, "weather in New York today"),
            lambda t: tok.encode(t, add_special_tokens=False).ids, lambda ids: tok.decode([int(i) for i in ids]))


def test_context_tokens_score_by_their_text_without_spaces(tok):
    texts = TokenTexts(tok, tok.get_vocab_size())
    ctx = enc(tok, "weather in New York today")
    new = int(enc(tok, "New")[0])                # "New" after a quote; the context has " New"
    assert new != int(ctx[2])
    logits = np.zeros(tok.get_vocab_size())
    logits[new] = 12.0
    scores = texts.scores(logits, ctx)
    assert scores.argmax() == 2 and scores[2] > -0.01      # nearly all the mass, on the context's " New"
    assert FLOOR <= scores.min() < scores[2]


def test_the_trunk_guess_moves_the_span_start(tok):
    sc, ctx, tokenize, text_of = city_case(tok)
    step = scripted_step(sc, {}, ACTION_SPAN, span=(0, 3), T=len(ctx))   # the head: "weather in New York"
    anchors = {sc.slots[0].index: np.where(np.arange(len(ctx)) == 2, -0.1, -8.0)}  # the trunk: "New ..."
    got = lambda w: fill_and_decode(sc, step, ctx, tokenize, text_of, anchors=anchors, anchor_weight=w)[0]  # noqa: E731
    assert got(0.0) == {"city": "weather in New York"}
    assert got(1.0) == {"city": "New York"}


def test_prefixes_open_each_top_level_value_as_a_first_argument(tok):
    schema = {"type": "object", "properties": {"a/b": {"type": "string"}, "n": {"type": "number"},
                                               "o": {"type": "object", "properties": {"x": {"type": "number"}}},
                                               "flag": {"type": "boolean"}}, "required": ["a/b", "n"]}
    sc = compile_schema(schema, tok)
    tokenize = lambda t: tok.encode(t, add_special_tokens=False).ids  # noqa: E731
    got = {sc.slots[i].pointer: tok.decode(p) for i, p in slot_prefixes(sc, tokenize).items()}
    assert got == {"/a~1b": '{"a/b": "', "/n": '{"n": '}      # nested and boolean slots get none


def test_anchor_passes_leave_the_cache_as_it_was(tiny_backend):
    from edgeagent.runtime.pipeline import Pipeline, PipelineConfig

    p = Pipeline(tiny_backend, PipelineConfig(anchor_weight=1.0))
    b = tiny_backend
    prompt = p.tokenize("call the weather tool for New York please")
    sc = compile_schema({"type": "object", "properties": {"city": {"type": "string"}, "n": {"type": "integer"}},
                         "required": ["city"]}, p.tok)
    logits, _, plain = b.prefill(np.asarray(prompt), b.new_cache())
    _, _, branched = b.prefill(np.asarray(prompt), b.new_cache())
    p.cfg.end_weight = 1.0
    anchors, end_anchor = p._anchors(sc, branched, len(prompt), logits, np.asarray(prompt))
    assert set(anchors) == {s.index for s in sc.slots if s.pointer in ("/city", "/n")}
    assert all(a.shape == (len(prompt),) for a in anchors.values())
    ends = end_anchor(sc.slots[0], 3)                   # a value copied from the 4th context token on
    assert ends.shape == (len(prompt),) and (ends[:3] == FLOOR).all() and (ends[3:] > FLOOR).any()
    nxt = np.asarray(p.tokenize(" and more"))
    np.testing.assert_allclose(b.prefill(nxt, branched)[0], b.prefill(nxt, plain)[0], rtol=1e-5, atol=1e-5)


def test_prefetched_ends_are_the_ends_scored_one_by_one(tiny_backend):
    """EndAnchors.prefetch scores several (slot, start) pairs in one branches call: the same scores
    as scoring each alone, and each pair is passed once."""
    from edgeagent.runtime.anchor import EndAnchors
    from edgeagent.runtime.pipeline import Pipeline, PipelineConfig

    p = Pipeline(tiny_backend, PipelineConfig())
    b = tiny_backend
    prompt = np.asarray(p.tokenize("call the weather tool for New York in 3 days"))
    sc = compile_schema({"type": "object", "properties": {"city": {"type": "string"}, "n": {"type": "integer"}},
                         "required": ["city"]}, p.tok)
    texts = TokenTexts(p.tok, p.tok.get_vocab_size())
    prefixes = slot_prefixes(sc, p.tokenize)
    cache = b.prefill(prompt, b.new_cache())[2]
    city, n = (next(s for s in sc.slots if s.pointer == ptr) for ptr in ("/city", "/n"))
    calls = []

    class Counting:
        max_len = b.max_len

        def branches(self, rows, cache, all_logits=False):
            calls.append(len(rows))
            return b.branches(rows, cache, all_logits)

    batched = EndAnchors(Counting(), cache, len(prompt), prefixes, prompt, texts, p.tokenize, p.text_of)
    batched.prefetch([(city, 5), (n, 9), (city, 5), (city, 6)])
    assert calls == [3]                                 # the repeated pair is passed once
    single = EndAnchors(b, cache, len(prompt), prefixes, prompt, texts, p.tokenize, p.text_of)
    for slot, first in ((city, 5), (n, 9), (city, 6)):
        np.testing.assert_allclose(batched(slot, first), single(slot, first), atol=1e-5)
    assert calls == [3]                                 # all three were already scored


def test_fill_prefetches_every_copied_value_end_at_once(tok):
    """With an end scorer that can prefetch, fill asks for all copied values' ends in one call,
    before it reads any."""
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "day": {"type": "string"}},
              "required": ["city", "day"]}
    sc = compile_schema(schema, tok)
    ctx = enc(tok, "weather in New York today")
    step = scripted_step(sc, {}, ACTION_SPAN, span=(2, 3), T=len(ctx))
    events = []

    class Ends:
        def prefetch(self, pairs):
            events.append(("prefetch", sorted(s.pointer for s, _ in pairs)))

        def __call__(self, slot, first):
            events.append(("read", slot.pointer))
            return np.full(len(ctx), -1.0)

    fill_and_decode(sc, step, ctx, lambda t: tok.encode(t, add_special_tokens=False).ids,
                    lambda ids: tok.decode([int(i) for i in ids]), end_anchor=Ends(), end_weight=1.0)
    assert events[0] == ("prefetch", ["/city", "/day"])
    assert sorted(e[1] for e in events[1:]) == ["/city", "/day"] and all(e[0] == "read" for e in events[1:])


def test_an_anchored_pipeline_gives_valid_calls(tiny_backend):
    import json

    import jsonschema

    from conftest import TOOLS
    from edgeagent.runtime.pipeline import Pipeline, PipelineConfig

    p = Pipeline(tiny_backend, PipelineConfig(anchor_weight=2.0, max_calls=3))
    resp = p.respond({"messages": [{"role": "user", "content": "Weather in Tokyo for 3 days?"}], "tools": TOOLS,
                      "tool_choice": "required"})
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}
    assert resp["tool_calls"]
    for c in resp["tool_calls"]:
        jsonschema.validate(json.loads(c["function"]["arguments"]), schemas[c["function"]["name"]])


def test_a_confident_trunk_guess_turns_generation_into_a_copy(tok):
    from edgeagent.heads.spec import ACTION_GEN

    sc, ctx, tokenize, text_of = city_case(tok)
    step = scripted_step(sc, {}, ACTION_GEN, span=(2, 3), T=len(ctx))     # the head would generate
    anchors = {sc.slots[0].index: np.where(np.arange(len(ctx)) == 2, -0.5, -8.0)}

    def run(route):
        args, _, info, _ = fill_and_decode(sc, step, ctx, tokenize, text_of, anchors=anchors, anchor_weight=1.0,
                                           anchor_route=route)
        return args, info.routes["/city"]

    assert run(-0.7) == ({"city": "New York"}, "span")           # the guess (-0.5) clears the bar
    assert run(-0.1)[1] == "gen" and run(None)[1] == "gen"        # it does not, or no route threshold


def test_the_trunk_close_moves_the_span_end(tok):
    sc, ctx, tokenize, text_of = city_case(tok)
    step = scripted_step(sc, {}, ACTION_SPAN, span=(2, 4), T=len(ctx))   # the head: "New York to"
    seen = []

    def end_anchor(slot, first):
        seen.append(first)
        return np.where(np.arange(len(ctx)) == 3, -0.1, -6.0)            # the trunk closes after "York"

    got = lambda w: fill_and_decode(sc, step, ctx, tokenize, text_of, end_anchor=end_anchor, end_weight=w)[0]  # noqa: E731
    assert got(0.0) == {"city": "New York today"} and not seen     # "to" snaps to the word "today"
    assert got(1.0) == {"city": "New York"} and seen == [2]


def test_close_logp_reads_the_quote_for_strings_and_the_comma_for_numbers(tok):
    texts = TokenTexts(tok, tok.get_vocab_size())
    quote, comma = int(enc(tok, '"')[0]), int(enc(tok, ",")[0])
    logits = np.zeros((2, tok.get_vocab_size()))
    logits[0, quote] = logits[1, comma] = 12.0
    s, n = texts.close_logp(logits, "string"), texts.close_logp(logits, "number")
    assert s[0] > -0.01 and s[1] < -5 and n[1] > -0.01 and n[0] < -5


def test_a_minus_sign_after_an_equals_sign_reads_as_the_minus():
    class Pieces:                                 # a vocabulary where "=-" is one token, as in SmolLM2's
        words = ["-", "=-", " 3", "=", "x"]

        def decode(self, ids, skip_special_tokens=False):
            return self.words[ids[0]]

    texts = TokenTexts(Pieces(), 5)
    logits = np.zeros(5)
    logits[0] = 12.0                              # the trunk writes "-" after {"b":
    scores = texts.scores(logits, np.array([3, 1, 2]))   # "=", "=-", " 3" (b=-3)
    assert scores.argmax() == 1 and scores[1] > -0.01
