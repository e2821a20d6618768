"""Training the tool-selection head (edgeagent/heads/select.py): no trunk pass.

Examples are the calls of tool turns that list two or more tools. Each prepared item's prompt is
read back as text: the tools listed in its ``<tools>`` block (name, description, parameters), the
last user message and the turns before it; per call the head's input is runtime/select.call_features
given the tools the turn's earlier calls used, its target the index of the call's tool.
"""

from __future__ import annotations

import json
import re

import numpy as np

from edgeagent.formats import parse_tool_calls
from edgeagent.runtime.select import FEATURES, Turn, call_features, dialog_features, match_features

USER_OPEN, END = "<|im_start|>user\n", "<|im_end|>"
_TURN = re.compile(r"<\|im_start\|>(\w+)\n(.*?)<\|im_end\|>", re.S)   # closed turns: not the open generation prompt


def listed_tools(prompt: str) -> list[tuple[str, str, dict]] | None:
    """[(name, description, parameters)] of the first ``<tools>`` block of a prompt, or None
    without one."""
    start = prompt.find("<tools>\n")
    end = prompt.find("</tools>", start + 1) if start >= 0 else -1
    if start < 0 or end < 0:
        return None
    out = []
    for line in prompt[start + len("<tools>\n"): end].splitlines():
        if line.strip():
            try:
                fn = json.loads(line)
            except ValueError:
                raise ValueError("the selection head's training reads the tools back from prompts with the json "
                                 f"listing; this prompt lists {line[:60]!r}") from None
            fn = fn.get("function", fn)
            out.append((fn["name"], fn.get("description") or "", fn.get("parameters")))
    return out


def prompt_user_text(prompt: str) -> str:
    """The last user message of a rendered prompt (what runtime/select.last_user_text reads)."""
    at = prompt.rfind(USER_OPEN)
    if at < 0:
        return ""
    end = prompt.find(END, at)
    return prompt[at + len(USER_OPEN): end if end >= 0 else None]


def prompt_turns(prompt: str, family: str) -> list[Turn]:
    """The conversation of a rendered prompt as runtime/select.message_turns reads it from the
    messages: (role, prose, called names) per turn; the system turn (the tool listing) left out."""
    out = []
    for role, body in _TURN.findall(prompt):
        if role == "system":
            continue
        names = []
        if role == "assistant":
            content, calls = parse_tool_calls(body, family)
            names = [c["function"]["name"] for c in calls]
            body = content
        out.append((role, "" if names else body, names))
    return out


def select_data(items, tokenizer, family: str = "smollm2") -> dict:
    """{"features": [calls] of [K, F] arrays, "gold": [calls], "source": [calls]}; ``family``: the
    chat template the items were rendered in."""
    feats, gold, source = [], [], []
    for it in items:
        if not it.calls:
            continue
        prompt = tokenizer.decode([int(i) for i in it.ids[: it.mode_at + 1]], skip_special_tokens=False)
        tools = listed_tools(prompt)
        if tools is None or len(tools) < 2:
            continue
        names = [t[0] for t in tools]
        match = match_features(prompt_user_text(prompt), tools)
        dialog = dialog_features(prompt_turns(prompt, family), tools)
        called: set[int] = set()
        for c in it.calls:
            feats.append(call_features(match, called, dialog))
            gold.append(names.index(c.tool))
            source.append(it.source.split("/")[0])
            called.add(gold[-1])
    return {"features": feats, "gold": np.asarray(gold, np.int64), "source": source}


def _batch(data, which):
    import torch

    K = max(len(data["features"][i]) for i in which)
    x = np.zeros((len(which), K, len(FEATURES)), np.float32)
    mask = np.zeros((len(which), K), bool)
    for r, i in enumerate(which):
        k = len(data["features"][i])
        x[r, :k], mask[r, :k] = data["features"][i], True
    return torch.from_numpy(x), torch.from_numpy(mask), torch.from_numpy(data["gold"][which])


def predict(head, data, batch: int = 512) -> np.ndarray:
    """[calls] the head's pick per call."""
    import torch

    head.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(data["gold"]), batch):
            x, m, _ = _batch(data, np.arange(i, min(i + batch, len(data["gold"]))))
            out.append(head(x).masked_fill(~m, -torch.inf).argmax(-1).numpy())
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def train_select(data, epochs: int = 30, lr: float = 1e-3, weight_decay: float = 0.01, batch_size: int = 64,
                 seed: int = 0, log=None, dev=None, cfg=None):
    """The head, trained with cross-entropy over each call's listed tools; ``log`` gets per-epoch
    loss (and dev accuracy when ``dev`` is given)."""
    import torch
    import torch.nn.functional as F

    from edgeagent.heads.select import SelectConfig, SelectHead
    from edgeagent.train.heads_train import _seed

    _seed(seed)
    cfg = cfg or SelectConfig(n_features=len(FEATURES))
    head = SelectHead(cfg)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    n = len(data["gold"])
    rng = np.random.default_rng(seed)
    for ep in range(epochs):
        head.train()
        perm, total = rng.permutation(n), 0.0
        for i in range(0, n, batch_size):
            x, m, g = _batch(data, perm[i: i + batch_size])
            loss = F.cross_entropy(head(x).masked_fill(~m, -1e4), g)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(g)
        entry = {"head": "select", "epoch": ep, "loss": total / max(n, 1)}
        if dev is not None and len(dev["gold"]):
            entry["dev_acc"] = float((predict(head, dev) == dev["gold"]).mean())
        if log is not None:
            log.append(entry)
    return head.eval(), cfg


def select_report(head, data) -> dict:
    """Accuracy of the head on ``data``'s calls: overall, by listed-tool count, by source; and chance."""
    if not len(data["gold"]):
        return {"calls": 0}
    ok = predict(head, data) == data["gold"]
    n_tools = np.array([len(f) for f in data["features"]])
    source = np.array(data["source"])

    def by(keys):
        return {str(k): {"calls": int((keys == k).sum()), "accuracy": float(ok[keys == k].mean())}
                for k in sorted(set(keys.tolist()))}

    return {"calls": len(ok), "accuracy": float(ok.mean()), "chance": float((1 / n_tools).mean()),
            "by_tools": by(n_tools), "by_source": by(source)}
