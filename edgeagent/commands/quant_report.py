"""`edgeagent quant-report`: every quantized artifact against its fp32 source, on the same prompts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from edgeagent.commands.bench import DEFAULT_FP32, parse_artifacts


def _prefill_speed(trunk, prompts: list[list[int]], repeats: int = 2) -> float:
    """Prompt tokens per second of one prefill over the longest prompt (best of `repeats`)."""
    p = max(prompts, key=len)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        trunk.prefill(p, trunk.new_cache(len(p) + 1))
        best = min(best, time.perf_counter() - t0)
    return len(p) / best


def _bfcl(folder: Path, limit: int, seed: int, quiet: bool) -> dict:
    from edgeagent.evals.harness import evaluate
    from edgeagent.evals.predictors import get_predictor

    report = evaluate(get_predictor("diffusion", artifacts=folder, steps=1), limit=limit, seed=seed,
                      progress=not quiet)
    s = report["summary"]
    return {"non_live_ast": s["non_live_ast"], "irrelevance": s["irrelevance"], "live": s["live"],
            "items": len(report["items"])}


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _bfcl_cell(row: dict, base: dict, key: str) -> str:
    """The row's BFCL score, with its difference from fp32 in points (not on the fp32 row itself)."""
    x, ref = (row.get("bfcl") or {}).get(key), (base.get("bfcl") or {}).get(key)
    if x is None or ref is None or row is base:
        return _pct(x)
    return f"{_pct(x)} ({100 * (x - ref):+.1f})"


AGREEMENT_NOTE = ("agreement: share of prompt × token positions where the artifact's argmax, teacher-forced on "
                  "fp32's greedy continuation, equals fp32's token (quant/measure.py).")


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [f"# Quantized trunks against fp32 ({meta['prompts']} dev prompts × {meta['new_tokens']} greedy "
             f"tokens, {meta['threads'] or 'default'} threads, {meta['machine']})", "",
             "| artifact | method | size MB | agreement | sequences exact | decode tok/s | prefill tok/s "
             "| BFCL non-live AST | BFCL irrelevance |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    base = next((r for r in rows if r["name"] == "fp32"), {})
    for r in rows:
        if r.get("status", "ok") != "ok":
            lines.append(f"| {r['name']} | {r['status']} | | | | | | | |")
            continue
        lines.append(
            f"| {r['name']} | {r['method']} | {r['size_mb']:.1f} | {_pct(r['agreement'])} | "
            f"{_pct(r['sequences_exact'])} | {r['decode_tok_s']:.1f} | {r['prefill_tok_s']:.0f} | "
            f"{_bfcl_cell(r, base, 'non_live_ast')} | {_bfcl_cell(r, base, 'irrelevance')} |")
    bfcl = (f"BFCL: the diffusion path, {meta['bfcl_limit']} seeded items per category, the same sample for every "
            "artifact; in brackets the difference from fp32 in points." if meta["bfcl_limit"]
            else "BFCL not run (--bfcl-limit 0).")
    return "\n".join(lines + ["", f"{AGREEMENT_NOTE} {bfcl}"]) + "\n"


@click.command("quant-report")
@click.option("--artifacts", "artifact_pairs", multiple=True, metavar="NAME=DIR",
              help="An artifact folder to report (repeatable). fp32 defaults to "
                   "~/.cache/edgeagent/artifacts/smollm2-135m; its -int8, -int4 and -fp8 siblings are added "
                   "when they exist.")
@click.option("--prompts", "n_prompts", type=click.IntRange(1, 500), default=50, show_default=True,
              help="Dev-split prompts (the 'eval' half, never BFCL) for greedy-token agreement.")
@click.option("--new-tokens", type=click.IntRange(1, 256), default=16, show_default=True,
              help="Greedy fp32 tokens per prompt that each artifact is scored on.")
@click.option("--max-prompt-tokens", type=click.IntRange(8, 4096), default=256, show_default=True)
@click.option("--bfcl-limit", type=click.IntRange(min=0), default=0, show_default=True,
              help="BFCL items per category for the diffusion path on every artifact (0: skip; the full "
                   "set takes hours on a small CPU).")
@click.option("--bfcl-skip", multiple=True, metavar="NAME",
              help="An artifact to leave out of the BFCL run (repeatable), e.g. fp8, whose CPU reference "
                   "kernels take minutes per item.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the BFCL sample.")
@click.option("--threads", type=click.IntRange(1, 512), default=None, help="ONNX Runtime intra-op threads.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data folder for the dev split (default: $EDGEAGENT_DATA or shared/data).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/quant"),
              show_default=True, help="Where quant_report.md and quant_report.json go.")
