"""The tool-selection head: where tools sit in the prompt, the head's properties, its training,
and the pipeline choosing by it (tiny tokenizer, random or toy weights; seconds on CPU)."""

import json

import numpy as np
import pytest

from edgeagent.formats import render_prompt
from edgeagent.runtime.select import byte_offsets, token_piece, tool_keys, tool_spans
from edgeagent.scaffold.testing import tiny_tokenizer
from conftest import TOOLS

EXTRA = {"type": "function", "function": {"name": "météo_du_jour", "description": "Prévisions « ici »",
                                          "parameters": {"type": "object", "properties": {}}}}


def _prompt_ids(tok, tools, user="hi"):
    text = render_prompt([{"role": "user", "content": user}], tools, "smollm2")
    return tok.encode(text, add_special_tokens=False).ids, text


@pytest.mark.parametrize("family_tools", [TOOLS, [TOOLS[1], EXTRA, TOOLS[0]]])
def test_tool_spans_cover_each_listed_tool_in_order(family_tools):
    tok = tiny_tokenizer()
    ids, _ = _prompt_ids(tok, family_tools)
    piece = token_piece(tok)
    spans = tool_spans(ids, piece)
    assert [s.name for s in spans] == [t["function"]["name"] for t in family_tools]
    blob, off = byte_offsets(ids, piece)
    for s, t in zip(spans, family_tools):
        line = json.dumps(t, ensure_ascii=False).encode()
        covered = blob[off[s.lo]: off[s.hi]]
        assert line in covered and len(covered) < len(line) + 8  # the line, give or take a merged neighbour
        assert s.lo <= s.name_last < s.hi
        name = json.dumps(t["function"]["name"], ensure_ascii=False)[1:-1].encode()
        last_byte = blob.index(b'"name": "' + name, off[s.lo]) + len(b'"name": "') + len(name) - 1
        assert off[s.name_last] <= last_byte < off[s.name_last + 1]
    keys = tool_keys(np.arange(len(ids) * 4, dtype=np.float32).reshape(len(ids), 4), spans)
    assert keys.shape == (len(spans), 8)


def test_tool_spans_none_without_a_listing_or_with_a_broken_line():
    tok = tiny_tokenizer()
    piece = token_piece(tok)
    ids, _ = _prompt_ids(tok, None)
    assert tool_spans(ids, piece) is None
    _, text = _prompt_ids(tok, TOOLS)
    broken = text.replace('{"type": "function", "function": {"name": "get_time"', '{"type": "function", oops', 1)
    assert tool_spans(tok.encode(broken, add_special_tokens=False).ids, piece) is None


def test_head_scores_follow_the_tools_whatever_their_order():
    torch = pytest.importorskip("torch")
    from edgeagent.heads.select import SelectConfig, SelectHead

    torch.manual_seed(0)
    head = SelectHead(SelectConfig(trunk_hidden=8, d=16)).eval()
    q, keys = torch.randn(1, 8), torch.randn(1, 5, 16)
    perm = torch.tensor([3, 0, 4, 1, 2])
    with torch.no_grad():
        a, b = head(q, keys)[0], head(q, keys[:, perm])[0]
    torch.testing.assert_close(b, a[perm])
    assert len(set(a.tolist())) == 5  # not a constant


def test_training_learns_a_rule_the_features_carry():
    """Toy features: the gold tool's key holds the query's sign pattern; chance is about 1/3."""
    pytest.importorskip("torch")
    from edgeagent.train.select import predict, train_select

    rng = np.random.default_rng(0)

    def feats(n_items):
        keys, off, query, ex, gold = [], [0], [], [], []
        for e in range(n_items):
            k = int(rng.integers(2, 5))
            kk = rng.standard_normal((k, 8)).astype(np.float32)
            q = rng.standard_normal(4).astype(np.float32)
            g = int(rng.integers(k))
            kk[g, :4] = 3 * q
            keys.append(kk)
            off.append(off[-1] + k)
            query.append(q)
            ex.append(e)
            gold.append(g)
        return {"keys": np.concatenate(keys), "key_off": np.asarray(off), "query": np.asarray(query),
                "call_ex": np.asarray(ex), "gold": np.asarray(gold)}

    train, dev = feats(600), feats(200)
    log = []
    head, _ = train_select(train, epochs=15, lr=3e-3, log=log, dev=dev)
    assert (predict(head, dev) == dev["gold"]).mean() > 0.9
    assert log[-1]["loss"] < log[0]["loss"]


def test_the_pipeline_calls_the_tool_the_head_picks(tiny_backend, monkeypatch):
    pytest.importorskip("torch")
    from edgeagent.runtime.pipeline import Pipeline, PipelineConfig

    seen = []

    def select_logits(query, keys):
        seen.append((np.asarray(query).shape, np.asarray(keys).shape))
        return np.array([-1.0, 2.0])  # the second listed tool

    monkeypatch.setattr(tiny_backend, "has_select", True, raising=False)
    monkeypatch.setattr(tiny_backend, "select_logits", select_logits, raising=False)
    H = tiny_backend.trunk.config.hidden_size
    request = {"messages": [{"role": "user", "content": "what time is it"}], "tools": TOOLS,
               "tool_choice": "required"}
    for order in (TOOLS, TOOLS[::-1]):
        seen.clear()
        resp = Pipeline(tiny_backend, PipelineConfig(max_calls=1)).respond({**request, "tools": order})
        assert resp["tool_calls"][0]["function"]["name"] == order[1]["function"]["name"]
        assert seen == [((H,), (2, 2 * H))]
    # select="trunk" (the ablation) and a single tool never ask the head
    seen.clear()
    Pipeline(tiny_backend, PipelineConfig(max_calls=1, select="trunk")).respond(request)
    Pipeline(tiny_backend, PipelineConfig(max_calls=1)).respond({**request, "tools": TOOLS[:1]})
    assert seen == []
