"""Does the tool gate carry over to requests written unlike its training data? Leave-one-dataset-out.

The gate (runtime/gate.py) is a logistic regression over the mode head's margin and the request's
word overlap with the listed tools, fitted on the first requests of the training split. Most of
those are Seal-Tools requests, which were generated from the tools' own descriptions and so repeat
their words; a request phrased in the user's own words ("What is the weather like in Paris
today?") overlaps little and the gate answers it in prose although the mode head would call.

This script measures that without any benchmark data: each candidate gate is fitted on the first
requests of all training datasets but one and scored on the held-out one (calls right, prose
right, their mean), for each of glaive, Seal-Tools and SGD (with its derived negatives); the dev
split's first requests score the gate fitted on everything. Candidates:

    features   all: the shipped gate's features; names: the mode head's margin and the overlap with
               the tools' names only; margin: the mode head's margin alone (a calibrated mode head)
    weights    items: each item counts once (the shipped gate); datasets: each dataset weighs the
               same in the fit

Step 1 records, per first request, the mode head's logits and the match features (the prompt's
prefill only; runs/gate-domains/features.json, reused on later runs). Step 2 fits and reports.
Run: python scripts/gate_domains.py [--per-group 150] [--artifacts DIR] [--out runs/gate-domains] [--fit-only]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

FEATURE_SETS = {"all": None, "names": ("tool_margin", "best_name_cover", "best_mention", "best_name_content"),
                "margin": ("tool_margin",)}
DEV = ("dev-default", "dev-splits", "dev-lists")
DOMAINS = {"glaive_en": "glaive", "sealtools": "sealtools", "sgd": "sgd", "sgd_irrel": "sgd"}


class Recording:
    """A tool gate that records what it reads and answers prose (the pipeline stops after one token)."""

    def __init__(self):
        self.seen = None

    def calls(self, mode_logits, match, threshold=None) -> bool:
        self.seen = (np.asarray(mode_logits, np.float64).tolist(), np.asarray(match, np.float64).tolist())
        return False


def _train_requests(per_group: int, seed: int = 0) -> list[dict]:
    """First requests that list tools, from the cpu recipe's training split: at most ``per_group`` of
    each (dataset, call or prose), drawn at random with ``seed``."""
    from edgeagent.data.mix import MixConfig, build_mix
    from edgeagent.runtime.gate import first_request
    from edgeagent.runtime.select import message_turns
    from edgeagent.train.run import recipe as get_recipe

    mix = build_mix(None, MixConfig(**{**get_recipe("cpu").get("mix", {}), "include_sgd": True}))
    groups = defaultdict(list)
    for ex in mix.train:
        if ex.tools and first_request(message_turns(ex.messages)):
            groups[ex.dataset, ex.mode == "tool"].append(ex)
    rng = np.random.default_rng(seed)
    out = []
    for (dataset, calls), exs in sorted(groups.items()):
        pick = rng.permutation(len(exs))[:per_group]
        out += [{"split": "train", "dataset": dataset, "calls": calls,
                 "request": {"messages": exs[i].messages, "tools": exs[i].tools}} for i in sorted(pick)]
    return out


def _dev_requests() -> list[dict]:
    from edgeagent.evals.dev import dev_items
    from edgeagent.runtime.gate import first_request
    from edgeagent.runtime.select import message_turns

    from gate_sweep import SETS                         # the three dev sets, as gate_sweep.py reads them

    out = []
    for name, kw in SETS.items():
        for it in dev_items("cpu", **kw):
            if it["request"].get("tools") and first_request(message_turns(it["request"]["messages"])):
                out.append({"split": f"dev-{name}", "dataset": it["source"].split("/")[0],
                            "calls": it["kind"] == "tool", "request": it["request"]})
    return out


def record(path: Path, per_group: int, artifacts: str | None = None) -> list[dict]:
    from tqdm import tqdm

    from edgeagent.evals.pipeline_predictors import _build
    from edgeagent.runtime.pipeline import PipelineConfig

    predictor = _build("diffusion", None, artifacts, None, PipelineConfig(max_new_tokens=1))
    gate = predictor.pipeline.b.tool_gate = Recording()
    rows = []
    for item in tqdm(_train_requests(per_group) + _dev_requests(), desc="first requests", unit="item"):
        gate.seen = None
        predictor.pipeline.respond(item["request"])
        if gate.seen is not None:
            rows.append({k: item[k] for k in ("split", "dataset", "calls")} | {"mode": gate.seen[0],
                                                                                "match": gate.seen[1]})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows))
    return rows


def _data(rows) -> dict:
    from edgeagent.runtime.gate import gate_features

    x = np.array([gate_features(r["mode"], np.asarray(r["match"])) for r in rows])
    return {"x": x, "y": np.array([int(r["calls"]) for r in rows], np.int64)}


def fit(rows, features, weights: str):
    """A tool gate (train/gate.py train_gate) fitted on ``rows``; ``weights``: items | datasets."""
    from edgeagent.train.gate import train_gate

    groups = [DOMAINS[r["dataset"]] for r in rows] if weights == "datasets" else None
    return train_gate(_data(rows), groups=groups, features=features)


def _called(gate, rows) -> np.ndarray:
    return np.array([gate.prob(x) >= gate.threshold for x in _data(rows)["x"]], bool)


def _score(rows, called) -> tuple[float, float, int, int]:
    y = np.array([r["calls"] for r in rows], bool)
    calls = float(called[y].mean()) if y.any() else float("nan")
    prose = float((~called[~y]).mean()) if (~y).any() else float("nan")
    return calls, prose, int(y.sum()), int((~y).sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-group", type=int, default=150, help="training first requests per (dataset, kind)")
    ap.add_argument("--out", default="runs/gate-domains")
    ap.add_argument("--fit-only", action="store_true", help="reuse the recorded features")
    ap.add_argument("--artifacts", default=None, help="an exported artifact folder to run (ONNX Runtime); "
                    "default: the PyTorch trunk and the shipped heads")
    a = ap.parse_args()
    from edgeagent.runtime.gate import GATE_FEATURES

    path = Path(a.out) / "features.json"
    rows = json.loads(path.read_text()) if a.fit_only or path.exists() else record(path, a.per_group, a.artifacts)
    train = [r for r in rows if r["split"] == "train"]
    print("training first requests:", dict(Counter((DOMAINS[r["dataset"]], r["calls"]) for r in train)))
    held_out = sorted(set(DOMAINS.values()))
    print("\n| features | weights | " + " | ".join(f"held out {d}: calls / prose" for d in held_out)
          + " | mean of the held-out means | " + " | ".join(f"{s}: calls / prose" for s in DEV) + " |")
    print("|---|---|" + "---|" * 7)
    from edgeagent.heads.io import heads_dir
    from edgeagent.models.load import DEFAULT_MODEL
    from edgeagent.runtime.gate import TOOL, ToolGate

    shipped = ToolGate.load(heads_dir(DEFAULT_MODEL))
    mode_head = lambda rows: np.array([int(np.argmax(r["mode"])) == TOOL for r in rows], bool)  # noqa: E731
    shipped_gate = lambda rows: _called(shipped, rows)                                           # noqa: E731
    # not refitted: the same decisions on the held-out datasets and on dev
    _print_row(rows, "mode head alone", "–", lambda held: mode_head, mode_head)
    _print_row(rows, "shipped gate (fitted on all)", "–", lambda held: shipped_gate, shipped_gate)
    for fname, names in FEATURE_SETS.items():
        features = list(names or GATE_FEATURES)
        for weights in ("items", "datasets"):
            def fitted(train, f=features, w=weights):
                gate = fit(train, f, w)
                return lambda test: _called(gate, test)

            _print_row(rows, fname, weights, fitted, fitted([r for r in rows if r["split"] == "train"]))


def _print_row(rows, label: str, weights: str, decider_for, on_dev) -> None:
    """A table row: held out each dataset, ``decider_for(the other datasets' rows)`` decides its rows;
    ``on_dev`` decides the dev rows."""
    train = [r for r in rows if r["split"] == "train"]
    cells, means = [], []
    for domain in sorted(set(DOMAINS.values())):
        held = [r for r in train if DOMAINS[r["dataset"]] == domain]
        calls, prose, _, _ = _score(held, decider_for([r for r in train if DOMAINS[r["dataset"]] != domain])(held))
        cells.append(f"{100 * calls:.1f} / {100 * prose:.1f}")
        means.append(np.nanmean([calls, prose]))
    dev = []
    for split in DEV:
        test = [r for r in rows if r["split"] == split]
        calls, prose, _, n_prose = _score(test, on_dev(test))
        dev.append(f"{100 * calls:.1f} / " + ("–" if n_prose == 0 else f"{100 * prose:.1f}"))
    print(f"| {label} | {weights} | " + " | ".join(cells) + f" | {100 * np.mean(means):.1f} | "
          + " | ".join(dev) + " |")

if __name__ == "__main__":
    main()
