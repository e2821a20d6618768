"""The tool gate's p(call) on every first request of the dev sets, and what each threshold would call
(runtime/gate.py; PipelineConfig.gate_threshold). docs/decoding-rules.md "Percentages, bracketed values, titles and a
call's own clause" quotes its table.

Only the prompt's prefill and the gate run (the answer is cut at one token), so the table says which
items a threshold calls, not whether the calls are right. Run:
python scripts/gate_sweep.py [--thresholds 0.5,0.4,0.3,0.2] [--model ...] [--heads ...]
"""

from __future__ import annotations

import argparse
from collections import Counter

SETS = {"default": {}, "splits": {"splits": "only", "n_no_call": 1000}, "lists": {"lists": "only"}}


class Recording:
    """A tool gate that records p(call) and answers prose (the pipeline then stops after one token)."""

    def __init__(self, gate):
        self.gate, self.p = gate, None

    def calls(self, mode_logits, match, threshold=None) -> bool:
        from edgeagent.runtime.gate import gate_features

        self.p = self.gate.prob(gate_features(mode_logits, match))
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--thresholds", default="0.5,0.45,0.4,0.35,0.3,0.25,0.2")
    ap.add_argument("--model", default=None)
    ap.add_argument("--heads", default=None)
    a = ap.parse_args()
    from tqdm import tqdm

    from edgeagent.evals.dev import dev_items
    from edgeagent.evals.pipeline_predictors import _build
    from edgeagent.runtime.gate import first_request
    from edgeagent.runtime.pipeline import PipelineConfig
    from edgeagent.runtime.select import message_turns

    predictor = _build("diffusion", a.model, None, a.heads, PipelineConfig(max_new_tokens=1))
    backend = predictor.pipeline.b
    if getattr(backend, "tool_gate", None) is None:
        raise SystemExit("these heads have no tool gate")
    gate = backend.tool_gate = Recording(backend.tool_gate)
    seen = []                                           # (set, kind, p) of each first request
    for name, kw in SETS.items():
        for it in tqdm(dev_items("cpu", **kw), desc=name, unit="item"):
            if not it["request"].get("tools") or not first_request(message_turns(it["request"]["messages"])):
                continue                                # the gate decides first requests that list tools
            gate.p = None
            predictor.pipeline.respond(it["request"])
            if gate.p is not None:
                seen.append((name, it["kind"], gate.p))
    print("| threshold | " + " | ".join(f"{s}: tool items called / negatives called" for s in SETS) + " |")
    print("| --- |" + " --- |" * len(SETS))
    for t in (float(x) for x in a.thresholds.split(",")):
        c, n = Counter(), Counter()
        for name, kind, p in seen:
            n[name, kind] += 1
            c[name, kind] += p >= t
        print(f"| {t} | " + " | ".join(f"{c[s, 'tool']}/{n[s, 'tool']} / {c[s, 'no_call']}/{n[s, 'no_call']}"
                                       for s in SETS) + " |")


if __name__ == "__main__":
    main()
