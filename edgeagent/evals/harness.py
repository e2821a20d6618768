"""Run a predictor over BFCL and summarise: accuracy per category, structure, latency.

``evaluate(predict, ...)`` returns a report dict (JSON-ready); ``write_report`` saves it as
``report.json`` (summary), ``results.jsonl`` (one scored item per line) and ``report.md``.

Summary scores, following BFCL's leaderboard (eval_runner_helper.py):

- ``non_live_ast``: unweighted mean of simple_python, multiple, parallel, parallel_multiple. BFCL's
  "simple" is itself the mean of simple_python, simple_java and simple_javascript; we run Python
  only, so this is BFCL's non-live AST with simple = simple_python.
- ``live``: mean of the live AST categories weighted by item count (BFCL weights live by count).
- ``irrelevance``: unweighted mean of irrelevance and live_irrelevance.

A summary score is None when one of its categories was not run. With ``limit`` the scores are
over a seeded sample of each category, and the live weights are the sampled counts.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable

from .bfcl import (BFCL_VERSION, DEFAULT_CATEGORIES, IRRELEVANCE, LIVE_AST, NON_LIVE_AST, UNSOLVABLE,
                   BfclItem, load_category)
from .scoring import ItemResult, failed, score

Predict = Callable[[list[dict]], list[dict]]


def sample(items: list[BfclItem], limit: int | None, seed: int) -> list[BfclItem]:
    """A deterministic sample of ``limit`` items (all when None), in file order."""
    if limit is None or limit >= len(items):
        return list(items)
    rng = random.Random(f"{seed}:{items[0].category}")
    keep = set(rng.sample(range(len(items)), limit))
    return [it for i, it in enumerate(items) if i in keep]


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="bfcl", unit="item", file=sys.stderr)


def run_items(predict: Predict, items: list[BfclItem], batch_size: int = 8,
              progress: bool = True) -> list[ItemResult]:
    """Score every item; a predictor error fails its batch's items, never the run."""
    results: list[ItemResult] = []
    bar = _progress(len(items), progress)
    for start in range(0, len(items), batch_size):
        batch = items[start:start + batch_size]
        t0 = time.perf_counter()
        try:
            responses = predict([it.request for it in batch])
            if not isinstance(responses, list):
                raise TypeError(f"predict returned {type(responses).__name__}, expected a list")
        except Exception as e:  # record and go on: one bad batch must not end a long run
            msg = f"{type(e).__name__}: {e}"
            results.extend(failed(it, msg) for it in batch)
        else:
            wall = (time.perf_counter() - t0) / len(batch)
            by_id = {r.get("id"): r for r in responses if isinstance(r, dict)}
            for i, it in enumerate(batch):
                resp = by_id.get(it.id)
                if resp is None and len(responses) == len(batch):
                    other = responses[i]  # by position, unless it belongs to another item
                    resp = None if isinstance(other, dict) and other.get("id") is not None else other
                if resp is None:
                    results.append(failed(it, "no response for this id", "missing_response"))
                    continue
                res = score(it, resp)
                res.timings.setdefault("harness_s", wall)
                results.append(res)
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    return results


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0]
    return statistics.quantiles(xs, n=100, method="inclusive")[round(q * 100) - 1]


def structure_metrics(results: Iterable[ItemResult]) -> dict:
    """Share of calls that parse and validate; invented function and parameter names."""
    calls = [c for r in results for c in r.calls]
    n = len(calls)
    invented_params = Counter(p for c in calls for p in c.invented_params)
    return {
        "calls": n,
        "parse_rate": _mean([float(c.parsed) for c in calls]),
        "valid_rate": _mean([float(c.valid) for c in calls]),
        "invented_function_calls": sum(1 for c in calls if c.parsed and not c.known_name),
        "invented_function_names": sorted({c.name for c in calls if not c.known_name}),
        "calls_with_invented_params": sum(1 for c in calls if c.invented_params),
        "invented_param_count": sum(invented_params.values()),
        "top_invented_params": invented_params.most_common(10),
        "unparsed_calls": n - sum(1 for c in calls if c.parsed),
    }


