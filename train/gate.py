"""Training the tool gate (runtime/gate.py): a logistic regression, no trunk pass of its own.

Examples are the prepared items whose prompt is a first request (one user message) that lists
tools: a tool turn (a call is right) or a turn that answers in prose although tools are listed
(the negatives: the tools do not serve the request). Per item the gate reads the mode head's
logits on the cached state of the last prompt token and the request's match features against
the listed tools, read back from the prompt's text as the selection head's training does
(train/select.py).
"""

from __future__ import annotations

import random
from collections import Counter

import numpy as np

from edgeagent.heads.spec import MODES
from edgeagent.runtime.gate import GATE_FEATURES, ToolGate, first_request, gate_features
from edgeagent.runtime.select import match_features
from edgeagent.train.select import listed_tools, prompt_turns, prompt_user_text

TOOL = MODES.index("tool")


def _gate_prompt(it, tokenizer, family: str) -> tuple[str, list] | None:
    """(prompt text, listed tools) of a prepared item whose prompt is a first request (one user
    message) that lists tools: a gate item; None for any other."""
    prompt = tokenizer.decode([int(i) for i in it.ids[: it.mode_at + 1]], skip_special_tokens=False)
    tools = listed_tools(prompt)
    return (prompt, tools) if tools and first_request(prompt_turns(prompt, family)) else None


def _augments(it) -> list[str]:
    """The augmentations train/run.py prepare names in an item's source ("sgd/listed+shuffle")."""
    return it.source.split("/", 1)[1].split("+") if "/" in it.source else []


def gate_group(it) -> str:
    """The group an item counts in for ``pick_gate_items``: its dataset and augmentation, without the
    distractors and shuffles every kind gets ("sgd/listed", "sealtools/split+negative"), and its mode."""
    kinds = [k for k in _augments(it) if k not in ("distractors", "shuffle")]
    return "/".join([it.source.split("/")[0]] + (["+".join(kinds)] if kinds else [])) + f":{MODES[it.mode]}"


def pick_gate_items(items, tokenizer, family: str = "smollm2", per_group: int | None = None,
                    seed: int = 0) -> list[int]:
    """Indices of the gate's items (first requests that list tools), in order; ``per_group``: at most that many of
    each ``gate_group``, drawn at random (seeded), so that a mix whose augmentations are thousands of
    one kind (Seal-Tools counterfactuals, SGD listed requests) costs a bounded trunk pass."""
    picked = [i for i, it in enumerate(items) if _gate_prompt(it, tokenizer, family) is not None]
    if per_group is None:
        return picked
    groups: dict[str, list[int]] = {}
    for i in picked:
        groups.setdefault(gate_group(items[i]), []).append(i)
    rng = random.Random(seed)
    return sorted(i for members in groups.values()
                  for i in (members if len(members) <= per_group else rng.sample(members, per_group)))


def gate_data(items, mode_logits: np.ndarray, tokenizer, family: str = "smollm2") -> dict:
    """{"x": [n, F], "y": [n] (1: the turn calls), "mode": [n] the mode head's argmax, "source": [n],
    "group": [n] (gate_group)} over the items whose prompt is a first request that lists tools;
    ``mode_logits`` [len(items), 3] are the mode head's."""
    xs, ys, modes, sources, groups = [], [], [], [], []
    for it, logits in zip(items, mode_logits):
        gate_item = _gate_prompt(it, tokenizer, family)
        if gate_item is None:
            continue
        prompt, tools = gate_item
        xs.append(gate_features(logits, match_features(prompt_user_text(prompt), tools)))
        ys.append(int(it.mode == TOOL))
        modes.append(int(np.argmax(logits)))
        sources.append(it.source.split("/")[0] + ("/negative" if "negative" in _augments(it) else ""))
        groups.append(gate_group(it))
    return {"x": np.asarray(xs, np.float64).reshape(-1, len(GATE_FEATURES)), "y": np.asarray(ys, np.int64),
            "mode": np.asarray(modes, np.int64), "source": sources, "group": groups}


def train_gate(data: dict, l2: float = 1.0, balanced: bool = False, iters: int = 50,
               groups: list | None = None, features: list[str] | None = None) -> ToolGate:
    """Logistic regression on standardized features by Newton's method (deterministic: no seed).

    ``l2`` penalizes the weights (not the bias); ``balanced`` weighs each class by the inverse of
    its share (on the dev split it cost calls: first requests 95.1% -> 90.1% right, prose 92.3%
    either way). ``groups``: a group per item (its dataset), each group weighing the same in the
    fit. ``features``: the GATE_FEATURES it may read; the others keep weight 0."""
    x, y = data["x"], data["y"].astype(np.float64)
    if len(set(y.tolist())) < 2:
        raise ValueError("the tool gate needs training items of both kinds: turns that call and turns that "
                         "answer in prose with tools listed")
    unknown = sorted(set(features or ()) - set(GATE_FEATURES))
    if unknown:
        raise ValueError(f"train_gate: features {unknown} are none of {list(GATE_FEATURES)}")
    mean, scale = x.mean(0), x.std(0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = np.concatenate([(x - mean) / scale, np.ones((len(x), 1))], 1)
    w_item = np.where(y == 1, len(y) / (2 * y.sum()), len(y) / (2 * (1 - y).sum())) if balanced else np.ones(len(y))
    if groups is not None:
        sizes = Counter(groups)
        w_item = w_item * np.array([len(y) / (len(sizes) * sizes[g]) for g in groups])
    reg = np.full(z.shape[1], l2)
    reg[-1] = 0.0
    if features is not None:                           # a left-out feature: a column of zeros, weight 0
        z[:, [i for i, f in enumerate(GATE_FEATURES) if f not in features]] = 0.0
    w = np.zeros(z.shape[1])
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        grad = z.T @ (w_item * (p - y)) + reg * w
        hess = (z * (w_item * p * (1 - p))[:, None]).T @ z + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return ToolGate(weights=w[:-1].tolist(), bias=float(w[-1]), mean=mean.tolist(), scale=scale.tolist())


def gate_report(gate: ToolGate | None, data: dict) -> dict:
    """Call decisions right, on turns that call and on turns that do not, overall and by source;
    ``gate`` None: the mode head's argmax alone."""
    if not len(data["y"]):
        return {"items": 0}
    if gate is None:
        said = data["mode"] == TOOL
    else:
        said = np.array([gate.prob(f) >= gate.threshold for f in data["x"]])
    y, source = data["y"] == 1, np.array(data["source"])

    def rates(sel):
        calls, prose = sel & y, sel & ~y
        return {"items": int(sel.sum()), "right": float((said[sel] == y[sel]).mean()) if sel.any() else None,
                "calls": int(calls.sum()), "calls_right": float(said[calls].mean()) if calls.any() else None,
                "prose": int(prose.sum()), "prose_right": float((~said[prose]).mean()) if prose.any() else None}

    out = rates(np.ones(len(y), bool))
    out["balanced"] = float(np.mean([v for v in (out["calls_right"], out["prose_right"]) if v is not None]))
    out["by_source"] = {s: rates(source == s) for s in sorted(set(source.tolist()))}
    return out