@click.option("--quiet", is_flag=True, help="No progress output.")
def quant_report(artifact_pairs, n_prompts, new_tokens, max_prompt_tokens, bfcl_limit, bfcl_skip, seed, threads,
                 data_dir, out, quiet):
    """Size, greedy-token agreement with fp32, decode and prefill tokens/s and (with --bfcl-limit) the
    BFCL non-live AST and irrelevance deltas of every quantized artifact, in one run on one machine.

    The fp32 artifact is the reference: its greedy continuations of dev prompts are what every other
    artifact is scored on. FP8 artifacts run on the CPU through ONNX Runtime's Q/DQ reference kernels
    (right numbers, slow: FP8 is for TensorRT on Hopper/Ada; Jetson Orin has no FP8).
    """
    import platform

    from edgeagent.data.mix import build_mix
    from edgeagent.quant import measure
    from edgeagent.quant.prompts import PromptSet, dev_prompt_ids
    from edgeagent.runtime.manifest import ArtifactError, read_manifest

    artifacts = parse_artifacts(artifact_pairs, siblings=("int8", "int4", "fp8"))
    fp32_dir = artifacts["fp32"]
    if not (fp32_dir / "manifest.json").exists():
        raise click.ClickException(f"no fp32 artifact at {fp32_dir}: run `edgeagent export` first "
                                   "(or pass --artifacts fp32=DIR)")
    log = (lambda *_: None) if quiet else (lambda m: click.echo(m, err=True))
    base = read_manifest(fp32_dir)
    prompts = dev_prompt_ids(fp32_dir / base.tokenizer, base.chat_template,
                             PromptSet("eval", n_prompts, max_prompt_tokens), build_mix(data_dir))
    log(f"fp32 reference: {len(prompts)} dev prompts × {new_tokens} greedy tokens")
    ref_trunk = measure.open_trunk(fp32_dir, threads=threads)
    ref = measure.reference(ref_trunk, prompts, new_tokens)
    ref_logits = measure.teacher_forced_logits(ref_trunk, ref)
    del ref_trunk
    rows = []
    for name, folder in artifacts.items():
        log(f"{name}: {folder}")
        try:
            m = read_manifest(folder)
            trunk = measure.open_trunk(folder, threads=threads)
        except (ArtifactError, OSError, ValueError) as e:
            rows.append({"name": name, "dir": str(folder), "status": f"failed: {e}"})
            continue
        logits = measure.teacher_forced_logits(trunk, ref)
        agree, positions, exact, diff = measure.agreement(logits, ref, ref_logits)
        row = {"name": name, "dir": str(folder), "status": "ok",
               "method": (m.quantization_info or {}).get("method", m.quantization or "fp32"),
               "size_mb": measure.graph_size_mb(folder), "agreement": agree, "positions": positions,
               "sequences_exact": exact, "mean_abs_logit_diff": diff,
               "decode_tok_s": measure.decode_speed(trunk, prompts[0], 32),
               "prefill_tok_s": _prefill_speed(trunk, prompts)}
        del trunk
        if bfcl_limit and name not in bfcl_skip:
            log(f"{name}: BFCL, {bfcl_limit} items per category")
            row["bfcl"] = _bfcl(folder, bfcl_limit, seed, quiet)
        rows.append(row)
    meta = {"prompts": len(prompts), "new_tokens": new_tokens, "max_prompt_tokens": max_prompt_tokens,
            "threads": threads, "bfcl_limit": bfcl_limit, "seed": seed,
            "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores"}
    out.mkdir(parents=True, exist_ok=True)
    (out / "quant_report.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n",
                                           encoding="utf-8")
    table = markdown(rows, meta)
    (out / "quant_report.md").write_text(table, encoding="utf-8")
    click.echo(table, nl=False)
    log(f"-> {out / 'quant_report.md'}, quant_report.json")