def latency_metrics(results: Iterable[ItemResult]) -> dict:
    """Median / p90 / mean of every timing key the responses report, in seconds.

    Convention for predictors: ``total_s`` = request -> response; ``call_s`` = request -> first
    validated tool call. ``harness_s`` (added here) is the batch's wall time / batch size.
    """
    values: dict[str, list[float]] = {}
    for r in results:
        for k, v in r.timings.items():
            values.setdefault(k, []).append(float(v))
    return {k: {"n": len(v), "median": statistics.median(v), "p90": _quantile(v, 0.9), "mean": _mean(v)}
            for k, v in sorted(values.items())}


def paired_latency(reports: dict[str, dict], reference: str) -> dict:
    """Each run's request -> response latency (``total_s``) against run ``reference``'s on the
    items both answered with a call: p50 / p90, p50 of the part after the prompt's prefill, the
    ratio of the p50s and the median of per-item ratios. A latency target is such a ratio, in one
    run on one machine. {"reference", "runs": {name: ...}}; runs sharing no called item are left out."""
    def called(report):
        return {it["id"]: it["timings"] for it in report["items"]
                if it.get("n_calls") and "total_s" in it.get("timings", {})}

    def stats(timings, ids):
        total = [timings[i]["total_s"] for i in ids]
        after = [timings[i]["total_s"] - timings[i].get("prefill_s", 0.0) for i in ids]
        return {"p50": statistics.median(total), "p90": _quantile(total, 0.9),
                "after_prefill_p50": statistics.median(after)}

    ref = called(reports[reference])
    out = {}
    for name, report in reports.items():
        own = called(report)
        ids = [i for i in own if i in ref]
        if name == reference or not ids:
            continue
        a, b = stats(own, ids), stats(ref, ids)
        out[name] = {"items": len(ids), "run": a, "reference": b, "ratio_of_p50": a["p50"] / b["p50"],
                     "median_item_ratio": statistics.median(own[i]["total_s"] / ref[i]["total_s"] for i in ids)}
    return {"reference": reference, "runs": out}


def paired_markdown(paired: dict) -> str:
    lines = [f"Latency paired with {paired['reference']} on the items both called (request -> response, s):", "",
             "| run | items | p50 / p90 | reference p50 / p90 | after prefill p50 (reference) | ratio of p50 | "
             "median item ratio |", "|---|---|---|---|---|---|---|"]
    for name, r in paired["runs"].items():
        a, b = r["run"], r["reference"]
        lines.append(f"| {name} | {r['items']} | {a['p50']:.3f} / {a['p90']:.3f} | {b['p50']:.3f} / {b['p90']:.3f} | "
                     f"{a['after_prefill_p50']:.3f} ({b['after_prefill_p50']:.3f}) | {r['ratio_of_p50']:.2f}x | "
                     f"{r['median_item_ratio']:.2f}x |")
    return "\n".join(lines) + "\n"


def category_metrics(results: list[ItemResult], full_size: int) -> dict:
    correct = sum(r.correct for r in results)
    return {"accuracy": correct / len(results) if results else None, "correct": correct,
            "total": len(results), "size": full_size,
            "unsolvable": sum(r.id in UNSOLVABLE for r in results),
            "errors": dict(Counter(r.error_type for r in results if not r.correct).most_common()),
            "modes": dict(Counter(r.mode or "none" for r in results).most_common())}


def summarize(per_category: dict[str, dict]) -> dict:
    def acc(c):
        return per_category.get(c, {}).get("accuracy")

    def unweighted(cats):
        xs = [acc(c) for c in cats]
        return None if any(x is None for x in xs) else sum(xs) / len(xs)

    live = [c for c in LIVE_AST if acc(c) is not None]
    live_total = sum(per_category[c]["total"] for c in live)
    return {
        "non_live_ast": unweighted(NON_LIVE_AST),
        "live": sum(per_category[c]["correct"] for c in live) / live_total if live_total else None,
        "irrelevance": unweighted(IRRELEVANCE),
    }


