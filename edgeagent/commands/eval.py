"""`edgeagent eval`: benchmarks. `edgeagent eval bfcl` scores predictors on BFCL (AST checker)."""

from __future__ import annotations

import json
from pathlib import Path

import click


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _steps(ctx, param, value):
    try:
        steps = [int(v) for v in _csv(value)]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers like 1,2,4, got {value!r}") from None
    if any(t < 1 for t in steps):
        raise click.BadParameter("every step count must be at least 1")
    return steps


@click.group("eval")
def eval_group():
    """Benchmarks: function-calling accuracy, call structure and latency."""


@eval_group.command("bfcl")
@click.option("--baseline", "baselines", default="diffusion", show_default=True,
              help="Comma-separated predictor names to run (e.g. diffusion,ar-constrained,lora-ar; "
                   "'no-call'; 'oracle' tests the harness only).")
@click.option("--model", default=None, help="Checkpoint (Hugging Face id or local path) for the predictors.")
@click.option("--artifacts", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="ONNX artifact folder, for predictors that run on the runtime.")
@click.option("--categories", default=None,
              help="Comma-separated BFCL categories (default: the eight single-turn ones; 'all' adds "
                   "live_parallel and live_parallel_multiple).")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Items per category: a seeded sample (default: all).")
@click.option("--steps", callback=_steps, default="1", show_default=True,
              help="Diffusion step counts T to sweep, e.g. 1,2,4 (only predictors that take steps).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the --limit sample.")
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--sanitize-names", is_flag=True,
              help="Send function names as ^[A-Za-z0-9_-]+$ (dots -> _); scoring maps them back.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("eval-out/bfcl"), show_default=True)
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.option("--heads", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Trained heads for the routed predictors (default: the shipped ones).")
@click.option("--lora", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="LoRA weights for lora-ar (default: edgeagent/weights/<model>-lora).")
def bfcl(baselines, model, artifacts, categories, limit, steps, seed, batch_size, sanitize_names, out_dir, quiet,
         heads, lora):
    """Score predictors on BFCL; write report.json, results.jsonl and report.md per run,
    summary.md / summary.json for all runs, and a plot against T when steps are swept."""
    from edgeagent.evals import bfcl as data
    from edgeagent.evals.harness import evaluate, markdown, write_report
    from edgeagent.evals.predictors import PREDICTORS, get_predictor

    names = _csv(baselines)
    unknown = [n for n in names if n not in PREDICTORS]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown predictor(s) {', '.join(unknown) or '(none given)'}. Available now: "
            f"{', '.join(sorted(PREDICTORS))}. Model-backed predictors are registered in "
            f"edgeagent/evals/predictors.py (PREDICTORS) once their pipeline exists.",
            param_hint="--baseline")
    cats = list(data.DEFAULT_CATEGORIES)
    if categories:
        cats = list(data.KNOWN_CATEGORIES) if categories.strip() == "all" else _csv(categories)
    bad = [c for c in cats if c not in data.KNOWN_CATEGORIES]
    if bad:
        raise click.BadParameter(f"unknown categories {', '.join(bad)}; known: {', '.join(data.KNOWN_CATEGORIES)}",
                                 param_hint="--categories")
    if "oracle" in names:
        click.secho("!" * 78 + "\nORACLE: answers come from BFCL's gold files. This checks the harness; "
                    "its numbers are NOT a model result.\n" + "!" * 78, fg="red", bold=True, err=True)

    opts = {k: v for k, v in {"model": model, "artifacts": artifacts, "heads": heads}.items() if v is not None}
    runs: list[tuple[str, str, dict]] = []  # (run name, predictor name, predictor options)
    for name in names:
        if PREDICTORS[name].sweeps_steps:
            runs += [(f"{name}-T{t}", name, {**opts, "steps": t}) for t in steps]
        else:
            runs.append((name, name, {**opts, "lora": lora} if name == "lora-ar" and lora else opts))

    reports = {}
    for run_name, name, run_opts in runs:
        predictor = get_predictor(name, **run_opts)
        report = evaluate(predictor, categories=cats, limit=limit, seed=seed, progress=not quiet,
                          batch_size=batch_size, sanitize_names=sanitize_names)
        report["predictor"] = {**run_opts, **report["predictor"], "run": run_name}
        report["predictor"] = {k: str(v) if isinstance(v, Path) else v for k, v in report["predictor"].items()}
        write_report(report, out_dir / run_name, name=run_name)
        reports[run_name] = report
        s = report["summary"]
        click.echo(f"{run_name}: non-live AST {_fmt(s['non_live_ast'])}, live {_fmt(s['live'])}, "
                   f"irrelevance {_fmt(s['irrelevance'])} -> {out_dir / run_name}", err=True)

    table = markdown(reports)
    (out_dir / "summary.md").write_text(table, encoding="utf-8")
    summaries = {n: {k: v for k, v in r.items() if k != "items"} for n, r in reports.items()}
    (out_dir / "summary.json").write_text(json.dumps(summaries, indent=1, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    if len(steps) > 1 and any(PREDICTORS[n].sweeps_steps for n in names):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            click.echo("matplotlib is missing (pip install 'edgeagent[eval]'): no plot written.", err=True)
        else:
            from edgeagent.evals.plots import plot

            click.echo(f"plot: {plot(reports, out_dir / 'bfcl_vs_steps.png')}", err=True)
    click.echo(table)


def _fmt(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"
