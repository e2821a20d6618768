"""Dev-split metrics of the heads on cached trunk states (the held-out split of ../shared/data only).

- mode: accuracy of chat | think | tool, and of the tool-vs-not decision alone;
- another: accuracy of "another call" vs "end" after each call;
- slot filler, per call with the gold function given: every value exact (the call's arguments
  equal the gold ones), share of values exact, share that assembles; for T = 1, 2, 4 diffusion
  steps, T = 1 without the decoding rules (runtime/rules.py SpanRules), and the ablation without
  the span path; at T = 1 also per source group (dataset, or
  the augmentation that made the example: counterfactual, repeat).
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import torch

from edgeagent.heads.spec import MODE_IDS
from edgeagent.runtime.fill import fill_and_decode
from edgeagent.runtime.rules import SpanRules


def torch_step(slot_filler, ctx: np.ndarray, device: str):
    """The slot filler as a numpy step function over one call's context states [T, H]."""
    c = torch.from_numpy(np.asarray(ctx, dtype=np.float32)).to(device).unsqueeze(0)

    def step(ids, kinds, spos, rows=None):
        with torch.inference_mode():
            t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.int64)).to(device).unsqueeze(0)
            out = slot_filler(t(ids), t(kinds), t(spos), c, token_rows=None if rows is None else t(rows)[0])
        return tuple(o[0].float().cpu().numpy() for o in out)

    return step


def _values(d, prefix=""):
    """Flatten arguments into {pointer: scalar} for the per-value score."""
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            out.update(_values(v, f"{prefix}/{k}"))
        return out
    if isinstance(d, list):
        out = {}
        for i, v in enumerate(d):
            out.update(_values(v, f"{prefix}/{i}"))
        return out or {prefix: []}
    return {prefix: d}


def dev_calls(items, limit=300):
    """(item, call) pairs the slot-filler scores read: the first ``limit`` ($EDGEAGENT_DEV_CALLS)."""
    limit = int(os.environ.get("EDGEAGENT_DEV_CALLS", limit))
    return [(n, k) for n, it in enumerate(items) for k in range(len(it.calls))][:limit]


def dev_anchors(trunk, items, tokenizer, device, max_ctx, cache_path=None, progress=True) -> dict:
    """(item, call) -> {slot index: [T] anchor scores} for the dev calls (runtime/anchor.py): the
    trunk reads each call's context and each top-level value's opening. A trunk pass per call
    (minutes on the CPU), so the result is kept in ``cache_path`` for the calls it was made for."""
    import hashlib
    import pickle

    from tqdm import tqdm

    from edgeagent.export.torch_backend import TorchTrunk
    from edgeagent.runtime.anchor import TokenTexts, slot_anchors, slot_prefixes
    from edgeagent.scaffold import compile_schema

    calls = dev_calls(items)
    key = hashlib.sha1(json.dumps([(list(map(int, items[n].ids[:items[n].calls[k].ctx_end])), items[n].calls[k].schema)
                                   for n, k in calls]).encode()).hexdigest()
    if cache_path is not None and cache_path.exists():
        saved = pickle.loads(cache_path.read_bytes())
        if saved["key"] == key:
            return saved["anchors"]
    backend = TorchTrunk(trunk, device)
    texts = TokenTexts(tokenizer, min(trunk.config.vocab_size, tokenizer.get_vocab_size()))
    tokenize = lambda text: tokenizer.encode(text, add_special_tokens=False).ids  # noqa: E731
    out = {}
    for n, k in tqdm(calls, desc="dev anchors", disable=not progress):
        c = items[n].calls[k]
        sc = compile_schema(json.loads(c.schema), tokenizer)
        _, _, cache = backend.prefill(np.asarray(items[n].ids[:c.ctx_end], np.int64), backend.new_cache())
        ctx_ids = np.asarray(items[n].ids[max(0, c.ctx_end - max_ctx): c.ctx_end], np.int64)
        out[(n, k)] = slot_anchors(backend, cache, c.ctx_end, slot_prefixes(sc, tokenize), texts, ctx_ids)
    if cache_path is not None:
        cache_path.write_bytes(pickle.dumps({"key": key, "anchors": out}))
    return out


