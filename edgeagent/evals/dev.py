"""End-to-end scores on the dev split of ``../shared/data``: where predictors are compared and
variants chosen (BFCL is for reporting only, never for picking).

Each dev example becomes an OpenAI-style request without ``tool_choice``, so a predictor makes the
call-or-not decision itself, as on BFCL. Two kinds of items:

- ``tool``: the reference turn calls tools. Scored: decided to call, calls exact (the same multiset
  of name + arguments; numbers compare by value, so 5 == 5.0), values exact (each reference
  argument found with an equal value in a predicted call of the same function), and, where it
  called, whether its first call names the reference's first function.
- ``no_call``: tools are offered and the reference turn answers in prose (MediaTek negatives,
  SGD's irrelevant turns, chat turns of tool dialogues). Scored: made no call.

Latency is the response's ``timings.total_s`` (request to validated call, or to the answer).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

Predict = Callable[[list[dict]], list[dict]]


SPLITS = ("without", "with", "only")


def dev_items(recipe: str = "cpu", n_tool: int | None = None, n_no_call: int | None = 60,
              data_dir=None, include_sgd: bool = True, splits: str = "without",
              lists: str = "without") -> list[dict]:
    """Dev items of ``recipe``'s mix: {"id", "kind", "source", "request", "calls"}; ``n_*`` pick that
    many at an even stride over the split (None: all).

    ``splits``: the single requests split from the dev split's multi-call requests and their negatives
    (data/augment.py split_request; recipes with ``splits``) are left out ("without": the dev set every
    earlier report scored), added ("with"), or the only items ("only").

    ``lists``: the listed requests of the dev records (data/augment.py list_values; Mix.dev_listed),
    left out, added, or alone ("only": ``splits`` and ``n_no_call`` then do not apply; they have no
    negatives)."""
    if splits not in SPLITS:
        raise ValueError(f"splits: expected one of {SPLITS}, got {splits!r}")
    if lists not in SPLITS:
        raise ValueError(f"lists: expected one of {SPLITS}, got {lists!r}")
    from edgeagent.data.mix import MixConfig, build_mix
    from edgeagent.train.run import recipe as get_recipe

    mix = build_mix(data_dir, MixConfig(**{**get_recipe(recipe).get("mix", {}), "include_sgd": include_sgd}))
    keep = {"without": lambda ex: "split" not in ex.augment, "with": lambda ex: True,
            "only": lambda ex: "split" in ex.augment}[splits]
    dev = {"without": mix.dev, "with": mix.dev + mix.dev_listed, "only": mix.dev_listed}[lists]
    if lists == "only":
        keep = lambda ex: True  # noqa: E731
    pools = {"tool": [ex for ex in dev if ex.mode == "tool" and ex.tools and keep(ex)],
             "no_call": [ex for ex in dev if ex.mode != "tool" and ex.tools and keep(ex)]}
    out = []
    for kind, n in (("tool", n_tool), ("no_call", n_no_call)):
        pool = pools[kind]
        if n is not None and n < len(pool):
            pool = [pool[i] for i in np.linspace(0, len(pool) - 1, n).round().astype(int)] if n > 0 else []
        for ex in pool:
            source = ex.dataset + ("/" + "+".join(ex.augment) if ex.augment else "")
            calls = [_reference_call(c) for c in ex.target.get("tool_calls") or []]
            out.append({"id": f"dev-{ex.record_id}-{ex.turn}", "kind": kind, "source": source, "calls": calls,
                        "request": {"id": f"dev-{ex.record_id}-{ex.turn}", "messages": ex.messages,
                                    "tools": ex.tools}})
    return out


def _reference_call(call: dict) -> dict:
    fn = call.get("function", call)
    args = fn.get("arguments") or {}
    return {"name": fn["name"], "arguments": json.loads(args) if isinstance(args, str) else args}


def _predicted_calls(response: dict) -> list[dict]:
    out = []
    for c in response.get("tool_calls") or []:
        fn = c.get("function", c)
        try:
            args = json.loads(fn.get("arguments") or "{}")
        except (TypeError, ValueError):
            args = None  # unparseable arguments match nothing
        out.append({"name": fn.get("name"), "arguments": args})
    return out


def _canon(value):
    """A hashable form in which numbers compare by value (5 == 5.0) and bools stay bools."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return ("list", tuple(_canon(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _canon(v)) for k, v in value.items())))
    return repr(value)


