"""The heads on ONNX and the ONNX Runtime backend against PyTorch, on a tiny trunk and random heads.

What must hold: each head graph gives the PyTorch head's outputs (atol 1e-4) for any L and T;
the routed pipeline on OrtBackend emits the same tool calls (names and arguments) and the same
chat text as on TorchBackend; the manifest carries what the runtime needs (special ids, budgets,
tables, family) and the re-export skip sees a change of the heads.
"""

import json
from dataclasses import asdict
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from edgeagent.export.manifest import export_artifact  # noqa: E402
from edgeagent.heads.spec import ACTIONS, CONTINUE, KINDS, MODES  # noqa: E402
from edgeagent.models.tiny import tiny_model  # noqa: E402
from edgeagent.runtime.fill import layout  # noqa: E402
from edgeagent.runtime.manifest import ArtifactError, load_manifest  # noqa: E402
from edgeagent.runtime.ort_backend import OrtBackend  # noqa: E402
from edgeagent.runtime.pipeline import Pipeline, PipelineConfig  # noqa: E402
from edgeagent.scaffold import Budgets, compile_schema  # noqa: E402
from edgeagent.scaffold.testing import tiny_tokenizer  # noqa: E402
from conftest import TOOLS, make_tiny_heads  # noqa: E402

ATOL = 1e-4
REQUESTS = [
    {"messages": [{"role": "user", "content": "Weather in Tokyo for 3 days at 35.6 north?"}], "tools": TOOLS,
     "tool_choice": "required"},
    {"messages": [{"role": "user", "content": "what time is it in Paris"}], "tools": TOOLS,
     "tool_choice": {"type": "function", "function": {"name": "get_time"}}},
    {"messages": [{"role": "user", "content": "book a table for two at 10:30 pm"}], "tools": TOOLS,
     "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
    {"messages": [{"role": "user", "content": "the weather forecast in celsius"}], "tools": TOOLS,
     "tool_choice": "none"},
    {"messages": [{"role": "user", "content": "hello there"}]},
    {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "search music by artist"}],
     "tools": TOOLS, "tool_choice": "required"},
]


def make_heads(folder, trunk, seed=0):
    """Random two-layer heads for `trunk`, saved like trained ones."""
    return make_tiny_heads(folder, trunk, seed=seed, n_layers=2, select=True, gate=True)


def make_artifact(tmp_path_factory, name="art"):
    """(trunk, tokenizer, heads dir, artifact dir) of a tiny Llama with random heads."""
    tok = tiny_tokenizer()
    trunk = tiny_model("llama", vocab_size=tok.get_vocab_size(), max_position_embeddings=4096)
    heads = make_heads(tmp_path_factory.mktemp("heads"), trunk)
    tok_file = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tok.save(str(tok_file))
    out = tmp_path_factory.mktemp(name)
    export_artifact(trunk, out, "tiny", tokenizer_file=tok_file, heads=heads, family="smollm2", log=lambda *_: None)
    return trunk, tok, heads, out


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from edgeagent.export.torch_backend import TorchBackend

    trunk, tok, heads, out = make_artifact(tmp_path_factory)
    ref = TorchBackend(model="tiny", heads=heads, trunk=trunk, tokenizer=tok, family="smollm2")
    ref.heads_dir = heads
    return ref, OrtBackend(out, provider="cpu"), out


def test_manifest_describes_the_heads(pair):
    ref, ort_b, out = pair
    m = load_manifest(out)
    V = ref.trunk.config.vocab_size
    assert {"trunk", "slot_filler", "mode_head", "another_head", "select_head"} <= set(m.graphs)
    assert {"slot_filler.onnx", "mode_head.onnx", "another_head.onnx", "select_head.onnx",
            "tokenizer.json"} <= set(m.files)
    assert ref.has_select and ort_b.has_select
    assert "tool_gate.json" in m.files and ort_b.tool_gate is not None      # the gate travels as its JSON
    assert ort_b.tool_gate.weights == ref.tool_gate.weights and ort_b.tool_gate.bias == ref.tool_gate.bias
    h = m.heads
    assert (h.null_id, h.mask_id) == (V, V + 1) and h.budgets == asdict(Budgets())
    assert (h.kinds, h.actions, h.modes, h.continue_) == (list(KINDS), list(ACTIONS), list(MODES), list(CONTINUE))
    assert m.chat_template == "smollm2" and m.max_positions == 4096
    sf = m.graphs["slot_filler"]
    assert [t.name for t in sf.inputs] == ["ids", "kinds", "slot_pos", "ctx", "token_rows"]
    assert [t.shape for t in sf.outputs] == [[1, "N", V + 1], [1, "L", 3], [1, "L", "T"], [1, "L", "T"]]
    assert ort_b.family == "smollm2" and ort_b.max_len == 4096