def slot_fill_scores(items, states, offsets, slot_filler, tokenizer, device, max_ctx, steps=(1, 2, 4),
                     limit=300, ablate_span=True, anchors=None, anchor_weights=(), anchor_routes=(),
                     trunk=None, end_weights=()):
    """Slot filling with the gold function given, per variant: T steps, no span path, and (with
    ``anchors`` from dev_anchors) T = 1 with trunk-anchored spans at each weight, alone and with
    each anchor route threshold (runtime/fill.py). With ``trunk`` and ``end_weights``: also the
    pipeline's default anchors with span ends anchored at each end weight (a trunk pass per call)."""
    from edgeagent.scaffold import compile_schema

    calls = dev_calls(items, limit)
    tokenize = lambda text: tokenizer.encode(text, add_special_tokens=False).ids
    text_of = lambda ids: tokenizer.decode([int(i) for i in ids], skip_special_tokens=False)
    # (name, T, span path, anchor weight, anchor route, end weight, decoding rules)
    on, off = SpanRules(), SpanRules.off()
    variants = [(f"T={t}", t, True, 0.0, None, 0.0, on) for t in steps]
    variants += [("T=1 no rules", 1, True, 0.0, None, 0.0, off)]
    variants += [("T=2 no-span", 2, False, 0.0, None, 0.0, on)] if ablate_span else []
    if anchors is not None:
        variants += [(f"T=1 anchor={w:g}" + (f" route>={r:g}" if r is not None else ""), 1, True, float(w), r, 0.0,
                      on) for w in anchor_weights for r in (None, *anchor_routes)]
    if anchors is not None and trunk is not None:
        from edgeagent.runtime.pipeline import PipelineConfig

        d = PipelineConfig()
        variants += [(f"T=1 anchor={d.anchor_weight:g} route>={d.anchor_route:g} end={w:g}", 1, True,
                      d.anchor_weight, d.anchor_route, float(w), on) for w in end_weights]
        ends = _EndScorer(trunk, tokenizer, device, text_of, tokenize)
    res = {name: {"calls": 0, "exact": 0, "values": 0, "values_exact": 0, "assembled": 0, "ms": 0.0}
           for name, *_ in variants}
    by_group: dict = {}
    cache = {}
    for n, k in calls:
        c = items[n].calls[k]
        sc = cache.get(c.schema) or cache.setdefault(c.schema, compile_schema(json.loads(c.schema), tokenizer))
        gold = sc.decode(c.ids)
        lo = max(0, c.ctx_end - max_ctx)
        base = int(offsets[n])
        ctx = states[base + lo: base + c.ctx_end]
        ctx_ids = items[n].ids[lo: c.ctx_end]
        step = torch_step(slot_filler, ctx, device)
        gv = _values(gold)
        end_anchor = ends.call(items[n].ids[:c.ctx_end], sc, ctx_ids) if any(v[5] for v in variants) else None
        for name, t, span, weight, route, end_weight, rules in variants:
            t0 = time.perf_counter()
            args, _, _, err = fill_and_decode(sc, step, ctx_ids, tokenize, text_of, steps=t, use_span=span,
                                              anchors=anchors.get((n, k)) if anchors is not None else None,
                                              anchor_weight=weight, anchor_route=route,
                                              end_anchor=end_anchor if end_weight else None, end_weight=end_weight,
                                              rules=rules)
            r = res[name]
            r["ms"] += (time.perf_counter() - t0) * 1000
            r["assembled"] += args is not None
            pv = _values(args) if args is not None else {}
            tallies = [r]
            if name == variants[0][0]:
                tallies.append(by_group.setdefault(source_group(items[n].source),
                                                   {"calls": 0, "exact": 0, "values": 0, "values_exact": 0}))
            for tally in tallies:
                tally["calls"] += 1
                tally["exact"] += args == gold
                tally["values"] += len(gv)
                tally["values_exact"] += sum(1 for p, v in gv.items() if p in pv and pv[p] == v)
    for g in by_group.values():
        g.update(exact=g["exact"] / g["calls"], values_exact=g["values_exact"] / max(g["values"], 1))
    for r in res.values():
        n = max(r.pop("calls"), 1)
        r.update(calls=n, exact=r["exact"] / n, assembled=r["assembled"] / n,
                 values_exact=r["values_exact"] / max(r["values"], 1), ms_per_call=r.pop("ms") / n)
    res[f"{variants[0][0]} by source"] = dict(sorted(by_group.items()))
    return res


