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