def test_head_graphs_pass_the_checker_and_use_plain_ops(pair):
    _, _, out = pair
    allowed = {"Add", "Clip", "Concat", "Div", "Einsum", "Erf", "Gather", "GatherND", "Gemm", "GreaterOrEqual",
               "LayerNormalization", "MatMul", "Mul", "Range", "Reshape", "Shape", "Slice", "Softmax", "Split",
               "Squeeze", "Sub", "Transpose", "Unsqueeze", "Where", "Expand", "Cast", "Constant", "Less",
               "Greater", "Sqrt", "Pow", "ReduceMean", "Neg", "Equal", "ConstantOfShape", "Identity"}
    for name in ("slot_filler.onnx", "mode_head.onnx", "another_head.onnx", "select_head.onnx"):
        model = onnx.load(str(out / name))
        onnx.checker.check_model(model, full_check=True)
        onnx.shape_inference.infer_shapes(model, strict_mode=True)
        ops = {n.op_type for n in model.graph.node}
        assert all(n.domain in ("", "ai.onnx") for n in model.graph.node), name
        assert ops <= allowed, f"{name}: unexpected ops {ops - allowed}"
    sf = onnx.load(str(out / "slot_filler.onnx"))
    V, H = load_manifest(out).vocab_size, load_manifest(out).hidden_size
    # the tied embedding is in the graph once (no second, transposed copy)
    assert sum(1 for i in sf.graph.initializer if sorted(i.dims) == sorted([V, H])) == 1


@pytest.mark.parametrize("L, T", [(1, 1), (9, 4), (40, 75)])
def test_fill_step_matches_pytorch(pair, L, T):
    ref, ort_b, _ = pair
    rng = np.random.default_rng(L * 100 + T)
    V = ref.trunk.config.vocab_size
    ids = rng.integers(0, V + 2, L)
    kinds = rng.integers(0, len(KINDS), L)
    spos = rng.integers(0, 30, L)
    ctx = rng.standard_normal((T, ref.trunk.config.hidden_size)).astype(np.float32)
    for a, b in zip(ref.fill_step(ids, kinds, spos, ctx), ort_b.fill_step(ids, kinds, spos, ctx)):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, atol=ATOL, rtol=0)


@pytest.mark.parametrize("rows", [[], [3], [8, 0, 5], list(range(9))])
def test_fill_step_token_rows_are_those_rows_of_the_full_projection(pair, rows):
    ref, ort_b, _ = pair
    rng = np.random.default_rng(7)
    V, L, T = ref.trunk.config.vocab_size, 9, 6
    ids, kinds, spos = rng.integers(0, V + 2, L), rng.integers(0, len(KINDS), L), rng.integers(0, 30, L)
    ctx = rng.standard_normal((T, ref.trunk.config.hidden_size)).astype(np.float32)
    full = ref.fill_step(ids, kinds, spos, ctx)[0]
    assert ort_b._fill_rows                              # the graph takes token_rows (graph version 2)
    for backend in (ref, ort_b):
        out = backend.fill_step(ids, kinds, spos, ctx, np.asarray(rows, np.int64))
        assert out[0].shape == (len(rows), V + 1)
        np.testing.assert_allclose(out[0], full[rows], atol=ATOL, rtol=0)
        np.testing.assert_allclose(out[1], ref.fill_step(ids, kinds, spos, ctx)[1], atol=ATOL, rtol=0)


def test_fill_step_on_a_real_scaffold_matches_pytorch(pair):
    ref, ort_b, _ = pair
    sc = compile_schema(TOOLS[0]["function"]["parameters"], ref.tokenizer)
    kinds, spos = layout(sc)
    ids = np.asarray(sc.masked(), np.int64)
    _, hidden, _ = ref.prefill(np.asarray(ref.tokenizer.encode("Weather in Tokyo").ids, np.int64), ref.new_cache())
    worst = max(float(np.abs(a - b).max()) for a, b in zip(ref.fill_step(ids, kinds, spos, hidden),
                                                            ort_b.fill_step(ids, kinds, spos, hidden)))
    assert worst < ATOL


def test_routers_match_pytorch(pair):
    ref, ort_b, _ = pair
    state = np.random.default_rng(0).standard_normal(ref.trunk.config.hidden_size).astype(np.float32)
    np.testing.assert_allclose(ort_b.mode_logits(state), ref.mode_logits(state), atol=ATOL, rtol=0)
    np.testing.assert_allclose(ort_b.another_logits(state), ref.another_logits(state), atol=ATOL, rtol=0)


