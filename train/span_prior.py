"""Training the span prior (runtime/span_prior.py): a softmax over a conversation's words, no trunk pass.

An example is one string value of a call in ../shared/data whose words the user or tool messages
before the call write (case aside): the words where it starts are the targets, every other word of
those messages a rival. SGD, 93% of the data's dialogues, is sampled so that it does not drown the
requests for several tools (Seal-Tools) where the prior matters most.
"""

from __future__ import annotations

import random
from collections import Counter

import numpy as np

from edgeagent.runtime.span_prior import FEATURES, SpanPrior, Words, chatml


def _dataset(rec) -> str:
    return "sgd" if rec["id"].startswith("sgd") else rec["id"].split("_")[0]


def _tools(rec) -> list[tuple[str, str, dict]]:
    out = []
    for t in rec.get("tools") or []:
        fn = t.get("function", t)
        out.append((fn["name"], fn.get("description") or "", fn.get("parameters") or {}))
    return out


def examples(records, sgd_share: float = 0.15, seed: int = 0):
    """[(features [candidates, F], targets [candidates] bool, dataset)] of the records' string values."""
    rng = random.Random(seed)
    out = []
    for rec in records:
        ds = _dataset(rec)
        if ds == "sgd" and rng.random() >= sgd_share:
            continue
        tools = _tools(rec)
        schemas = {name: params for name, _, params in tools}
        before: list[dict] = []
        words = None
        for m in rec["messages"]:
            taken: list[str] = []                      # string values of the turn's earlier calls
            for call in m.get("tool_calls") or []:
                fn = call["function"]["name"]
                props = (schemas.get(fn) or {}).get("properties") or {}
                args = call["function"]["arguments"]
                for key, value in (args.items() if isinstance(args, dict) else ()):
                    if not isinstance(value, str) or not value.strip() or not isinstance(props.get(key), dict):
                        continue
                    if words is None:
                        words = Words(chatml(before))
                    low, v = words.text.lower(), value.strip().lower()
                    targets = words.candidate & np.asarray([low.startswith(v, int(a)) for a in words.starts], bool)
                    if targets.any():   # rivals: the other candidate words (user and tool messages)
                        x = words.features(key, props, tools, fn, tuple(taken))
                        out.append((x[words.candidate], targets[words.candidate], ds))
                taken += [v for v in (args.values() if isinstance(args, dict) else ()) if isinstance(v, str)]
            before.append(m)
            words = None
    return out


def fit(exs, l2: float = 1.0, iters: int = 300) -> np.ndarray:
    """The weights maximizing each example's log-probability of its targets (a set: log of their summed
    probabilities), L-BFGS with an L2 penalty."""
    from scipy.optimize import minimize

    data = [(x, y) for x, y, _ in exs]

    def loss(w):
        total, grad = 0.0, np.zeros_like(w)
        for x, y in data:
            s = x @ w
            m = s.max()
            p = np.exp(s - m)
            z = p.sum()
            p /= z
            sy = s[y]
            my = sy.max()
            py = np.exp(sy - my)
            zy = py.sum()
            py /= zy
            total += (m + np.log(z)) - (my + np.log(zy))
            grad += x.T @ p - x[y].T @ py
        return total + 0.5 * l2 * w @ w, grad + l2 * w

    res = minimize(loss, np.zeros(len(FEATURES)), jac=True, method="L-BFGS-B", options={"maxiter": iters})
    return res.x


def top1(exs, weights) -> dict:
    """Share of examples whose best-scored candidate word is a target, overall and per dataset."""
    w = np.asarray(weights, np.float32)
    hits: Counter = Counter()
    counts: Counter = Counter()
    for x, y, ds in exs:
        hit = bool(y[int(np.argmax(x @ w))])
        for key in ("all", ds):
            hits[key] += hit
            counts[key] += 1
    return {k: {"examples": counts[k], "top1": hits[k] / counts[k]} for k in sorted(counts)}


def train_prior(train_records, dev_records, l2: float = 1.0, sgd_share: float = 0.15, seed: int = 0) -> SpanPrior:
    tr = examples(train_records, sgd_share, seed)
    dv = examples(dev_records, 1.0, seed)
    w = fit(tr, l2)
    return SpanPrior(weights=w.tolist(), report={"l2": l2, "sgd_share": sgd_share, "seed": seed,
                                                 "train": top1(tr, w), "dev": top1(dv, w)})
