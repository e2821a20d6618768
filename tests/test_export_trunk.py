"""The trunk graph: the PyTorch wrapper against HF, the ONNX graph against the wrapper, the contract.

Tiny random Llama (SmolLM2 architecture) and SmolLM3 (with NoPE layers); each is exported once.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from edgeagent.export.trunk import TrunkGraph, empty_past, export_trunk, trunk_io_spec  # noqa: E402
from edgeagent.models.tiny import tiny_model  # noqa: E402

KINDS = ["llama", "smollm3"]
ATOL = 1e-4


@pytest.fixture(scope="module", params=KINDS)
def exported(request, tmp_path_factory):
    model = tiny_model(request.param)
    path = tmp_path_factory.mktemp(request.param) / "trunk.onnx"
    info = export_trunk(model, path, log=lambda *_: None)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return model, path, info, session


def _ids(batch, seq, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 49152, (batch, seq), generator=g)


def _positions(batch, start, seq):
    return (torch.arange(seq) + start).expand(batch, seq).contiguous()


def _every(seq):
    return torch.arange(seq)


def _run_onnx(session, shape, ids, start, past, index=None):
    feed = {"input_ids": ids.numpy(), "position_ids": _positions(ids.shape[0], start, ids.shape[1]).numpy(),
            "logits_index": (_every(ids.shape[1]) if index is None else torch.as_tensor(index)).numpy()}
    for i in range(shape.num_layers):
        feed[f"past_key_values.{i}.key"] = np.asarray(past[2 * i])
        feed[f"past_key_values.{i}.value"] = np.asarray(past[2 * i + 1])
    return session.run(None, feed)


def test_smollm3_tiny_config_has_nope_layers():
    """The SmolLM3 case only tests NoPE if some layer actually skips rotary embeddings."""
    flags = tiny_model("smollm3").config.no_rope_layers
    assert 0 in flags and 1 in flags


@pytest.mark.parametrize("kind", KINDS)
def test_wrapper_matches_hf_forward(kind):
    model = tiny_model(kind)
    graph = TrunkGraph(model)
    ids = _ids(2, 9)
    with torch.no_grad():
        ref = model(input_ids=ids, output_hidden_states=False)
        ref_hidden = model.model(input_ids=ids).last_hidden_state
        logits, hidden, *present = graph(ids, _positions(2, 0, 9), _every(9), *empty_past(graph.shape, batch=2))
    torch.testing.assert_close(logits, ref.logits, atol=ATOL, rtol=0)
    torch.testing.assert_close(hidden, ref_hidden, atol=ATOL, rtol=0)
    assert present[0].shape == (2, graph.shape.kv_heads, 9, graph.shape.head_dim)


@pytest.mark.parametrize("kind", KINDS)
def test_wrapper_cached_decode_matches_full_forward(kind):
    model = tiny_model(kind)
    graph = TrunkGraph(model)
    ids = _ids(2, 8, seed=1)
    with torch.no_grad():
        full = model(input_ids=ids).logits
        logits, _, *past = graph(ids[:, :5], _positions(2, 0, 5), _every(5), *empty_past(graph.shape, batch=2))
        steps = [logits[:, -1]]
        for t in range(5, 8):
            logits, _, *past = graph(ids[:, t:t + 1], _positions(2, t, 1), _every(1), *past)
            steps.append(logits[:, -1])
    torch.testing.assert_close(torch.stack(steps[:-1], 1), full[:, 4:7], atol=ATOL, rtol=0)


def test_onnx_prefill_with_empty_past_matches_torch(exported):
    model, _, _, session = exported
    shape = TrunkGraph(model).shape
    ids = _ids(3, 7, seed=2)  # batch > 1, past_seq = 0
    logits, hidden, *present = _run_onnx(session, shape, ids, 0, empty_past(shape, batch=3))
    with torch.no_grad():
        ref = model(input_ids=ids).logits.numpy()
        ref_hidden = model.model(input_ids=ids).last_hidden_state.numpy()
    np.testing.assert_allclose(logits, ref, atol=ATOL, rtol=0)
    np.testing.assert_allclose(hidden, ref_hidden, atol=ATOL, rtol=0)
    assert present[0].shape == (3, shape.kv_heads, 7, shape.head_dim)


def test_onnx_logits_only_where_asked(exported):
    """logits_index picks positions (any order, repeats allowed); hidden and the cache are unchanged."""
    model, _, _, session = exported
    shape = TrunkGraph(model).shape
    ids = _ids(2, 6, seed=4)
    every = _run_onnx(session, shape, ids, 0, empty_past(shape, batch=2))
    picked = _run_onnx(session, shape, ids, 0, empty_past(shape, batch=2), index=[5, 0, 5])
    assert picked[0].shape == (2, 3, shape.vocab)
    np.testing.assert_allclose(picked[0], every[0][:, [5, 0, 5]], atol=ATOL, rtol=0)
    for a, b in zip(picked[1:], every[1:]):
        np.testing.assert_allclose(a, b, atol=ATOL, rtol=0)


def test_onnx_cached_decode_and_chunks_match_full_forward(exported):
    """Prefill 4, a chunk of 3 on top of the cache, then single tokens: equal to one full pass."""
    model, _, _, session = exported
    shape = TrunkGraph(model).shape
    ids = _ids(2, 10, seed=3)
    with torch.no_grad():
        full = model(input_ids=ids).logits.numpy()
    out = _run_onnx(session, shape, ids[:, :4], 0, empty_past(shape, batch=2))
    got = [out[0]]
    out = _run_onnx(session, shape, ids[:, 4:7], 4, out[2:])
    got.append(out[0])
    for t in range(7, 10):
        out = _run_onnx(session, shape, ids[:, t:t + 1], t, out[2:])
        got.append(out[0])
    np.testing.assert_allclose(np.concatenate(got, axis=1), full, atol=ATOL, rtol=0)
    assert out[2].shape == (2, shape.kv_heads, 10, shape.head_dim)


def test_graph_contract(exported):
    model, path, info, session = exported
    shape = TrunkGraph(model).shape
    inputs, outputs = trunk_io_spec(shape)
    assert info["inputs"] == inputs and info["outputs"] == outputs
    assert [i.name for i in session.get_inputs()] == [i["name"] for i in inputs]
    assert [o.name for o in session.get_outputs()] == [o["name"] for o in outputs]
    assert [i.shape for i in session.get_inputs()] == [i["shape"] for i in inputs]
    assert [o.shape for o in session.get_outputs()] == [o["shape"] for o in outputs]
    assert session.get_inputs()[0].type == "tensor(int64)"
    assert session.get_outputs()[0].type == "tensor(float)"
    assert outputs[2]["shape"] == ["batch", shape.kv_heads, "total_seq", shape.head_dim]


def test_graph_is_checked_and_free_of_control_flow(exported):
    _, path, _, _ = exported
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)  # strict shape inference
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17
    ops = {n.op_type for n in proto.graph.node} | {n.op_type for f in proto.functions for n in f.node}
    assert not ops & {"If", "Loop", "Scan", "SequenceConstruct", "SequenceAt", "SplitToSequence"}
    assert {n.domain for n in proto.graph.node} <= {"", "ai.onnx"}  # no custom or contrib ops


def test_unsupported_attention_is_refused():
    model = tiny_model("smollm3")
    model.config.use_sliding_window = True
    with pytest.raises(ValueError, match="sliding-window"):
        TrunkGraph(model)


def test_non_fp32_model_is_refused(tmp_path):
    model = tiny_model("llama").to(torch.bfloat16)
    with pytest.raises(ValueError, match="float32"):
        export_trunk(model, tmp_path / "t.onnx", log=lambda *_: None)
