"""`edgeagent export` on a tiny checkpoint folder: writes a verified artifact, then skips when unchanged."""

import pytest
from click.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("onnx")

from edgeagent.cli import main  # noqa: E402
from edgeagent.models.tiny import tiny_model  # noqa: E402
from edgeagent.runtime.manifest import load_manifest  # noqa: E402
from edgeagent.runtime.ort_trunk import OrtTrunk, greedy  # noqa: E402


def _save_tokenizer(folder):
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "<|im_start|>": 3, "<|im_end|>": 4, "hello": 5}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>").save_pretrained(folder)


def test_export_command_writes_then_skips(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEAGENT_HOME", str(tmp_path / "home"))
    ckpt = tmp_path / "tiny-llama"
    tiny_model("llama", vocab_size=512).save_pretrained(ckpt)
    _save_tokenizer(ckpt)
    out = tmp_path / "art"
    runner = CliRunner()

    first = runner.invoke(main, ["export", "--model", str(ckpt), "--out", str(out), "--opset", "17"])
    assert first.exit_code == 0, first.output
    assert "[3/3] exporting" in first.output and "done in" in first.output
    manifest = load_manifest(out)
    assert manifest.opset == 17 and manifest.model_id == str(ckpt) and manifest.tokenizer == "tokenizer.json"
    assert manifest.special_tokens["im_start"] == 3 and (out / "tokenizer.json").is_file()
    assert len(list(greedy(OrtTrunk(out, provider="cpu"), [1, 2, 3], 4))) == 4

    second = runner.invoke(main, ["export", "--model", str(ckpt), "--out", str(out), "--opset", "17"])
    assert second.exit_code == 0 and "up to date" in second.output and "exporting" not in second.output


def test_export_command_names_a_missing_model(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEAGENT_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(main, ["export", "--model", str(tmp_path / "nope")])
    assert result.exit_code != 0 and "nope" in result.output


def test_export_with_lora_merges_the_weights(tmp_path, monkeypatch):
    """--lora: the artifact's trunk is the merged one (logits match PyTorch's merged trunk, not the
    plain one), the manifest says so, the default folder is named after the LoRA, and a rerun skips."""
    import numpy as np
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM

    from edgeagent.train.lora import LoraConfig, add_lora, lora_state_dict, merge_lora

    monkeypatch.setenv("EDGEAGENT_HOME", str(tmp_path / "home"))
    ckpt = tmp_path / "tiny-llama"
    tiny_model("llama", vocab_size=512).save_pretrained(ckpt)
    _save_tokenizer(ckpt)
    torch.manual_seed(0)
    with_lora = AutoModelForCausalLM.from_pretrained(ckpt)
    cfg = LoraConfig(r=4, alpha=8.0)
    add_lora(with_lora, cfg)
    state = {k: torch.randn_like(v) * 0.5 for k, v in lora_state_dict(with_lora).items()}
    lora = tmp_path / "runs" / "mylora"
    lora.mkdir(parents=True)
    save_file(state, str(lora / "lora.safetensors"))
    cfg.save(lora / "lora.json")

    runner = CliRunner()
    result = runner.invoke(main, ["export", "--model", str(ckpt), "--lora", str(lora), "--opset", "17"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "home" / "artifacts" / "tiny-llama-lora-mylora"
    manifest = load_manifest(out)
    assert manifest.model_id == f"{ckpt}+lora:mylora"
    ids = np.array([1, 5, 2, 5], np.int64)
    trunk = OrtTrunk(out, provider="cpu")
    logits, _ = trunk.forward(ids, trunk.new_cache(), all_logits=True)
    merged, plain = (AutoModelForCausalLM.from_pretrained(ckpt).eval() for _ in range(2))
    merge_lora(merged, state, cfg)
    with torch.no_grad():
        want = merged(torch.from_numpy(ids)[None]).logits[0].numpy()
        base = plain(torch.from_numpy(ids)[None]).logits[0].numpy()
    np.testing.assert_allclose(logits, want, atol=1e-4, rtol=0)
    assert np.abs(want - base).max() > 1e-2  # the LoRA weights change the trunk

    again = runner.invoke(main, ["export", "--model", str(ckpt), "--lora", str(lora), "--opset", "17"])
    assert again.exit_code == 0 and "up to date" in again.output
    bad = runner.invoke(main, ["export", "--model", str(ckpt), "--lora", str(tmp_path)])
    assert bad.exit_code != 0 and "lora.safetensors" in bad.output
