"""`edgeagent bench`: every path on the same machine, in one run, on the same requests."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import click

CACHE = Path(os.environ.get("EDGEAGENT_HOME", Path.home() / ".cache" / "edgeagent"))
DEFAULT_FP32 = CACHE / "artifacts" / "smollm2-135m"
DEFAULT_GGUF = CACHE / "downloads" / "SmolLM2-135M-Instruct.Q4_1.gguf"
NOT_INSTALLED = "not installed: pip install 'edgeagent[bench]'"


def parse_artifacts(pairs, siblings=("int8", "int4")) -> dict[str, Path]:
    """name -> folder: fp32 (default cache folder unless given), then <fp32>-<s> for each sibling s
    that exists (unless given), then any other NAME=DIR given."""
    given = {}
    for p in pairs:
        name, sep, folder = p.partition("=")
        if not sep or not name or not folder:
            raise click.BadParameter(f"{p!r}: expected NAME=DIR, e.g. int8=~/.cache/edgeagent/artifacts/smollm2-135m-int8",
                                     param_hint="--artifacts")
        given[name] = Path(folder).expanduser()
    out = {"fp32": given.pop("fp32", DEFAULT_FP32)}
    for q in siblings:
        folder = given.pop(q, out["fp32"].with_name(f"{out['fp32'].name}-{q}"))
        if folder.exists():
            out[q] = folder
    out.update(given)
    return out


def _run_worker(spec: dict, tmp: Path) -> dict:
    """Run one path in a fresh interpreter (its own peak RSS); a failure becomes the row's status."""
    spec_file, out_file = tmp / f"{spec['name']}.spec.json", tmp / f"{spec['name']}.out.json"
    spec_file.write_text(json.dumps(spec))
    proc = subprocess.run([sys.executable, "-m", "edgeagent.bench.worker", str(spec_file), str(out_file)],
                          capture_output=True, text=True)
    if proc.returncode != 0 or not out_file.exists():
        last = [line for line in proc.stderr.strip().splitlines() if line.strip()][-1:] or [f"exit {proc.returncode}"]
        return {"name": spec["name"], "status": f"failed: {last[0][:200]}"}
    return {"name": spec["name"], "status": "ok", **json.loads(out_file.read_text())}


@click.command("bench")
@click.option("--artifacts", "artifact_pairs", multiple=True, metavar="NAME=DIR",
              help="An exported artifact folder to bench (repeatable). fp32 defaults to "
                   "~/.cache/edgeagent/artifacts/smollm2-135m; <fp32>-int8 and -int4 are added when they exist.")
@click.option("--gguf", type=click.Path(path_type=Path), default=DEFAULT_GGUF, show_default=True,
              help="The GGUF llama.cpp runs (with and without its JSON-schema grammar).")
@click.option("--requests", "n_requests", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="Requests per path: built-in tool requests first, then dev-split tool examples.")
@click.option("--warmup", type=click.IntRange(0, 100), default=1, show_default=True,
              help="Untimed requests run first on each path.")
@click.option("--threads", type=click.IntRange(1, 512), default=None,
              help="Threads for ONNX Runtime and llama.cpp (default: every core for both); also the "
                   "multi-threaded bandwidth probe's threads.")
@click.option("--decode-tokens", type=click.IntRange(1, 1024), default=32, show_default=True,
              help="Greedy trunk steps timed for the ONNX paths' decode tok/s.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data folder for the dev split (default: $EDGEAGENT_DATA or shared/data).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/bench"), show_default=True,
              help="Where bench.md, bench.json, latency.png and decode.png go.")
def bench(artifact_pairs, gguf, n_requests, warmup, threads, decode_tokens, data_dir, out):
    """Latency and throughput of every path on this machine, against its memory-bandwidth limit.

    Paths: the diffusion pipeline on each ONNX artifact (fp32, and int8/int4 when present), the
    constrained-AR pipeline (args_decoder="ar") on the fp32 artifact, and llama.cpp on the GGUF with
    and without its JSON-schema grammar (when llama-cpp-python is installed). Each path runs in a
    fresh process on the same requests (tool_choice "required"). Per path: request -> schema-valid
    call latency (median, p90), valid calls, prefill and decode tokens/s, peak RSS.

    The decode limit is bandwidth / weight bytes per token, the bandwidth a numpy copy's best of 5
    and the bytes the trunk file's size (the tied embedding is the LM head, so every row is read).
    """
    from edgeagent.bench.bandwidth import memory_bandwidth, weight_bytes
    from edgeagent.bench.latency import bench_requests
    from edgeagent.bench.report import write

    artifacts = parse_artifacts(artifact_pairs)
    try:
        requests = bench_requests(n_requests, data_dir)
    except (OSError, ValueError) as e:
        raise click.ClickException(f"cannot build the dev requests ({e}); pass --data DIR or fewer --requests") from None
    n_threads = threads or os.cpu_count() or 1
    click.echo(f"bandwidth probe (1 and {n_threads} threads)", err=True)
    single = memory_bandwidth(threads=1)
    multi = memory_bandwidth(threads=n_threads)
    result = {"n_requests": len(requests), "warmup": warmup, "threads": threads,
              "bandwidth_gbs": {"single": single, "multi": multi, "threads": n_threads, "repeats": 5,
                                "used": max(single, multi)},
              "weight_bytes_rule": "trunk graph file(s) or GGUF size; nothing subtracted (tied embedding = LM head)",
              "paths": []}
    specs = []
    for name, folder in artifacts.items():
        specs.append({"name": f"diffusion-{name}", "kind": "pipeline", "artifact": str(folder), "decoder": "diffusion"})
        if name == "fp32":
            specs.append({"name": "ar-fp32", "kind": "pipeline", "artifact": str(folder), "decoder": "ar"})
    have_llama = importlib.util.find_spec("llama_cpp") is not None
    for grammar in (True, False):
        specs.append({"name": "llama.cpp+grammar" if grammar else "llama.cpp", "kind": "llama_cpp",
                      "gguf": str(gguf), "grammar": grammar})
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        req_file = tmp / "requests.jsonl"
        req_file.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in requests), encoding="utf-8")
        for spec in specs:
            if spec["kind"] == "llama_cpp" and not have_llama:
                result["paths"].append({"name": spec["name"], "status": NOT_INSTALLED})
                continue
            src = spec.get("artifact") or spec["gguf"]
            if not Path(src).exists():
                result["paths"].append({"name": spec["name"], "status": f"missing: {src}"})
                continue
            click.echo(f"{spec['name']}: {len(requests)} requests", err=True)
            spec.update(requests=str(req_file), warmup=warmup, threads=threads, decode_tokens=decode_tokens)
            row = _run_worker(spec, tmp)
            if row["status"] == "ok":
                row["weight_bytes"] = weight_bytes(src)
                row["source"] = src
            result["paths"].append(row)
    click.echo(write(result, out), nl=False)
    click.echo(f"-> {out / 'bench.md'}, bench.json, latency.png, decode.png", err=True)
