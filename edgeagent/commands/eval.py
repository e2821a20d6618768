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
@click.option("--paired-with", "paired_with", default="lora-ar", show_default=True,
              help="Run whose latency every other run is compared with, item by item (latency_paired.json "
                   "and a table in summary.md); skipped when that run is not in --baseline.")
def bfcl(baselines, model, artifacts, categories, limit, steps, seed, batch_size, sanitize_names, out_dir, quiet,
         heads, lora, paired_with):
    """Score predictors on BFCL; write report.json, results.jsonl and report.md per run,
    summary.md / summary.json for all runs, and a plot against T when steps are swept."""
    from edgeagent.evals import bfcl as data
    from edgeagent.evals.harness import evaluate, markdown, paired_latency, paired_markdown, write_report
    from edgeagent.evals.predictors import PREDICTORS

    names = _predictor_names(baselines)
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

    if artifacts is not None and heads is not None and any(n != "lora-ar" for n in names):
        click.secho(f"note: predictors on --artifacts use the heads exported into {artifacts}, not --heads; "
                    f"to score other heads, `edgeagent export --heads {heads} --out DIR` first", fg="yellow", err=True)
    reports = {}
    runs = _runs(names, steps, model, artifacts, heads, lora)
    for (run_name, name, run_opts), predictor in zip(runs, _load_all(runs)):
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
    if paired_with in reports and len(reports) > 1:
        paired = paired_latency(reports, paired_with)
        (out_dir / "latency_paired.json").write_text(json.dumps(paired, indent=1) + "\n", encoding="utf-8")
        table += "\n" + paired_markdown(paired)
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


def _pipeline_overrides(ctx, param, values) -> dict:
    """--set KEY=VALUE pairs -> {field: value} for PipelineConfig's scalar fields and, as
    "rules.FIELD", its SpanRules' fields."""
    import dataclasses

    from edgeagent.runtime.rules import SpanRules
    from edgeagent.runtime.pipeline import PipelineConfig

    names = ({f.name for f in dataclasses.fields(PipelineConfig) if f.name != "rules"}
             | {f"rules.{f.name}" for f in dataclasses.fields(SpanRules)})
    out = {}
    for item in values:
        key, eq, raw = item.partition("=")
        if not eq or key not in names:
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE with KEY one of {sorted(names)}")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw                              # a bare word: a string ("--set select=trunk")
    try:                                                # a value the config refuses fails here, not mid-run
        _with_overrides(PipelineConfig(), out)
    except (TypeError, ValueError) as e:
        raise click.BadParameter(str(e)) from None
    return out


def _with_overrides(cfg, overrides: dict):
    """A PipelineConfig with _pipeline_overrides' fields set ("rules.FIELD" in its SpanRules)."""
    import dataclasses

    rules = {k.removeprefix("rules."): v for k, v in overrides.items() if k.startswith("rules.")}
    return dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if not k.startswith("rules.")},
                               rules=dataclasses.replace(cfg.rules, **rules))


@eval_group.command("dev")
@click.option("--baseline", "baselines", default="diffusion,ar-constrained", show_default=True,
              help="Comma-separated predictor names (as for `eval bfcl`), e.g. diffusion,ar-constrained,lora-ar.")
@click.option("--recipe", type=click.Choice(("cpu", "full")), default="cpu", show_default=True,
              help="Whose mix's dev split: cpu (glaive, Seal-Tools, their counterfactuals and repeats, "
                   "20 SGD dialogues) or full (mostly SGD).")
@click.option("--tool", "n_tool", type=click.IntRange(min=0), default=None,
              help="Tool-call items, at an even stride over the split [default: all].")
@click.option("--no-call", "n_no_call", type=click.IntRange(min=0), default=60, show_default=True,
              help="Items that offer tools but answer in prose (negatives, SGD's irrelevant turns).")
@click.option("--no-sgd", is_flag=True, help="The dev split of the no-SGD mix.")
@click.option("--splits", type=click.Choice(("without", "with", "only")), default="without", show_default=True,
              help="The single requests split from the dev split's multi-call requests (one sentence, one call) "
                   "and their negatives: left out (the dev set of every earlier report), added, or alone.")
@click.option("--lists", type=click.Choice(("without", "with", "only")), default="without", show_default=True,
              help="Listed requests of the dev records (one written value made a list of two or three, \"in San Jose "
                   "and Sunnyvale\", answered by one call per element; SGD dialogues not down-sampled): left out, "
                   "added, or alone (then --splits and --no-call do not apply).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data folder (default: ../shared/data or $EDGEAGENT_DATA).")
