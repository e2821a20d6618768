"""Quantization passes on a tiny random Llama: valid graphs with the trunk's I/O contract, logits
near fp32, a manifest that records the quantization, and tampering refused."""

import json
import shutil
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")

from edgeagent.export.manifest import export_artifact  # noqa: E402
from edgeagent.models.tiny import tiny_model  # noqa: E402
from edgeagent.quant import measure, passes  # noqa: E402
from edgeagent.quant.artifact import (  # noqa: E402
    MIN_AGREEMENT, QuantConfig, fold_weight_transposes, quantize_artifact, select, write_artifact,
)
from edgeagent.runtime.manifest import MANIFEST_NAME, ArtifactError, load_manifest, sha256_file  # noqa: E402
from edgeagent.runtime.ort_trunk import OrtTrunk  # noqa: E402

PROMPTS = [[1, 450, 3104, 17, 9000, 5, 6, 7], [1, 33, 48000, 5, 5, 5, 271, 64, 12]]
KV = dict(num_layers=2, kv_heads=2, head_dim=16)  # tiny_llama_config

# Max |logit - fp32 logit| on the tiny model (fp32 logits reach ~1.3, std ~0.16). Measured:
# nbits8 0.007 (acc4 0.02), static 0.18 (asym 0.18), dynamic 0.25, int4 0.12, fp8 0.06 (0.6 with ORT's own fp8 scales); each bound is ~2x that, so a broken
# pass (wrong scales, a dropped node: errors of the logits' own size) fails. Static was 0.05 before the graph's
# logits_index input: the Q/DQ nodes and scales around the LM head came out identical, the cause is not found
# (static QDQ is not among --int8's default candidates).
PASSES = {
    "int8-nbits": (lambda s, d: passes.nbits(s, d, 8, 32, 0), 0.02),
    "int8-dynamic": (passes.int8_dynamic, 0.5),
    "int8-static": (lambda s, d: passes.int8_static(s, d, passes.TrunkCalibrationReader(PROMPTS, **KV)), 0.35),
    "int8-nbits-acc4": (lambda s, d: passes.nbits(s, d, 8, 32, 4), 0.05),
    "int8-static-asym": (lambda s, d: passes.int8_static(s, d, passes.TrunkCalibrationReader(PROMPTS, **KV),
                                                         symmetric_activations=False), 0.35),
    "int4-acc0": (lambda s, d: passes.nbits(s, d, 4, 32, 0), 0.25),
    "int4-acc4": (lambda s, d: passes.nbits(s, d, 4, 32, 4), 0.25),
    "fp8": (lambda s, d: passes.fp8(s, d, passes.TrunkCalibrationReader(PROMPTS, **KV, same_length=True)), 0.12),
}


@pytest.fixture(scope="module")
def fp32(tmp_path_factory):
    root = tmp_path_factory.mktemp("quant")
    export_artifact(tiny_model("llama"), root / "fp32", "tiny-llama", log=lambda *_: None)
    staged = root / "staged.onnx"
    assert fold_weight_transposes(root / "fp32" / "trunk.onnx", staged) == 1  # the tied lm_head
    trunk = OrtTrunk(root / "fp32", provider="cpu")
    ref = [trunk.prefill(p, all_logits=True)[0] for p in PROMPTS]
    return root, staged, ref


@pytest.mark.parametrize("name", sorted(PASSES))
def test_pass_keeps_contract_and_stays_close(fp32, name):
    root, staged, ref = fp32
    run, atol = PASSES[name]
    out = root / name
    out.mkdir()
    info = run(staged, out / "trunk.onnx")
    assert info["nodes"] == 2 * 7 + 1  # q, k, v, o, gate, up, down per layer + lm_head
    base = load_manifest(root / "fp32")
    scheme = name.split("-")[0]
    write_artifact(base, root / "fp32", out, out, scheme, {"method": name}, "", copy_others=False)
    trunk = measure.open_trunk(out)  # OrtTrunk checks the graph's I/O against the fp32 manifest's
    # Smaller than its fp32 input (the tied embedding stays fp32 for the Gather in every pass).
    assert (out / "trunk.onnx").stat().st_size < staged.stat().st_size
    for p, want in zip(PROMPTS, ref):
        got = trunk.prefill(p, all_logits=True)[0]
        err = float(np.abs(got - want).max())
        assert 0 < err <= atol, f"{name}: max |Δlogit| {err:.4f} (bound {atol})"


