"""`edgeagent bench`: the bandwidth probe, the latency statistics, the bandwidth-share arithmetic,
and the command end to end on a tiny artifact (2 requests, every path in the outputs)."""

import json
import math

import pytest
from click.testing import CliRunner

from edgeagent.bench.bandwidth import bandwidth_share, decode_limit, memory_bandwidth, weight_bytes
from edgeagent.bench.latency import builtin_requests, latency_stats, valid_calls


def test_bandwidth_is_positive_and_finite():
    for threads in (1, 2):
        bw = memory_bandwidth(size_mb=16, repeats=2, threads=threads)
        assert math.isfinite(bw) and bw > 0


def test_latency_stats_on_known_inputs():
    s = latency_stats([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])
    assert s["n"] == 10 and s["median_s"] == pytest.approx(5.5) and s["p90_s"] == pytest.approx(9.1)
    assert s["mean_s"] == pytest.approx(5.5)
    assert latency_stats([3.0])["p90_s"] == 3.0
    assert latency_stats([1, 2, 3])["median_s"] == 2.0
    assert latency_stats([])["median_s"] is None


def test_bandwidth_share_arithmetic():
    # 10 GB/s over 500 MB of weights: at most 20 tok/s; 5 tok/s is a quarter of it
    assert decode_limit(10.0, 500_000_000) == pytest.approx(20.0)
    assert bandwidth_share(5.0, 10.0, 500_000_000) == pytest.approx(0.25)


def test_valid_calls_checks_the_schema():
    tools = builtin_requests()[0]["tools"]
    ok = [{"function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]
    assert valid_calls(ok, tools)
    assert not valid_calls([], tools)
    assert not valid_calls([{"function": {"name": "get_weather", "arguments": '{"unit": "celsius"}'}}], tools)
    assert not valid_calls([{"function": {"name": "nope", "arguments": "{}"}}], tools)


@pytest.fixture(scope="module")
def tiny_artifact(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from conftest import make_tiny_heads

    from edgeagent.export.manifest import export_artifact
    from edgeagent.models.tiny import tiny_model
    from edgeagent.scaffold.testing import tiny_tokenizer

    tok = tiny_tokenizer()
    trunk = tiny_model("llama", vocab_size=tok.get_vocab_size(), max_position_embeddings=4096)
    heads = make_tiny_heads(tmp_path_factory.mktemp("heads"), trunk)
    tok_file = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tok.save(str(tok_file))
    out = tmp_path_factory.mktemp("bench") / "tiny"
    export_artifact(trunk, out, "tiny", tokenizer_file=tok_file, heads=heads, family="smollm2", log=lambda *_: None)
    return out


def test_bench_end_to_end_on_a_tiny_artifact(tiny_artifact, tmp_path):
    from edgeagent.cli import main
    from edgeagent.commands.bench import NOT_INSTALLED

    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["bench", "--artifacts", f"fp32={tiny_artifact}", "--requests", "2",
                                    "--warmup", "0", "--decode-tokens", "4", "--gguf", str(tmp_path / "none.gguf"),
                                    "--out", str(out)])
    assert res.exit_code == 0, res.output
    md = (out / "bench.md").read_text()
    data = json.loads((out / "bench.json").read_text())
    names = [p["name"] for p in data["paths"]]
    assert names == ["diffusion-fp32", "ar-fp32", "llama.cpp+grammar", "llama.cpp"]
    for name in names:
        assert f"| {name} |" in md
    for p in data["paths"][:2]:
        assert p["status"] == "ok", p
        assert p["latency"]["n"] == 2 and p["latency"]["p90_s"] >= p["latency"]["median_s"] > 0
        assert p["peak_rss_mb"] > 0 and p["decode_tok_s"] > 0 and p["prefill_tok_s"] > 0
        assert p["weight_bytes"] == weight_bytes(tiny_artifact) > 0
    for p in data["paths"][2:]:
        assert p["status"] == NOT_INSTALLED or p["status"].startswith("missing")
    assert data["bandwidth_gbs"]["used"] > 0
    assert (out / "latency.png").stat().st_size > 0 and (out / "decode.png").stat().st_size > 0


def test_quant_report_scores_each_artifact_against_fp32(tiny_artifact, tmp_path):
    """fp32 against itself agrees 100% by construction; an int8 sibling is smaller and scored; a
    tampered artifact becomes a failed row, not a crash."""
    import shutil

    from edgeagent.cli import main
    from edgeagent.quant import passes
    from edgeagent.quant.artifact import fold_weight_transposes, write_artifact
    from edgeagent.runtime.manifest import load_manifest

    int8 = tmp_path / "tiny-int8"
    int8.mkdir()
    staged = tmp_path / "staged.onnx"
    fold_weight_transposes(tiny_artifact / "trunk.onnx", staged)
    passes.nbits(staged, int8 / "trunk.onnx", 8, 32, 0)
    write_artifact(load_manifest(tiny_artifact), tiny_artifact, int8, int8, "int8", {"method": "int8-nbits8"}, "",
                   copy_others=True)
    broken = tmp_path / "broken"
    shutil.copytree(tiny_artifact, broken)
    with open(broken / "trunk.onnx", "ab") as f:
        f.write(b"tampered")
    out = tmp_path / "report"
    res = CliRunner().invoke(main, ["quant-report", "--artifacts", f"fp32={tiny_artifact}", "--artifacts",
                                    f"int8={int8}", "--artifacts", f"broken={broken}", "--prompts", "3",
                                    "--new-tokens", "4", "--max-prompt-tokens", "4096", "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads((out / "quant_report.json").read_text())["rows"]}
    assert rows["fp32"]["agreement"] == 1.0 and rows["fp32"]["positions"] == 12
    assert 0 < rows["int8"]["agreement"] <= 1 and rows["int8"]["method"] == "int8-nbits8"
    assert rows["int8"]["size_mb"] < rows["fp32"]["size_mb"]
    for r in (rows["fp32"], rows["int8"]):
        assert r["decode_tok_s"] > 0 and r["prefill_tok_s"] > 0 and "bfcl" not in r
    assert rows["broken"]["status"].startswith("failed") and "sha256" in rows["broken"]["status"]
    md = (out / "quant_report.md").read_text()
    assert "| int8 | int8-nbits8 |" in md and "| broken | failed" in md


def test_quant_report_table_gives_bfcl_deltas_against_fp32():
    from edgeagent.commands.quant_report import markdown

    def row(name, agree, ast, irr):
        return {"name": name, "status": "ok", "method": name, "size_mb": 1.0, "agreement": agree,
                "sequences_exact": agree, "decode_tok_s": 1.0, "prefill_tok_s": 1.0,
                "bfcl": {"non_live_ast": ast, "irrelevance": irr}}

    md = markdown([row("fp32", 1.0, 0.05, 0.725), row("int8", 0.976, 0.05, 0.675), {"name": "fp8", "status": "failed: x"}],
                  {"prompts": 50, "new_tokens": 16, "threads": None, "machine": "m", "bfcl_limit": 20})
    assert "| fp32 | fp32 | 1.0 | 100.0% | 100.0% | 1.0 | 1 | 5.0% | 72.5% |" in md
    assert "| 5.0% (+0.0) | 67.5% (-5.0) |" in md and "| fp8 | failed: x |" in md
    assert "20 seeded items per category" in md