def evaluate(predict: Predict, categories: Iterable[str] = DEFAULT_CATEGORIES, limit: int | None = None,
             seed: int = 0, progress: bool = True, batch_size: int = 8, sanitize_names: bool = False) -> dict:
    """Run ``predict`` over BFCL categories and return the report dict.

    ``predict(requests) -> responses`` takes a batch; ``limit`` keeps a seeded sample of that many
    items per category. The report holds per-category accuracy, the BFCL summary scores, structure
    and latency metrics, the predictor's ``info`` and every scored item (``report["items"]``).
    """
    info = dict(getattr(predict, "info", {}) or {})
    per_category, all_results = {}, []
    t0 = time.perf_counter()
    for category in categories:
        items = load_category(category, sanitize=sanitize_names)
        chosen = sample(items, limit, seed)
        if progress:
            print(f"bfcl {category}: {len(chosen)} of {len(items)} items", file=sys.stderr)
        results = run_items(predict, chosen, batch_size=batch_size, progress=progress)
        per_category[category] = category_metrics(results, len(items))
        all_results.extend(results)
    return {
        "benchmark": f"BFCL v4 (bfcl-eval {BFCL_VERSION}), AST checker",
        "predictor": info,
        "oracle": bool(info.get("oracle")),
        "seed": seed, "limit": limit, "sanitize_names": sanitize_names,
        "wall_s": time.perf_counter() - t0,
        "summary": summarize(per_category),
        "categories": per_category,
        "structure": structure_metrics(all_results),
        "latency": latency_metrics(all_results),
        "items": [r.to_dict() for r in all_results],
    }


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def markdown(reports: dict[str, dict]) -> str:
    """One Markdown table row per report: summary scores, categories, structure, latency."""
    cats = list(dict.fromkeys(c for r in reports.values() for c in r["categories"]))
    head = ["run", "non-live AST", "live", "irrel."] + cats + ["parse %", "valid %", "inv. fn", "inv. param",
                                                            "call p50 s", "total p50 s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in reports.items():
        s, st, lat = r["summary"], r["structure"], r["latency"]
        label = name + (" (ORACLE)" if r.get("oracle") else "")
        row = [label, _pct(s["non_live_ast"]), _pct(s["live"]), _pct(s["irrelevance"])]
        row += [_pct(r["categories"][c]["accuracy"]) if c in r["categories"] else "–" for c in cats]
        row += [_pct(st["parse_rate"]), _pct(st["valid_rate"]), str(st["invented_function_calls"]),
                str(st["invented_param_count"])]
        row += [f"{lat[k]['median']:.3f}" if k in lat else "–" for k in ("call_s", "total_s")]
        lines.append("| " + " | ".join(row) + " |")
    n = {c: max(r["categories"][c]["total"] for r in reports.values() if c in r["categories"]) for c in cats}
    lines.append("")
    lines.append("Items per category: " + ", ".join(f"{c} {n[c]}" for c in cats) + ". Accuracy in %.")
    if any(r.get("oracle") for r in reports.values()):
        lines.append("ORACLE rows answer from BFCL's gold answers: they test the harness, not a model.")
    return "\n".join(lines) + "\n"


def write_report(report: dict, out_dir: str | Path, name: str = "run") -> Path:
    """Save ``report.json`` (without items), ``results.jsonl`` and ``report.md`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = {k: v for k, v in report.items() if k != "items"}
    (out / "report.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    with open(out / "results.jsonl", "w", encoding="utf-8") as fh:
        for item in report.get("items", []):
            fh.write(json.dumps(item, ensure_ascii=False, default=str) + "\n")
    (out / "report.md").write_text(markdown({name: report}), encoding="utf-8")
    return out