@pytest.mark.parametrize("name", ["int8-dynamic", "int8-static", "int8-nbits"])
def test_excluded_lm_head_stays_fp32(fp32, name):
    """`exclude` leaves the output projection a float MatMul on its fp32 weight."""
    import onnx

    root, staged, _ = fp32
    lm = passes.edge_matmuls(passes.weight_matmuls(staged), KV["num_layers"])
    run = {"int8-dynamic": lambda s, d: passes.int8_dynamic(s, d, exclude=lm),
           "int8-static": lambda s, d: passes.int8_static(s, d, passes.TrunkCalibrationReader(PROMPTS, **KV),
                                                          exclude=lm),
           "int8-nbits": lambda s, d: passes.nbits(s, d, 8, 32, 4, exclude=lm)}[name]
    out = root / f"{name}-xlm"
    out.mkdir()
    info = run(staged, out / "trunk.onnx")
    assert info["nodes"] == 2 * 7 and info["fp32_nodes"] == lm
    g = onnx.load(str(out / "trunk.onnx")).graph
    (node,) = [n for n in g.node if n.name == lm[0]]
    assert node.op_type == "MatMul" and node.input[1] in {t.name for t in g.initializer}
    assert not any(n.op_type == "DequantizeLinear" and n.output[0] == node.input[1] for n in g.node)


def test_edge_matmuls_picks_lm_head_and_first_last_layers():
    nodes = [f"m{i}" for i in range(30 * 7 + 1)]
    assert passes.edge_matmuls(nodes, 30) == ["m210"]
    assert passes.edge_matmuls(nodes, 30, first_last=True) == nodes[:7] + nodes[203:210] + ["m210"]
    assert passes.edge_matmuls(nodes, 30, lm_head=False, first_last=True) == nodes[:7] + nodes[203:210]
    # Two layers: first + last would be the whole model, so they stay quantized.
    assert passes.edge_matmuls(nodes[:15], 2, first_last=True) == ["m14"]
    with pytest.raises(ValueError, match="do not split"):
        passes.edge_matmuls(nodes[:30], 4, first_last=True)


def test_selection_prefers_fastest_above_threshold_else_most_accurate():
    c = lambda name, a, s: {"name": name, "agreement": a, "decode_tok_s": s}  # noqa: E731
    slow_exact, fast_ok, fastest_bad = c("a", 0.99, 0.5), c("b", MIN_AGREEMENT, 15.0), c("c", 0.30, 17.0)
    assert select([slow_exact, fast_ok, fastest_bad]) == (fast_ok, True)
    assert select([slow_exact, c("d", 0.97, 15.0), fast_ok]) == (c("d", 0.97, 15.0), True)  # tie: accuracy
    assert select([c("e", 0.90, 9.0), fastest_bad]) == (c("e", 0.90, 9.0), False)
    assert select([fast_ok], min_agreement=0.999) == (fast_ok, False)


def test_a_pass_never_writes_in_place(fp32):
    root, staged, _ = fp32
    with pytest.raises(ValueError, match="must not overwrite"):
        passes.int8_dynamic(staged, staged)


def test_calibration_reader_feeds_prefill_with_empty_past():
    reader = passes.TrunkCalibrationReader(PROMPTS, **KV)
    first = reader.get_next()
    assert first["input_ids"].shape == (1, 8) and first["position_ids"].tolist() == [list(range(8))]
    assert first["past_key_values.1.value"].shape == (1, 2, 0, 16)
    assert reader.get_next()["input_ids"].shape == (1, 9) and reader.get_next() is None
    reader.rewind()
    assert reader.get_next() is not None
    same = passes.TrunkCalibrationReader(PROMPTS, **KV, same_length=True)
    assert [same.get_next()["input_ids"].shape[1] for _ in range(2)] == [8, 8]