@click.option("--model", default=None, help="Checkpoint for the predictors.")
@click.option("--artifacts", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="ONNX artifact folder, for predictors that run on the runtime.")
@click.option("--heads", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Trained heads for the routed predictors (default: the shipped ones).")
@click.option("--lora", type=click.Path(file_okay=False, path_type=Path), multiple=True,
              help="LoRA weights for lora-ar; repeat the option to score several (one run each).")
@click.option("--steps", callback=_steps, default="1", show_default=True, help="Diffusion step counts T.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", callback=_pipeline_overrides,
              help="Set a PipelineConfig field of the routed predictors (runtime/pipeline.py), e.g. "
                   "--set end_weight=4 --set anchor_route=null, or a decoding rule's (runtime/rules.py SpanRules) as "
                   "rules.FIELD, e.g. --set rules.list_goes_on=false; values are JSON. Repeatable; "
                   "recorded in each report.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("eval-out/dev"), show_default=True)
@click.option("--quiet", is_flag=True, help="No progress output.")
def dev(baselines, recipe, n_tool, n_no_call, no_sgd, splits, lists, data_dir, model, artifacts, heads, lora, steps,
        overrides, out_dir, quiet):
    """Score predictors end to end on the dev split: each request without tool_choice, so the
    call-or-not decision is the predictor's own. This is where variants are chosen; BFCL only reports.

    Writes report.json and results.jsonl per run and summary.md / summary.json."""
    from edgeagent.evals import dev as devsplit

    names = _predictor_names(baselines)
    items = devsplit.dev_items(recipe, n_tool, n_no_call, data_dir, include_sgd=not no_sgd, splits=splits,
                               lists=lists)
    if not items:
        raise click.ClickException("no dev items selected (--tool 0 and --no-call 0?)")
    runs = []
    for run_name, name, opts in _runs(names, steps, model, artifacts, heads, None):
        if name == "lora-ar" and len(lora) > 1:
            runs += [(f"lora-ar-{Path(d).parent.name if Path(d).name == 'lora' else Path(d).name}", name,
                      {**opts, "lora": d}) for d in lora]
        else:
            runs.append((run_name, name, {**opts, "lora": lora[0]} if name == "lora-ar" and lora else opts))
    reports = {}
    predictors = _load_all(runs)
    for (run_name, name, opts), predictor in zip(runs, predictors):
        if overrides:
            if not hasattr(predictor, "pipeline"):
                raise click.BadParameter(f"{name} is not a routed predictor; it has no pipeline to set",
                                         param_hint="--set")
            predictor.pipeline.cfg = _with_overrides(predictor.pipeline.cfg, overrides)
    for (run_name, name, opts), predictor in zip(runs, predictors):
        report = devsplit.evaluate(predictor, items, progress=not quiet)
        report["predictor"] = {"name": name, "run": run_name, **{k: str(v) for k, v in opts.items()},
                               **({"set": overrides} if overrides else {})}
        report["items_from"] = {"recipe": recipe, "no_sgd": no_sgd, "splits": splits, "lists": lists}
        devsplit.write(report, out_dir / run_name)
        reports[run_name] = report
        s = report["summary"]
        click.echo(f"{run_name}: calls exact {_fmt(s['calls_exact'])}, values exact {_fmt(s['values_exact'])}, "
                   f"no-call correct {_fmt(s['no_call_correct'])} -> {out_dir / run_name}", err=True)
    table = devsplit.markdown(reports)
    (out_dir / "summary.md").write_text(table, encoding="utf-8")
    (out_dir / "summary.json").write_text(json.dumps(
        {n: {k: v for k, v in r.items() if k != "items"} for n, r in reports.items()}, indent=1) + "\n")
    click.echo(table)


def _predictor_names(baselines: str) -> list[str]:
    from edgeagent.evals.predictors import PREDICTORS

    names = _csv(baselines)
    unknown = [n for n in names if n not in PREDICTORS]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown predictor(s) {', '.join(unknown) or '(none given)'}. Available now: "
            f"{', '.join(sorted(PREDICTORS))}. Model-backed predictors are registered in "
            f"edgeagent/evals/predictors.py (PREDICTORS) once their pipeline exists.",
            param_hint="--baseline")
    return names


def _runs(names, steps, model, artifacts, heads, lora) -> list[tuple[str, str, dict]]:
    """(run name, predictor name, predictor options) for each predictor, and each T where it takes steps."""
    from edgeagent.evals.predictors import PREDICTORS

    opts = {k: v for k, v in {"model": model, "artifacts": artifacts, "heads": heads}.items() if v is not None}
    runs = []
    for name in names:
        if PREDICTORS[name].sweeps_steps:
            runs += [(f"{name}-T{t}", name, {**opts, "steps": t}) for t in steps]
        else:
            runs.append((name, name, {**opts, "lora": lora} if name == "lora-ar" and lora else opts))
    return runs


def _load_all(runs) -> list:
    """Every run's predictor, loaded before any is scored: a run that cannot load (a stale artifact,
    a missing LoRA folder) stops the command at once, not after the runs before it."""
    from edgeagent.evals.predictors import get_predictor
    from edgeagent.runtime.manifest import ArtifactError

    out = []
    for run_name, name, opts in runs:
        try:
            out.append(get_predictor(name, **opts))
        except (ArtifactError, FileNotFoundError, RuntimeError, ValueError) as e:
            raise click.ClickException(f"{run_name}: {e}") from None
    return out


def _fmt(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _greedy(backend, ids: list[int], n: int) -> list[int]:
    """n greedy tokens after `ids` through the backend interface (the pipeline's own calls)."""
    import numpy as np

    logits, _, cache = backend.prefill(np.asarray(ids, np.int64), backend.new_cache())
    out = []
    for _ in range(n):
        out.append(int(np.argmax(logits)))
        logits, _, cache = backend.prefill(np.asarray(out[-1:], np.int64), cache)
    return out


@eval_group.command("parity")
@click.option("--model", default="smollm2-135m", show_default=True, help="The PyTorch reference's checkpoint.")
@click.option("--artifacts", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The ONNX artifact (default: the model's in ~/.cache/edgeagent/artifacts).")
@click.option("--heads", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Heads for the PyTorch side (default: the shipped ones, which the artifact carries).")
@click.option("--prompts", "n_prompts", type=click.IntRange(1, 500), default=20, show_default=True,
              help="Dev-split prompts for the greedy-token comparison.")
@click.option("--new-tokens", type=click.IntRange(1, 512), default=32, show_default=True)
@click.option("--requests", "n_requests", type=click.IntRange(0, 2000), default=50, show_default=True,
              help="Dev-split tool examples whose responses (mode, calls, text) are compared.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data folder for the dev split (default: $EDGEAGENT_DATA or shared/data).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/parity"),
              show_default=True, help="Where parity.json goes.")
def parity(model, artifacts, heads, n_prompts, new_tokens, n_requests, data_dir, out_dir):
    """ONNX Runtime against PyTorch on the same inputs: greedy tokens on dev prompts and whole
    responses (mode, tool calls, text) on dev tool examples, both through the one pipeline.

    Exits with status 1 when anything differs, and lists each difference."""
    from edgeagent.bench.latency import dev_requests
    from edgeagent.commands.export import default_out
    from edgeagent.data.mix import build_mix
    from edgeagent.export.torch_backend import TorchBackend
    from edgeagent.quant.prompts import PromptSet, dev_prompt_ids
    from edgeagent.runtime.manifest import read_manifest
    from edgeagent.runtime.ort_backend import OrtBackend
    from edgeagent.runtime.pipeline import Pipeline, PipelineConfig, RequestError

    folder = artifacts or default_out(model)
    if not (folder / "manifest.json").exists():
        raise click.ClickException(f"no artifact at {folder}: run `edgeagent export --model {model}` first")
    manifest = read_manifest(folder)
    mix = build_mix(data_dir)
    prompts = dev_prompt_ids(folder / manifest.tokenizer, manifest.chat_template,
                             PromptSet("eval", n_prompts, 256), mix)
    ort_b, torch_b = OrtBackend(folder), TorchBackend(model, heads)
    result = {"model": model, "artifact": str(folder), "greedy": [], "responses": []}
    with click.progressbar(prompts, label="greedy tokens", file=click.get_text_stream("stderr")) as bar:
        for p in bar:
            a, b = _greedy(torch_b, p, new_tokens), _greedy(ort_b, p, new_tokens)
            first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
            result["greedy"].append({"prompt_tokens": len(p), "same": a == b, "first_difference": first})
    cfg = PipelineConfig(prefix_cache=False)  # each request from scratch on both sides
    pipes = Pipeline(torch_b, cfg), Pipeline(ort_b, cfg)
    requests = dev_requests(n_requests, mix=mix) if n_requests else []
    for r in requests:
        r.pop("tool_choice", None)  # the mode head decides, so its decision is compared too
    with click.progressbar(requests, label="dev responses", file=click.get_text_stream("stderr")) as bar:
        for r in bar:
            got = []
            for pipe in pipes:
                try:
                    resp = pipe.respond(dict(r))
                    got.append({"mode": resp["mode"], "content": resp["content"], "calls": [
                        (c["function"]["name"], c["function"]["arguments"]) for c in resp["tool_calls"]]})
                except RequestError as e:
                    got.append({"error": str(e)})
            row = {"id": r["id"], "same": got[0] == got[1]}
            if not row["same"]:
                row.update(torch=got[0], onnx=got[1])
            result["responses"].append(row)
    g, rs = result["greedy"], result["responses"]
    result["summary"] = {
        "prompts": len(g), "greedy_identical": sum(x["same"] for x in g),
        "responses": len(rs), "responses_identical": sum(x["same"] for x in rs)}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "parity.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    s = result["summary"]
    click.echo(f"greedy tokens identical on {s['greedy_identical']}/{s['prompts']} dev prompts ({new_tokens} tokens); "
               f"responses identical on {s['responses_identical']}/{s['responses']} dev tool examples "
               f"-> {out_dir / 'parity.json'}")
    for row in (x for x in rs if not x["same"]):
        click.echo(f"  differs: {row['id']}: torch {row['torch']} | onnx {row['onnx']}", err=True)
    if s["greedy_identical"] < s["prompts"] or s["responses_identical"] < s["responses"]:
        raise SystemExit(1)
