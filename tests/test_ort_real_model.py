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

    from edgeagent.heads.io import heads_dir

    model, tok = load_trunk(MODEL)
    out = default_out(MODEL)
    # with the shipped heads, as `edgeagent export` writes it: the user's cached artifact stays whole
    export_artifact(model, out, MODEL, checkpoint_dir=checkpoint, heads=heads_dir(MODEL), log=lambda *_: None)
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


@pytest.mark.model
@pytest.mark.slow
def test_parity_command_on_dev_inputs(real, tmp_path):
    """`edgeagent eval parity`: ONNX fp32 and PyTorch give the same greedy tokens and the same whole
    responses (mode, calls, text) on dev inputs, and the report says how many it compared."""
    import json

    from click.testing import CliRunner

    from edgeagent.cli import main

    res = CliRunner().invoke(main, ["eval", "parity", "--prompts", "3", "--new-tokens", "8", "--requests", "3",
                                    "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "parity.json").read_text())["summary"]
    assert s == {"prompts": 3, "greedy_identical": 3, "responses": 3, "responses_identical": 3}
