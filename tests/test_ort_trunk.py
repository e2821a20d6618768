"""The ONNX Runtime trunk against PyTorch: greedy tokens, hidden states, cached decode == one pass."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from edgeagent.export.manifest import export_artifact  # noqa: E402
from edgeagent.models.tiny import tiny_model  # noqa: E402
from edgeagent.runtime.ort_trunk import OrtTrunk, greedy  # noqa: E402

ATOL = 1e-4
PROMPTS = [[1, 450, 3104, 17, 9000], [1, 33, 48000, 5, 5, 5, 271, 64, 12]]


@pytest.fixture(scope="module", params=["llama", "smollm3"])
def pair(request, tmp_path_factory):
    model = tiny_model(request.param)
    out = tmp_path_factory.mktemp(request.param)
    export_artifact(model, out, f"tiny-{request.param}", log=lambda *_: None)
    return model, OrtTrunk(out, provider="cpu", max_len=64)


def _torch_greedy(model, prompt, n):
    """The slow reference: a full uncached forward per new token."""
    ids = torch.tensor([prompt])
    out = []
    with torch.no_grad():
        for _ in range(n):
            token = int(model(input_ids=ids).logits[0, -1].argmax())
            out.append(token)
            ids = torch.cat([ids, torch.tensor([[token]])], dim=1)
    return out


@pytest.mark.parametrize("prompt", PROMPTS)
def test_greedy_tokens_match_pytorch(pair, prompt):
    model, trunk = pair
    assert list(greedy(trunk, prompt, 12)) == _torch_greedy(model, prompt, 12)


def test_greedy_stops_at_stop_id(pair):
    model, trunk = pair
    ref = _torch_greedy(model, PROMPTS[0], 6)
    assert list(greedy(trunk, PROMPTS[0], 6, stop_ids=[ref[2]])) == ref[:ref.index(ref[2]) + 1]


def test_prefill_returns_logits_and_hidden_states(pair):
    model, trunk = pair
    prompt = PROMPTS[1]
    last, hidden, cache = trunk.prefill(prompt)
    with torch.no_grad():
        ids = torch.tensor([prompt])
        ref_logits = model(input_ids=ids).logits[0].numpy()
        ref_hidden = model.model(input_ids=ids).last_hidden_state[0].numpy()
    assert hidden.shape == (len(prompt), model.config.hidden_size) and cache.length == len(prompt)
    np.testing.assert_allclose(last, ref_logits[-1], atol=ATOL, rtol=0)
    np.testing.assert_allclose(hidden, ref_hidden, atol=ATOL, rtol=0)


def test_cached_decode_equals_one_full_prefill(pair):
    _, trunk = pair
    seq = PROMPTS[1]
    full, full_hidden, _ = trunk.prefill(seq, all_logits=True)
    _, _, cache = trunk.prefill(seq[:4])
    for t in range(4, len(seq)):
        logits, hidden, cache = trunk.decode(seq[t], cache)
        np.testing.assert_allclose(logits, full[t], atol=ATOL, rtol=0)
        np.testing.assert_allclose(hidden, full_hidden[t], atol=ATOL, rtol=0)
    assert cache.length == len(seq)


def test_a_rewound_cache_continues_as_if_never_extended(pair):
    """length set lower (prefix reuse, a discarded draft): the next call sees only [0, length)."""
    _, trunk = pair
    seq = PROMPTS[1]
    full, _, _ = trunk.prefill(seq, all_logits=True)
    _, _, cache = trunk.prefill(seq[:5])
    trunk.prefill([7, 8, 9], cache)  # a detour, then rewound
    cache.length = 3
    logits, _, cache = trunk.prefill(seq[3:], cache)
    np.testing.assert_allclose(logits, full[-1], atol=ATOL, rtol=0)
    assert cache.length == len(seq) and cache.keys[0].shape[2] == len(seq)


def test_cache_overflow_is_an_error(pair):
    _, trunk = pair
    cache = trunk.new_cache(max_len=6)
    trunk.prefill([1, 2, 3, 4, 5, 6], cache)
    with pytest.raises(ValueError, match="max_len 6"):
        trunk.decode(7, cache)


def test_runtime_metadata_comes_from_the_manifest(pair):
    model, trunk = pair
    assert trunk.kv.num_layers == model.config.num_hidden_layers
    cache = trunk.new_cache()
    assert cache.keys[0].shape == (1, model.config.num_key_value_heads, 0, trunk.kv.head_dim) and cache.max_len == 64
    assert trunk.providers == ["CPUExecutionProvider"]