@pytest.mark.parametrize("anchors", [0.0, 1.0])
def test_pipeline_gives_the_same_calls_and_text(pair, anchors):
    ref, ort_b, _ = pair
    cfg = PipelineConfig(max_new_tokens=12, max_calls=3, anchor_weight=anchors, anchor_route=None,
                         end_weight=anchors)
    torch_pipe, ort_pipe = Pipeline(ref, cfg), Pipeline(ort_b, cfg)
    n_calls = n_text = 0
    for req in REQUESTS:
        streamed_a, streamed_b = [], []
        a = torch_pipe.respond(dict(req), on_token=streamed_a.append)
        b = ort_pipe.respond(dict(req), on_token=streamed_b.append)
        # random weights answer mostly in whitespace, which content strips: compare the raw text too
        assert "".join(streamed_a) == "".join(streamed_b)
        assert "".join(streamed_a).strip() == a["content"]
        assert a["mode"] == b["mode"]
        calls_a = [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in a["tool_calls"]]
        calls_b = [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in b["tool_calls"]]
        assert calls_a == calls_b
        assert a["content"] == b["content"]
        assert a.get("errors") == b.get("errors")
        n_calls += len(calls_a)
        n_text += a["timings"].get("decode_tokens", 0) > 0
    assert n_calls >= 3 and n_text >= 1  # the comparison covered both paths


@pytest.mark.parametrize("which", ["torch", "ort"])
def test_prefix_reuse_changes_no_answer(pair, which):
    """The prompt prefix shared with the last request is not prefilled again, and every answer and
    every hidden state is what a fresh prefill gives; a failed request leaves the next one intact."""
    backend = pair[0] if which == "torch" else pair[1]
    cfg = dict(max_new_tokens=12, max_calls=3)
    fresh, reuse = Pipeline(backend, PipelineConfig(prefix_cache=False, **cfg)), Pipeline(backend, PipelineConfig(**cfg))
    turn2 = {"messages": REQUESTS[0]["messages"] + [
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "get_time", "arguments": '{"city": "Tokyo"}'}}]},
        {"role": "tool", "content": "12:00"}, {"role": "user", "content": "and in Oslo?"}],
        "tools": TOOLS, "tool_choice": "required"}
    reused, lengths = [], []
    for req in [*REQUESTS, REQUESTS[0], turn2]:
        a, b = fresh.respond(dict(req)), reuse.respond(dict(req))
        assert a["timings"]["reused_tokens"] == 0
        reused.append(b["timings"]["reused_tokens"])
        lengths.append(b["timings"]["prompt_tokens"])
        assert (a["mode"], a["content"], a["tool_calls"], a.get("errors")) == \
            (b["mode"], b["content"], b["tool_calls"], b.get("errors"))
    assert reused[0] == 0 and reused[1] > 10 and reused[-2] > 10
    # the second turn of a chat prefills only what follows the first turn's prompt
    assert reused[-1] >= lengths[-2] - 2
    ids = reuse._prefix[0]
    _, h_fresh, _, _ = fresh._prefill_prompt(ids)
    _, h_reuse, _, n = reuse._prefill_prompt(ids)
    assert n == len(ids) - 1
    np.testing.assert_allclose(h_reuse, h_fresh, atol=1e-4)

    class Broken:
        def __init__(self, b):
            self.b, self.fail = b, False

        def __getattr__(self, name):
            return getattr(self.b, name)

        def prefill(self, ids, cache, all_logits=False):
            if self.fail:
                raise RuntimeError("device lost")
            return self.b.prefill(ids, cache, all_logits)

    broken = Broken(backend)
    pipe = Pipeline(broken, PipelineConfig(**cfg))
    pipe.respond(dict(REQUESTS[0]))
    broken.fail = True
    with pytest.raises(RuntimeError):
        pipe.respond(dict(REQUESTS[5]))
    broken.fail = False
    assert pipe.respond(dict(REQUESTS[0]))["tool_calls"] == fresh.respond(dict(REQUESTS[0]))["tool_calls"]


def test_artifact_without_heads_is_refused(pair, tmp_path):
    import shutil

    _, _, art = pair
    out = tmp_path / "trunk-only"
    shutil.copytree(art, out)
    raw = json.loads((out / "manifest.json").read_text())
    raw["heads"] = None  # what a trunk-only export writes
    raw["graphs"] = {"trunk": raw["graphs"]["trunk"]}
    (out / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ArtifactError, match="no heads"):
        OrtBackend(out, provider="cpu")


