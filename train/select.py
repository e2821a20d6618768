"""Training the tool-selection head (edgeagent/heads/select.py) on trunk states.

Examples are the calls of tool turns that list two or more tools. Per call the head reads the
state of the call header's last token (the query, as the runtime has it after feeding the header)
and per listed tool its line's mean state and its name's last state (runtime/select.py finds
them). States come from the cached trunk pass where it kept the system prompt (`fit` stores
whole sequences up to max_ctx) and from a fresh trunk pass for the rest; the features are saved
once per side (``select-<side>.npz``) so refits and dev reports read only them.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeagent.runtime.select import tool_keys, tool_spans


@dataclass
class Example:
    item: int            # index into the prepared items
    spans: list          # runtime.select.ToolSpan per listed tool
    first_ids: list      # per tool the first token of its name as the trie writes it
    queries: list        # per call the position of the header's last token
    golds: list          # per call the index of its tool


def select_examples(items, tokenizer, family: str) -> list[Example]:
    from edgeagent.formats import call_syntax
    from edgeagent.runtime.select import token_piece

    piece, syntax = token_piece(tokenizer), call_syntax(family)
    seg = lambda s: tokenizer.encode(s, add_special_tokens=False).ids  # noqa: E731
    name_ids = lambda name: seg(json.dumps(name, ensure_ascii=False)[1:-1])  # noqa: E731
    n_end = len(seg(syntax.name_end))
    out = []
    for n, it in enumerate(items):
        if not it.calls:
            continue
        spans = tool_spans(it.ids[: it.mode_at + 1], piece)
        if spans is None or len(spans) < 2:
            continue
        names = [s.name for s in spans]
        out.append(Example(n, spans, [name_ids(s)[0] for s in names],
                           [c.ctx_end - n_end - len(name_ids(c.tool)) - 1 for c in it.calls],
                           [names.index(c.tool) for c in it.calls]))
    return out


def examples_digest(examples: list[Example]) -> str:
    """Identifies the examples (items, tool spans, queries, golds): cached features match it or are redone."""
    import hashlib

    h = hashlib.sha1()
    for ex in examples:
        h.update(repr((ex.item, [(s.name, s.lo, s.hi, s.name_last) for s in ex.spans], ex.first_ids, ex.queries,
                       ex.golds)).encode())
    return h.hexdigest()


def select_features(items, examples: list[Example], trunk, states=None, offsets=None, keep=None, device="cpu",
                    max_tokens_per_batch=8192, progress=True) -> dict:
    """Arrays of the examples: keys [tools, 2H], key_off [examples + 1], query [calls, H], call_ex,
    gold, and first_token [calls]: the share of the gold tool among the tools whose name starts
    with the token the trunk ranks highest at the query (the trunk alone, at the name's first token).

    An item's states come from ``states`` (the `fit` cache, float16) when it kept the system prompt,
    else from a trunk pass here (rounded to float16 the same way)."""
    import torch
    from tqdm import tqdm

    W = trunk.get_output_embeddings().weight.detach().float()
    hidden_of: dict[int, np.ndarray] = {}
    need = []
    for e, ex in enumerate(examples):
        last = max(ex.queries) + 1
        lo = int(keep[ex.item]) if states is not None else 0
        if states is not None and lo <= ex.spans[0].lo:
            base = int(offsets[ex.item])  # shifted: the state of position p is states[base + p], p >= lo
            h = np.zeros((last, states.shape[1]), np.float32)
            h[lo:] = states[base + lo: base + last]
            hidden_of[e] = h
        else:
            need.append((e, last))
    need.sort(key=lambda x: -x[1])
    batches, cur = [], []
    for e, last in need:  # longest first: a batch's length is its first member's
        if cur and cur[0][1] * (len(cur) + 1) > max_tokens_per_batch:
            batches.append(cur)
            cur = []
        cur.append((e, last))
    if cur:
        batches.append(cur)
    body = trunk.model if hasattr(trunk, "model") else trunk
    with torch.inference_mode():
        for batch in tqdm(batches, desc="selection states", unit="batch", disable=not progress):
            ids = torch.zeros(len(batch), batch[0][1], dtype=torch.long)
            for r, (e, last) in enumerate(batch):
                ids[r, :last] = torch.from_numpy(np.asarray(items[examples[e].item].ids[:last], np.int64))
            h = body(input_ids=ids.to(device)).last_hidden_state.float().cpu().numpy()
            for r, (e, last) in enumerate(batch):
                hidden_of[e] = h[r, :last].astype(np.float16).astype(np.float32)
    keys, key_off, query, call_ex, gold, first = [], [0], [], [], [], []
    for e, ex in enumerate(examples):
        h = hidden_of.pop(e)
        keys.append(tool_keys(h, ex.spans))
        key_off.append(key_off[-1] + len(ex.spans))
        firsts = np.asarray(ex.first_ids)
        for q, g in zip(ex.queries, ex.golds):
            query.append(h[q])
            call_ex.append(e)
            gold.append(g)
            logits = (torch.from_numpy(h[q]) @ W.T).numpy()
            best = firsts[np.argmax(logits[firsts])]
            first.append(float(firsts[g] == best) / float((firsts == best).sum()))
    return {"keys": np.concatenate(keys).astype(np.float16), "key_off": np.asarray(key_off, np.int64),
            "query": np.asarray(query, np.float16), "call_ex": np.asarray(call_ex, np.int64),
            "gold": np.asarray(gold, np.int64), "first_token": np.asarray(first, np.float32)}


def _batches(feats, which):
    """(query [B, H], keys [B, K, 2H] zero-padded, mask [B, K], gold [B]) as torch tensors."""
    import torch

    off, ex = feats["key_off"], feats["call_ex"][which]
    K = int(max(off[e + 1] - off[e] for e in ex))
    D = feats["keys"].shape[1]
    keys = np.zeros((len(which), K, D), np.float32)
    mask = np.zeros((len(which), K), bool)
    for r, e in enumerate(ex):
        k = off[e + 1] - off[e]
        keys[r, :k] = feats["keys"][off[e]: off[e + 1]]
        mask[r, :k] = True
    return (torch.from_numpy(feats["query"][which].astype(np.float32)), torch.from_numpy(keys),
            torch.from_numpy(mask), torch.from_numpy(feats["gold"][which]))


def predict(head, feats, batch=512) -> np.ndarray:
    """[calls] the head's pick per call."""
    import torch

    head.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(feats["gold"]), batch):
            q, k, m, _ = _batches(feats, np.arange(i, min(i + batch, len(feats["gold"]))))
            out.append(head(q, k).masked_fill(~m, -torch.inf).argmax(-1).numpy())
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def train_select(feats, epochs=30, lr=1e-3, weight_decay=0.01, batch_size=64, seed=0, log=None, dev=None, cfg=None):
    """The head, trained with cross-entropy over each call's listed tools. ``log`` gets per-epoch
    loss (and dev accuracy, when ``dev`` features are given)."""
    import torch
    import torch.nn.functional as F

    from edgeagent.heads.select import SelectConfig, SelectHead

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    cfg = cfg or SelectConfig(trunk_hidden=feats["query"].shape[1])
    head = SelectHead(cfg)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    n = len(feats["gold"])
    steps = epochs * ((n + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 1), pct_start=0.1)
    rng = np.random.default_rng(seed)
    for ep in range(epochs):
        head.train()
        perm, total = rng.permutation(n), 0.0
        for i in range(0, n, batch_size):
            q, k, m, g = _batches(feats, perm[i: i + batch_size])
            loss = F.cross_entropy(head(q, k).masked_fill(~m, -1e4), g)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(g)
        entry = {"head": "select", "epoch": ep, "loss": total / max(n, 1)}
        if dev is not None:
            entry["dev_acc"] = float((predict(head, dev) == dev["gold"]).mean())
        if log is not None:
            log.append(entry)
    return head.eval(), cfg


def select_report(head, feats) -> dict:
    """Dev accuracy of the head and of the trunk's first-token pick, overall and by tool count."""
    pick = predict(head, feats)
    ok = pick == feats["gold"]
    n_tools = np.diff(feats["key_off"])[feats["call_ex"]]
    by = {}
    for k in sorted(set(n_tools.tolist())):
        sel = n_tools == k
        by[str(k)] = {"calls": int(sel.sum()), "head": float(ok[sel].mean()),
                      "trunk_first_token": float(feats["first_token"][sel].mean())}
    return {"calls": int(len(ok)), "head": float(ok.mean()) if len(ok) else None,
            "trunk_first_token": float(feats["first_token"].mean()) if len(ok) else None,
            "chance": float((1 / n_tools).mean()) if len(ok) else None, "by_tools": by}


def save_features(path: Path, feats: dict) -> None:
    tmp = Path(path).with_suffix(".tmp.npz")
    np.savez(tmp, **feats)
    tmp.replace(path)
