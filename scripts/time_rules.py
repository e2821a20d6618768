"""Paired latency of a set of decoding rules (SpanRules switches; by default the twenty-first session's):
the same BFCL items, each answered with the rules on and off in turn (alternating which goes first),
on the ONNX Runtime artifact. Reports
the time from the end of prefill to the validated calls, median and mean, over the items called.
Prose answers are cut to one token: only calls are timed. It reads BFCL's requests to time them,
never to choose anything.

Run: python scripts/time_rules.py [--artifacts DIR] [--per-category 30] [--rules a,b,...]
(the nineteenth session's: --rules whole_quotes,name_echoes,disjoint_numbers,canonical_case,own_headers;
the twentieth's: --rules named_choices,function_echoes,keyed_order,iso_dates,generated_names; the
twenty-third's: --rules word_prior, a weight, set to 0 for the 'off' runs)
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from pathlib import Path

from edgeagent.evals.bfcl import load_category
from edgeagent.evals.pipeline_predictors import _build
from edgeagent.runtime.pipeline import PipelineConfig

RULES = ("trailing_keys", "count_words", "owed_repeats", "echo_repeats", "route_legs")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifacts", type=Path, default=Path.home() / ".cache/edgeagent/artifacts/smollm2-135m")
    ap.add_argument("--per-category", type=int, default=30, help="the first N items of each category")
    ap.add_argument("--rules", default=",".join(RULES),
                    help="the SpanRules switches (or weights) turned off (or to 0) for the 'off' runs")
    a = ap.parse_args()
    on = PipelineConfig(max_new_tokens=1)
    rules = [r.strip() for r in a.rules.split(",") if r.strip()]
    unknown = [r for r in rules if not isinstance(getattr(on.rules, r, None), (bool, float))]
    if unknown:
        ap.error(f"--rules: not a SpanRules switch or weight: {', '.join(unknown)}")
    off = dataclasses.replace(on, rules=dataclasses.replace(on.rules, **{r: type(getattr(on.rules, r))(0)
                                                                          for r in rules}))
    pipeline = _build("diffusion", None, str(a.artifacts), None, on).pipeline
    items = [it for cat in ("live_simple", "live_multiple", "simple_python")
             for it in load_category(cat)[:a.per_category]]
    after = {"on": [], "off": []}
    for i, it in enumerate(items):
        for name, cfg in ((("on", on), ("off", off)) if i % 2 == 0 else (("off", off), ("on", on))):
            pipeline.cfg = cfg
            out = pipeline.respond(it.request)
            t = out.get("timings", {})
            if out.get("tool_calls") and "call_s" in t:
                after[name].append(t["call_s"] - t.get("prefill_s", 0.0))
    print(f"items {len(items)}, called with the rules on / off: {len(after['on'])} / {len(after['off'])}")
    for name, ts in after.items():
        print(f"rules {name:3s}: after prefill median {statistics.median(ts):.4f} s, mean {statistics.mean(ts):.4f} s")


if __name__ == "__main__":
    main()