def test_tampered_head_graph_is_refused(pair, tmp_path):
    import shutil

    _, _, out = pair
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    with open(copy / "mode_head.onnx", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ArtifactError, match="mode_head.onnx"):
        OrtBackend(copy, provider="cpu")


def test_reexport_skips_when_unchanged_and_redoes_only_the_heads_when_they_change(pair, tmp_path):
    import shutil

    ref, _, art = pair
    out, heads = tmp_path / "art", tmp_path / "heads"
    shutil.copytree(art, out)
    shutil.copytree(ref.heads_dir, heads)
    tok_file = tmp_path / "tokenizer.json"
    ref.tokenizer.save(str(tok_file))
    logs = []
    kw = dict(tokenizer_file=tok_file, family="smollm2", log=logs.append)
    _, skipped = export_artifact(ref.trunk, out, "tiny", heads=heads, **kw)
    assert skipped
    before = load_manifest(out)
    make_heads(heads, ref.trunk, seed=1)  # retrained heads, same trunk, on prompts with another listing
    meta = json.loads((heads / "heads.json").read_text())
    (heads / "heads.json").write_text(json.dumps({**meta, "run_config": {"listing": "signature"}}))
    logs.clear()
    manifest, skipped = export_artifact(ref.trunk, out, "tiny", heads=heads, **kw)
    assert not skipped and any("trunk unchanged" in m for m in logs)
    assert manifest.files["trunk.onnx"] == before.files["trunk.onnx"]
    assert manifest.files["slot_filler.onnx"] != before.files["slot_filler.onnx"]
    assert manifest.heads.source_hash != before.heads.source_hash
    assert (before.heads.listing, manifest.heads.listing) == ("json", "signature")
    assert OrtBackend(out, provider="cpu").listing == "signature"   # the runtime writes the heads' listing
    load_manifest(out)  # verifies
    from edgeagent.runtime.gate import GATE_FILE, ToolGate

    gate = ToolGate.load(heads)
    gate.bias += 1.0                       # a retrained gate alone: the heads are exported again
    gate.save(heads)
    _, skipped = export_artifact(ref.trunk, out, "tiny", heads=heads, **kw)
    assert not skipped and OrtBackend(out, provider="cpu").tool_gate.bias == gate.bias
    (heads / GATE_FILE).unlink()           # heads without a gate: the artifact keeps none
    manifest, skipped = export_artifact(ref.trunk, out, "tiny", heads=heads, **kw)
    assert not skipped and GATE_FILE not in manifest.files and not (out / GATE_FILE).exists()
    assert OrtBackend(out, provider="cpu").tool_gate is None
    from edgeagent.runtime.span_prior import FEATURES, PRIOR_FILE, SpanPrior

    SpanPrior(weights=[0.5] * len(FEATURES)).save(heads)   # a span prior goes along, as the gate does
    manifest, skipped = export_artifact(ref.trunk, out, "tiny", heads=heads, **kw)
    assert not skipped and PRIOR_FILE in manifest.files
    assert OrtBackend(out, provider="cpu").span_prior.weights == [0.5] * len(FEATURES)
    (heads / PRIOR_FILE).unlink()
    manifest, skipped = export_artifact(ref.trunk, out, "tiny", heads=heads, **kw)
    assert not skipped and PRIOR_FILE not in manifest.files and OrtBackend(out, provider="cpu").span_prior is None


@pytest.mark.parametrize("K", [1, 3, 9])
def test_select_head_matches_pytorch(pair, K):
    from edgeagent.runtime.select import FEATURES

    ref, ort_b, _ = pair
    features = np.random.default_rng(K).uniform(0, 1, (K, len(FEATURES))).astype(np.float32)
    got = ort_b.select_logits(features)
    assert got.shape == (K,)
    np.testing.assert_allclose(got, ref.select_logits(features), atol=ATOL, rtol=0)


@pytest.mark.parametrize("which", ["torch", "ort"])
def test_a_branch_leaves_the_cache_as_it_was(pair, which):
    """branch gives prefill's logits for the branch tokens, and what follows it is what follows
    no branch at all (the anchors' short passes must not leak into the call's cache)."""
    backend = pair[0] if which == "torch" else pair[1]
    ids = np.asarray(backend.tokenizer.encode("Weather in Tokyo for 3 days").ids, np.int64)
    prefix, tail, extra = ids[:4], ids[4:], np.asarray(backend.tokenizer.encode(" at noon").ids, np.int64)
    _, _, cache = backend.prefill(prefix, backend.new_cache())
    backend.truncate(cache, 3)   # a rewound cache (arrays longer than its length) branches too
    _, _, cache = backend.prefill(prefix[3:], cache)
    want_branch, _, _ = backend.prefill(extra, backend.prefill(prefix, backend.new_cache())[2], all_logits=True)
    got_branch = backend.branch(extra, cache, all_logits=True)
    np.testing.assert_allclose(got_branch, want_branch, atol=1e-4)
    after, h_after, _ = backend.prefill(tail, cache)
    fresh, h_fresh, _ = backend.prefill(tail, backend.prefill(prefix, backend.new_cache())[2])
    np.testing.assert_allclose(after, fresh, atol=1e-4)
    np.testing.assert_allclose(h_after, h_fresh, atol=1e-4)


