"""The artifact folder: what the manifest records, skip-if-unchanged, and refusing tampered files."""

import json
import shutil

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from edgeagent.export.manifest import export_artifact, source_hash, up_to_date  # noqa: E402
from edgeagent.export.trunk import ExportOptions  # noqa: E402
from edgeagent.models.tiny import tiny_model  # noqa: E402
from edgeagent.runtime.manifest import (  # noqa: E402
    FORMAT_VERSION, ArtifactError, load_manifest, read_manifest, sha256_file,
)
from edgeagent.runtime.ort_trunk import OrtTrunk  # noqa: E402


def _tiny_tokenizer(path):
    """A word-level tokenizer with ChatML markers, so special-id lookup has something to find."""
    from tokenizers import Tokenizer, models

    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "<|im_start|>": 3, "<|im_end|>": 4, "hello": 5}
    Tokenizer(models.WordLevel(vocab, unk_token="<unk>")).save(str(path))
    return path


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    root = tmp_path_factory.mktemp("artifact")
    model = tiny_model("llama")
    tok = _tiny_tokenizer(root / "src_tokenizer.json")
    out = root / "art"
    manifest, skipped = export_artifact(model, out, "tiny-llama", tokenizer_file=tok, log=lambda *_: None)
    assert not skipped
    return model, out, tok, manifest


@pytest.fixture
def copy(artifact, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(artifact[1], dst)
    return dst


def test_manifest_records_the_contract(artifact):
    model, out, _, written = artifact
    m = read_manifest(out)
    assert m == written
    assert m.format_version == FORMAT_VERSION and m.model_id == "tiny-llama"
    assert m.files == {"trunk.onnx": sha256_file(out / "trunk.onnx"),
                       "tokenizer.json": sha256_file(out / "tokenizer.json")}
    assert (m.kv.num_layers, m.kv.kv_heads, m.kv.head_dim) == (2, 2, 16)
    assert m.kv.past_key == "past_key_values.%d.key" and m.kv.present_value == "present.%d.value"
    assert (m.hidden_size, m.vocab_size) == (64, 49152)
    assert m.special_tokens == {"bos": 1, "eos": 2, "pad": 2, "im_start": 3, "im_end": 4}
    assert m.quantization == "none" and m.opset >= 17
    assert {"torch", "onnx", "transformers"} <= set(m.exporter)
    trunk = m.graphs["trunk"]
    assert [t.name for t in trunk.inputs][:5] == [
        "input_ids", "position_ids", "logits_index", "past_key_values.0.key", "past_key_values.0.value"]
    assert trunk.outputs[0].shape == ["batch", "n_logits", trunk.outputs[0].shape[2]]
    assert trunk.outputs[1].name == "hidden_states" and trunk.outputs[1].shape == ["batch", "seq", 64]
    raw = json.loads((out / "manifest.json").read_text())
    assert raw["graphs"]["trunk"]["inputs"][3]["shape"] == ["batch", 2, "past_seq", 16]


def test_reexport_is_skipped_when_nothing_changed(artifact):
    model, out, tok, written = artifact
    before = (out / "trunk.onnx").stat().st_mtime_ns
    manifest, skipped = export_artifact(model, out, "tiny-llama", tokenizer_file=tok, log=lambda *_: None)
    assert skipped and manifest == written
    assert (out / "trunk.onnx").stat().st_mtime_ns == before


def test_source_hash_changes_with_options_and_weights(artifact):
    model, out, _, written = artifact
    assert up_to_date(out, written.source_hash)
    assert not up_to_date(out, source_hash(model, ExportOptions(opset=17)))
    other = tiny_model("llama", seed=1)
    assert source_hash(other, ExportOptions()) != written.source_hash


def test_checkpoint_dir_hash_covers_weight_files(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"a")
    first = source_hash(None, ExportOptions(), tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"b")
    assert source_hash(None, ExportOptions(), tmp_path) != first


@pytest.mark.parametrize("name", ["trunk.onnx", "tokenizer.json"])
def test_tampered_file_is_refused_naming_it(copy, name):
    data = bytearray((copy / name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / name).write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=name.replace(".", r"\.") + ".*sha256"):
        load_manifest(copy)
    assert not up_to_date(copy, read_manifest(copy).source_hash)


def test_missing_file_and_missing_manifest_are_refused(copy):
    (copy / "tokenizer.json").unlink()
    with pytest.raises(ArtifactError, match=r"tokenizer\.json.*missing"):
        load_manifest(copy)
    (copy / "manifest.json").unlink()
    with pytest.raises(ArtifactError, match="no manifest"):
        load_manifest(copy)


def test_other_format_version_is_refused(copy):
    raw = json.loads((copy / "manifest.json").read_text())
    raw["format_version"] = FORMAT_VERSION + 1
    (copy / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ArtifactError, match="format_version"):
        load_manifest(copy)


def test_graph_that_does_not_match_the_manifest_is_refused(copy):
    """The files verify, but the manifest describes another graph: the runtime refuses to guess."""
    raw = json.loads((copy / "manifest.json").read_text())
    raw["graphs"]["trunk"]["inputs"][1]["name"] = "attention_mask"
    (copy / "manifest.json").write_text(json.dumps(raw))
    load_manifest(copy)  # hashes are fine
    with pytest.raises(ArtifactError, match=r"trunk\.onnx.*inputs.*attention_mask"):
        OrtTrunk(copy, provider="cpu")


def test_graph_with_other_kv_shape_is_refused(copy):
    raw = json.loads((copy / "manifest.json").read_text())
    raw["graphs"]["trunk"]["inputs"][3]["shape"][1] = 3  # kv_heads 2 in the graph
    (copy / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ArtifactError, match=r"past_key_values\.0\.key.*re-export"):
        OrtTrunk(copy, provider="cpu")


def test_external_weights_file_is_listed_and_verified(tmp_path):
    """Models over 2 GiB (SmolLM3-3B) keep weights beside the graph; the manifest must cover that file."""
    model = tiny_model("llama", vocab_size=512)
    out = tmp_path / "art"
    manifest, _ = export_artifact(model, out, "tiny", external_data=True, log=lambda *_: None)
    assert set(manifest.files) == {"trunk.onnx", "trunk.onnx.data"}
    assert (out / "trunk.onnx").stat().st_size < (out / "trunk.onnx.data").stat().st_size
    trunk = OrtTrunk(out, provider="cpu")
    with torch.no_grad():
        ref = model(input_ids=torch.tensor([[1, 2, 3]])).logits[0, -1].numpy()
    assert abs(trunk.prefill([1, 2, 3])[0] - ref).max() < 1e-4
    data = bytearray((out / "trunk.onnx.data").read_bytes())
    data[-1] ^= 0xFF
    (out / "trunk.onnx.data").write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"trunk\.onnx\.data"):
        load_manifest(out)