class _EndScorer:
    """Span-end anchors for the dev report: the trunk reads a call's context once; each (slot, start)
    is scored once on a branch of that cache, whatever the end weight."""

    def __init__(self, trunk, tokenizer, device, text_of, tokenize):
        from edgeagent.export.torch_backend import TorchTrunk
        from edgeagent.runtime.anchor import TokenTexts

        self.backend = TorchTrunk(trunk, device)
        self.texts = TokenTexts(tokenizer, min(trunk.config.vocab_size, tokenizer.get_vocab_size()))
        self.text_of, self.tokenize = text_of, tokenize

    def call(self, ids, sc, ctx_ids):
        from edgeagent.runtime.anchor import EndAnchors, slot_prefixes

        def context():
            return self.backend.prefill(np.asarray(ids, np.int64), self.backend.new_cache())[2]

        return EndAnchors(self.backend, context, len(ids), slot_prefixes(sc, self.tokenize), ctx_ids, self.texts,
                          self.tokenize, self.text_of)


def source_group(source: str) -> str:
    """'glaive_en/counterfactual+repeat+shuffle' -> 'repeat'; 'sgd/distractors' -> 'sgd'."""
    dataset, _, augments = source.partition("/")
    for aug in ("repeat", "merge", "counterfactual", "negative"):
        if aug in augments.split("+"):
            return aug
    return dataset or "?"


def dev_report(items, states, offsets, mode_head, cont_head, slot_filler, tcfg, vocab_size, tokenizer=None,
               anchors=None, anchor_weights=(), anchor_routes=(), trunk=None, end_weights=()):
    device = tcfg.device
    out = {}
    xm = torch.from_numpy(np.asarray([states[int(offsets[n]) + it.mode_at] for n, it in enumerate(items)],
                                     dtype=np.float32)).to(device)
    ym = np.asarray([it.mode for it in items])
    with torch.inference_mode():
        pm = mode_head(xm).argmax(-1).cpu().numpy()
    tool = MODE_IDS["tool"]
    out["mode_accuracy"] = float((pm == ym).mean()) if len(ym) else None
    out["tool_decision_accuracy"] = float(((pm == tool) == (ym == tool)).mean()) if len(ym) else None
    out["mode_confusion"] = {f"{a}->{b}": int(((ym == ai) & (pm == bi)).sum())
                             for a, ai in MODE_IDS.items() for b, bi in MODE_IDS.items()}
    xc, yc = [], []
    for n, it in enumerate(items):
        for c in it.calls:
            xc.append(states[int(offsets[n]) + c.end])
            yc.append(c.another)
    if xc:
        with torch.inference_mode():
            pc = cont_head(torch.from_numpy(np.asarray(xc, dtype=np.float32)).to(device)).argmax(-1).cpu().numpy()
        yc = np.asarray(yc)
        out["another_accuracy"] = float((pc == yc).mean())
        out["another_by_label"] = {lab: {"items": int((yc == v).sum()),
                                         "accuracy": float((pc[yc == v] == v).mean()) if (yc == v).any() else None}
                                   for lab, v in (("end", 0), ("another", 1))}
    if tokenizer is not None and xc:
        out["slot_fill"] = slot_fill_scores(items, states, offsets, slot_filler, tokenizer, device, tcfg.max_ctx,
                                            anchors=anchors, anchor_weights=anchor_weights,
                                            anchor_routes=anchor_routes, trunk=trunk, end_weights=end_weights)
    return out