def score_item(item: dict, response: dict) -> dict:
    """Scores of one response (see the module docstring)."""
    pred = _predicted_calls(response)
    called = bool(pred)
    row = {"id": item["id"], "kind": item["kind"], "source": item["source"], "mode": response.get("mode"),
           "called": called, "error": response.get("error"),
           "seconds": (response.get("timings") or {}).get("total_s"), "calls": pred}
    if item["kind"] == "no_call":
        row["correct"] = not called
        return row
    gold = item["calls"]
    key = lambda c: (c["name"], _canon(c["arguments"]))
    row["correct"] = called and Counter(map(key, gold)) == Counter(map(key, pred))
    right = total = 0
    free = list(pred)
    for g in gold:
        args = g["arguments"] or {}
        total += len(args)
        def matches(p, args=args):
            return sum(k in p["arguments"] and _canon(p["arguments"][k]) == _canon(v) for k, v in args.items())

        same_fn = [p for p in free if p["name"] == g["name"] and isinstance(p["arguments"], dict)]
        if same_fn:
            best = max(same_fn, key=matches)  # the predicted call of this function that agrees most
            free.remove(best)
            right += matches(best)
    said = sum(len(p["arguments"]) for p in pred if isinstance(p["arguments"], dict))
    row.update(values_right=right, values=total, values_said=said, n_calls=len(pred), n_gold=len(gold),
               first_function_right=called and bool(gold) and pred[0]["name"] == gold[0]["name"])
    return row


def summarize(rows: list[dict]) -> dict:
    tool = [r for r in rows if r["kind"] == "tool"]
    neg = [r for r in rows if r["kind"] == "no_call"]
    values = sum(r["values"] for r in tool)
    said = sum(r["values_said"] for r in tool)

    def share(xs):
        return round(sum(xs) / len(xs), 4) if xs else None

    secs = [r["seconds"] for r in tool if r["called"] and r["seconds"] is not None]
    by_source = {}
    for s in sorted({r["source"] for r in tool}):
        rs = [r for r in tool if r["source"] == s]
        by_source[s] = {"items": len(rs), "calls_exact": share([r["correct"] for r in rs])}
    return {
        "tool_items": len(tool), "no_call_items": len(neg),
        "decided_call": share([r["called"] for r in tool]),
        "calls_exact": share([r["correct"] for r in tool]),
        "values_exact": round(sum(r["values_right"] for r in tool) / values, 4) if values else None,
        # of the values the calls hold: equal to the reference call's value of that key (extra keys,
        # and every value of a call with no reference call, count as wrong)
        "values_precise": round(sum(r["values_right"] for r in tool) / said, 4) if said else None,
        "no_call_correct": share([r["correct"] for r in neg]),
        # of the tool items that got a call: its first function is the reference's first
        "first_function_right": share([r["first_function_right"] for r in tool if r["called"]]),
        "errors": sum(1 for r in rows if r["error"]),
        "call_latency": {"n": len(secs), "median_s": float(np.median(secs)) if secs else None,
                         "p90_s": float(np.percentile(secs, 90)) if secs else None},
        "tool_by_source": by_source,
    }


def evaluate(predict: Predict, items: list[dict], progress: bool = True) -> dict:
    """Run ``predict`` one request at a time (latency is per request); a failing request scores as
    a wrong answer with its error recorded, and the run goes on."""
    rows = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc="dev", unit="item", file=sys.stderr)
    t0 = time.time()
    for it in items:
        try:
            response = predict([it["request"]])[0]
        except Exception as e:  # noqa: BLE001 (one bad item must not end the run)
            response = {"mode": "error", "tool_calls": [], "error": f"{type(e).__name__}: {e}"}
        rows.append(score_item(it, response))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return {"summary": summarize(rows), "seconds": round(time.time() - t0, 1), "items": rows}


def write(report: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps({k: v for k, v in report.items() if k != "items"}, indent=1))
    with open(out_dir / "results.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in report["items"])


def markdown(reports: dict[str, dict]) -> str:
    def pct(x):
        return "n/a" if x is None else f"{100 * x:.1f}%"

    lines = ["| run | calls exact | values exact | values precise | first function right | decided call "
             "| no-call correct | call latency p50 / p90 |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, rep in reports.items():
        s = rep["summary"]
        lat = s["call_latency"]
        t = "n/a" if lat["median_s"] is None else f"{lat['median_s']:.3f} / {lat['p90_s']:.3f} s"
        lines.append(f"| {name} | {pct(s['calls_exact'])} | {pct(s['values_exact'])} | {pct(s.get('values_precise'))} "
                     f"| {pct(s['first_function_right'])} | {pct(s['decided_call'])} "
                     f"| {pct(s['no_call_correct'])} | {t} |")
    return "\n".join(lines) + "\n"
