"""The real embedded trunk (SmolLM2-135M) on ONNX Runtime: same greedy tokens as PyTorch.

Exports into the artifact cache once (a few minutes on a CPU); later runs find it up to date.
"""

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")

from edgeagent.models.registry import ModelNotFound, resolve  # noqa: E402

MODEL = "smollm2-135m"
PROMPTS = ["What is the capital of France?", "List three prime numbers."]


@pytest.fixture(scope="module")
def real():
    try:
        checkpoint = resolve(MODEL)
    except ModelNotFound:
        pytest.skip(f"{MODEL} is not cached; run `edgeagent models fetch`")
    from edgeagent.commands.export import default_out
    from edgeagent.export.manifest import export_artifact
    from edgeagent.models.load import load_trunk
    from edgeagent.runtime.ort_trunk import OrtTrunk

    model, tok = load_trunk(MODEL)
    out = default_out(MODEL)
    export_artifact(model, out, MODEL, checkpoint_dir=checkpoint, log=lambda *_: None)
    return model, tok, OrtTrunk(out, provider="cpu")


@pytest.mark.model
@pytest.mark.slow
def test_manifest_of_the_real_trunk(real):
    _, tok, trunk = real
    m = trunk.manifest
    assert (m.kv.num_layers, m.kv.kv_heads, m.kv.head_dim, m.hidden_size) == (30, 3, 64, 576)
    assert m.special_tokens["im_start"] == tok.convert_tokens_to_ids("<|im_start|>")
    assert m.special_tokens["im_end"] == tok.convert_tokens_to_ids("<|im_end|>")
    assert m.chat_template == "smollm2"


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("text", PROMPTS)
def test_greedy_tokens_match_pytorch(real, text):
    import torch

    from edgeagent.runtime.ort_trunk import greedy

    model, tok, trunk = real
    ids = tok.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True,
                                  tokenize=True, return_dict=True)["input_ids"]
    eos = trunk.manifest.special_tokens["im_end"]
    got = list(greedy(trunk, ids, 24, stop_ids=[eos]))
    with torch.no_grad():
        ref = model.generate(torch.tensor([ids]), max_new_tokens=24, do_sample=False, eos_token_id=eos)
    assert got == ref[0, len(ids):].tolist()