@pytest.mark.parametrize("which", ["torch", "ort"])
@pytest.mark.parametrize("all_logits", [False, True])
def test_branches_in_one_batch_give_each_branch_and_leave_the_cache(pair, which, all_logits):
    """branches of rows of different lengths (ONNX Runtime: one batched pass, rows padded on the
    right) give each row's own branch logits, and the cache is left as it was."""
    backend = pair[0] if which == "torch" else pair[1]
    enc = lambda text: np.asarray(backend.tokenizer.encode(text).ids, np.int64)  # noqa: E731
    prefix, tail = enc("Weather in Tokyo for"), enc(" 3 days")
    rows = [enc(' {"city": "'), enc(" at noon, please, in celsius"), enc("!")]
    assert len({len(r) for r in rows}) == 3
    _, _, cache = backend.prefill(prefix, backend.new_cache())
    backend.truncate(cache, len(prefix) - 2)   # a rewound cache, as after an earlier branch
    _, _, cache = backend.prefill(prefix[-2:], cache)
    got = backend.branches(rows, cache, all_logits=all_logits)
    assert len(got) == len(rows)
    for row, logits in zip(rows, got):
        want = backend.branch(row, cache, all_logits=all_logits)
        assert logits.shape == want.shape == ((len(row), want.shape[-1]) if all_logits else (want.shape[-1],))
        np.testing.assert_allclose(logits, want, atol=1e-4)
    after, h_after, _ = backend.prefill(tail, cache)
    fresh, h_fresh, _ = backend.prefill(tail, backend.prefill(prefix, backend.new_cache())[2])
    np.testing.assert_allclose(after, fresh, atol=1e-4)
    np.testing.assert_allclose(h_after, h_fresh, atol=1e-4)


def test_branches_run_row_by_row_past_the_batch_limit(pair, monkeypatch):
    """On the CPU, past rows_batch_max_past cached positions the rows run one at a time (no batched
    pass), with the batched pass's logits; at or below it they go in one pass."""
    backend = pair[1]
    enc = lambda text: np.asarray(backend.tokenizer.encode(text).ids, np.int64)  # noqa: E731
    rows = [enc(' {"city": "'), enc(" at noon, please")]
    _, _, cache = backend.prefill(enc("Weather in Tokyo for"), backend.new_cache())
    batched = backend.branches(rows, cache, all_logits=True)
    calls = []
    forward_rows = backend.trunk.forward_rows
    monkeypatch.setattr(backend.trunk, "forward_rows", lambda *a, **k: calls.append(1) or forward_rows(*a, **k))
    monkeypatch.setattr(backend, "rows_batch_max_past", cache.length - 1)
    rowwise = backend.branches(rows, cache, all_logits=True)
    assert calls == []
    for a, b in zip(rowwise, batched):
        np.testing.assert_allclose(a, b, atol=1e-4)
    monkeypatch.setattr(backend, "rows_batch_max_past", cache.length)
    backend.branches(rows, cache, all_logits=True)
    assert calls == [1]


def test_heads_exported_before_a_later_budget_still_load():
    """A manifest from before the free-form budget lacks it: its heads never used it, so they load;
    a budget the manifest does list must still match."""
    from edgeagent.runtime.ort_backend import _check_heads

    V = 100
    now = asdict(Budgets())
    spec = lambda budgets: SimpleNamespace(kinds=list(KINDS), actions=list(ACTIONS), modes=list(MODES),  # noqa: E731
                                           continue_=list(CONTINUE), budgets=budgets, null_id=V, mask_id=V + 1)
    _check_heads(spec(now), V, "m")
    _check_heads(spec({k: v for k, v in now.items() if k != "free"}), V, "m")
    with pytest.raises(ArtifactError, match="budgets"):
        _check_heads(spec({**now, "free": now["free"] + 1}), V, "m")
    with pytest.raises(ArtifactError, match="budgets"):
        _check_heads(spec({k: v for k, v in now.items() if k != "string"}), V, "m")