def test_agreement_counts_positions():
    ref = measure.Reference(prompts=[[1], [2]], tokens=[[3, 4], [5, 6]])
    logits = [np.eye(8)[[3, 0]], np.eye(8)[[5, 6]]]  # prompt 0: one of two right; prompt 1: both
    agree, positions, exact, diff = measure.agreement(logits, ref, logits)
    assert (agree, positions, exact, diff) == (0.75, 4, 0.5, 0.0)


def _fake_mix(n=12):
    words = ["what", "is", "the", "weather", "in", "paris", "tokyo", "book", "a", "table", "for", "two"]
    dev = [SimpleNamespace(messages=[{"role": "user", "content": " ".join(words[i % 5:i % 5 + 4 + i % 3])}],
                           tools=[]) for i in range(n)]
    return SimpleNamespace(dev=dev), words


def _with_tokenizer(folder, words):
    """Give the tiny artifact a word-level tokenizer and a chat family, as `edgeagent export` would."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {w: i for i, w in enumerate(["<unk>", "<|im_start|>", "<|im_end|>", *words])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(folder / "tokenizer.json"))
    raw = json.loads((folder / MANIFEST_NAME).read_text())
    raw["tokenizer"], raw["chat_template"] = "tokenizer.json", "chatml"
    raw["files"]["tokenizer.json"] = sha256_file(folder / "tokenizer.json")
    (folder / MANIFEST_NAME).write_text(json.dumps(raw))


@pytest.fixture(scope="module")
def int8_artifact(fp32):
    root, _, _ = fp32
    src = root / "fp32-tok"
    shutil.copytree(root / "fp32", src)
    mix, words = _fake_mix()
    _with_tokenizer(src, words)
    cfg = QuantConfig(scheme="int8", eval_prompts=3, new_tokens=4, calib_prompts=3, max_prompt_tokens=4096)
    manifest, skipped = quantize_artifact(src, root / "int8", cfg, mix=mix, log=lambda *_: None)
    return src, root / "int8", manifest, skipped, cfg, mix


def test_quantized_artifact_records_choice_and_runs(int8_artifact):
    src, dst, manifest, skipped, cfg, mix = int8_artifact
    assert not skipped and manifest.quantization == "int8"
    info = load_manifest(dst).quantization_info
    names = [c["name"] for c in info["candidates"]]
    assert names == [f"int8-{m}" for m in cfg.int8_methods] and info["method"] in names
    ran = [c for c in info["candidates"] if "agreement" in c]
    chosen, met = select(ran, cfg.min_agreement)
    assert info["method"] == chosen["name"] and info["met_min_agreement"] == met
    assert info["measured"]["agreement"] == chosen["agreement"] and info["measured"]["positions"] == 12
    # the agreement warning comes iff the bar is missed; a note that the int8 artifact decodes no
    # faster than fp32 may join it, depending on this machine's load (timings are not asserted)
    assert ("greedy-token agreement" in (info["warning"] or "")) == (not met)
    assert info["min_agreement"] == MIN_AGREEMENT
    assert info["chosen_by"].startswith("among candidates with greedy-token agreement >= 95%")
    for c in ran:  # every candidate's numbers are recorded
        assert 0 <= c["agreement"] <= 1 and c["decode_tok_s"] > 0 and c["size_mb"] > 0
    edges = {c["name"]: c["params"]["fp32_nodes"] for c in ran}
    # Two layers: first/last stay quantized (they would be the whole model); the lm_head stays fp32.
    assert len(edges["int8-dynamic"]) == 1 and edges["int8-nbits8-acc4-fp32head"] == edges["int8-dynamic"]
    assert edges["int8-nbits8"] == edges["int8-nbits8-acc4"] == []
    assert info["lm_head_quantized"] == (not chosen["params"]["fp32_nodes"])
    assert info["fp32"]["source_hash"] == load_manifest(src).source_hash
    assert not (dst / ".candidates").exists() and (dst / "tokenizer.json").is_file()
    trunk = OrtTrunk(dst, provider="cpu")
    assert trunk.prefill(PROMPTS[0])[0].shape == (manifest.vocab_size,)
    again, skipped = quantize_artifact(src, dst, cfg, mix=mix, log=lambda *_: None)
    assert skipped and again.quantization_info["method"] == info["method"]


def test_tampered_quantized_trunk_is_refused(int8_artifact, tmp_path):
    _, dst, _, _, _, _ = int8_artifact
    copy = tmp_path / "int8"
    shutil.copytree(dst, copy)
    with open(copy / "trunk.onnx", "r+b") as f:
        f.seek(-16, 2)
        last = f.read(1)
        f.seek(-16, 2)
        f.write(bytes([last[0] ^ 0xFF]))
    with pytest.raises(ArtifactError, match="trunk.onnx: sha256"):
        OrtTrunk(copy, provider="cpu")


def test_quantizing_a_quantized_artifact_is_refused(int8_artifact, tmp_path):
    _, dst, _, _, cfg, mix = int8_artifact
    with pytest.raises(ArtifactError, match="already quantized"):
        quantize_artifact(dst, tmp_path / "again", cfg, mix=mix, log=lambda *_: None)


def test_int4_body_with_8bit_head(fp32, tmp_path):
    """head8: every body MatMul becomes 4-bit (asymmetric), the output projection alone 8-bit, the
    staging file is gone, and the logits stay within the int4 bound."""
    import onnx

    from edgeagent.quant.artifact import _run_pass

    root, staged, ref = fp32
    out = tmp_path / "head8"
    out.mkdir()
    spec = {"pass": "nbits", "bits": 4, "block_size": 32, "accuracy_level": 0, "symmetric": False, "head_bits": 8}
    info = _run_pass(spec, staged, out / "trunk.onnx", calib=None, num_layers=2)
    assert info["nodes"] == 2 * 7 + 1 and info["head_bits"] == 8 and info["fp32_nodes"] == []
    assert sorted(p.name for p in out.iterdir()) == ["trunk.onnx"]
    g = onnx.load(str(out / "trunk.onnx")).graph
    nbits = [n for n in g.node if n.op_type == "MatMulNBits"]
    bits = [next(a.i for a in n.attribute if a.name == "bits") for n in nbits]
    assert bits.count(4) == 14 and bits.count(8) == 1
    head = next(n for n in nbits if next(a.i for a in n.attribute if a.name == "bits") == 8)
    assert next(a.i for a in head.attribute if a.name == "N") == 49152  # the vocab: the output projection
    write_artifact(load_manifest(root / "fp32"), root / "fp32", out, out, "int4", {"method": "head8"}, "",
                   copy_others=False)
    trunk = measure.open_trunk(out)
    for p, want in zip(PROMPTS, ref):
        err = float(np.abs(trunk.prefill(p, all_logits=True)[0] - want).max())
        assert 0 < err <= 0.25, err


def test_fp8_leaves_matmul_outputs_unquantized(fp32, tmp_path):
    """FP8 Q/DQ sits on each MatMul's inputs only: a Q/DQ on the output would round the logits
    themselves to 3 mantissa bits (2% greedy-token agreement on SmolLM2-135M)."""
    import onnx

    _, staged, _ = fp32
    passes.fp8(staged, tmp_path / "trunk.onnx", passes.TrunkCalibrationReader(PROMPTS, **KV, same_length=True))
    g = onnx.load(str(tmp_path / "trunk.onnx")).graph
    matmul_out = {o for n in g.node if n.op_type == "MatMul" for o in n.output}
    quantized_in = {n.input[0] for n in g.node if n.op_type == "QuantizeLinear"}
    assert not matmul_out & quantized_in
    assert any(n.op_type == "DequantizeLinear" for n in g.node)  # the inputs are still FP8
    assert "logits" in {o.name for o in g.output}
