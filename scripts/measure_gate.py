"""The call-or-not decision alone, on every dev item that lists tools: the mode head's argmax
against tool gates (runtime/gate.py), as the pipeline decides it, without writing the call or
the answer (one trunk prefill per item; `edgeagent eval dev` scores whole responses but decodes
every prose answer, so it samples 60 of the no-call items).

Run: python scripts/measure_gate.py [--artifacts DIR] [--gate DIR ...] [--out FILE]
Each --gate DIR holds a tool_gate.json; without one, the heads' own gate is scored.
"""

from __future__ import annotations

import argparse
import json
import pickle
from collections import defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgeagent.evals.dev import dev_items
from edgeagent.formats import render_prompt, resolve_mode
from edgeagent.heads.spec import MODES
from edgeagent.runtime.gate import ToolGate, first_request
from edgeagent.runtime.ort_backend import OrtBackend
from edgeagent.runtime.pipeline import Pipeline, PipelineConfig
from edgeagent.runtime.select import message_turns

TOOL = MODES.index("tool")


def read(pipe: Pipeline, items: list[dict]) -> list[dict]:
    """Per item: kind, source, the mode head's logits and the tool gate's per-tool features."""
    out = []
    for item in tqdm(items, desc="prompts", unit="item"):
        req = item["request"]
        prompt = render_prompt(req["messages"], req["tools"], pipe.b.family, True,
                               resolve_mode(req["messages"], pipe.b.family, None), listing=pipe.listing)
        _, hidden, _ = pipe.b.prefill(np.asarray(pipe.tokenize(prompt), np.int64), pipe.b.new_cache())
        turns = message_turns(req["messages"])
        out.append({"kind": item["kind"], "source": item["source"].split("+")[0], "first": first_request(turns),
                    "logits": np.asarray(pipe.b.mode_logits(hidden[-1]), np.float64),
                    "match": pipe._features(req["messages"], req["tools"], turns)[0]})
    return out


def score(rows: list[dict], gate: ToolGate | None) -> dict:
    """Decided a call on tool items, answered in prose on no-call items: overall, on first requests
    (where the gate decides) and by source."""
    by = defaultdict(lambda: [0, 0])
    for r in rows:
        gated = gate is not None and r["first"]
        calls = gate.calls(r["logits"], r["match"]) if gated else int(np.argmax(r["logits"])) == TOOL
        right = calls if r["kind"] == "tool" else not calls
        for key in (r["kind"], f"{r['kind']} {'first' if r['first'] else 'dialog'}", f"{r['kind']} {r['source']}"):
            by[key][0] += right
            by[key][1] += 1
    out = {k: {"items": n, "right": round(ok / n, 4)} for k, (ok, n) in sorted(by.items())}
    out["balanced"] = round((out["tool"]["right"] + out["no_call"]["right"]) / 2, 4)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--artifacts", type=Path, default=Path.home() / ".cache/edgeagent/artifacts/smollm2-135m")
    ap.add_argument("--gate", type=Path, action="append", default=[], help="a folder with a tool_gate.json")
    ap.add_argument("--recipe", default="cpu")
    ap.add_argument("--out", type=Path, default=None, help="write the report here as JSON")
    ap.add_argument("--rows", type=Path, default=None,
                    help="keep each item's mode logits and match features here (pickle), or read them back "
                         "from an earlier run to score other gates without the trunk")
    args = ap.parse_args()
    backend = OrtBackend(args.artifacts)
    gates = {str(g): ToolGate.load(g) for g in args.gate} or {"artifact": backend.tool_gate}
    items = dev_items(args.recipe, n_tool=None, n_no_call=None)
    if args.rows and args.rows.exists():        # scored before: the prompts' logits and features kept
        with open(args.rows, "rb") as f:
            rows = pickle.load(f)
    else:
        rows = read(Pipeline(backend, PipelineConfig()), items)
        if args.rows:
            with open(args.rows, "wb") as f:
                pickle.dump(rows, f)
    report = {"items": len(rows), "mode head alone": score(rows, None),
              **{name: score(rows, g) for name, g in gates.items() if g is not None}}
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
