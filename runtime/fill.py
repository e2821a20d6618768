"""Filling a scaffold's slots: span copy, masked-diffusion generation, or NULL (numpy only).

``fill`` is the decoding loop of the slot filler. Step 1 reads the fully masked scaffold and
routes every slot:

- choice slots (booleans, enums, presence and null markers) pick the best of their choices
  (or all-NULL where the slot may be left out), scored by the token log-probabilities;
- value slots take the head's route: SPAN copies the best context span as text and has the
  scaffold compiler tokenize it into the slot (exact characters: no " Tokyo" / "Tokyo" trap),
  NULL leaves the slot out (only where that is allowed), GEN leaves it to diffusion.

Steps 1..T then commit the generated positions, most confident first, on a schedule that
commits everything by step T; each step re-reads the partly filled scaffold, so a slot sees its
neighbours' values. ``step`` is the head: (ids, kinds, slot_pos) -> (token_logits [L, V+1],
action_logits [L, 3], start [L, T], end [L, T]) with the context bound inside it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

import numpy as np

from edgeagent.heads.spec import ACTION_GEN, ACTION_NULL, ACTION_SPAN, KIND_IDS, position_kind

VALUE_KINDS = ("string", "number", "integer", "json")
CHOICE_KINDS = ("choice", "presence", "null")


@dataclass
class FillInfo:
    routes: dict = field(default_factory=dict)    # slot pointer -> "span" | "gen" | "null" | "choice"
    steps: int = 0                                # head passes run
    repaired: list = field(default_factory=list)  # pointers whose first fill did not assemble


def layout(sc):
    """(kinds [L], slot_pos [L]) int64 arrays of a compiled scaffold."""
    L = len(sc.masked())
    kinds = np.zeros(L, np.int64)
    spos = np.zeros(L, np.int64)
    for s in sc.slots:
        kinds[s.start:s.start + s.budget] = KIND_IDS[position_kind(s.kind)]
        spos[s.start:s.start + s.budget] = np.arange(s.budget)
    return kinds, spos


def _log_softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def _choice_score(logp, slot, tokens, null_id):
    seq = list(tokens) + [null_id] * (slot.budget - len(tokens))
    return float(sum(logp[slot.start + j, t] for j, t in enumerate(seq)))


def best_span(start, end, max_len=48):
    """(first, last) maximizing start[first] + end[last] with first <= last < first + max_len."""
    T = len(start)
    best, arg = -np.inf, (0, 0)
    # end scores: running best over a window, O(T * max_len) but T is a few hundred
    for i in np.argsort(-start)[: min(T, 16)]:
        j_hi = min(T, i + max_len)
        j = i + int(np.argmax(end[i:j_hi]))
        s = start[i] + end[j]
        if s > best:
            best, arg = s, (int(i), int(j))
    return arg


def snap_to_words(text_of, ctx_ids, first, last, reach: int = 4):
    """Widen a span that starts or ends inside a word to the whole word ("z Panisse" -> "Chez
    Panisse"): a copied value is made of whole words of the conversation."""
    piece = lambda i: text_of(ctx_ids[i:i + 1])
    inside = lambda left, right: bool(left) and bool(right) and left[-1].isalnum() and right[0].isalnum()
    for _ in range(reach):
        if first > 0 and inside(piece(first - 1), piece(first)):
            first -= 1
    for _ in range(reach):
        if last + 1 < len(ctx_ids) and inside(piece(last), piece(last + 1)):
            last += 1
    return first, last


QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "\u00ab": "\u00bb", "`": "`"}


def close_quote(before: str, raw: str) -> str:
    """A span that opens at a quote ends at the quote that closes it: in ``the species "iPANxs9w"
    to the agent "Amphotericin B"`` a value starting at iPANxs9w is iPANxs9w. ``before``: the text
    right before the span (the opening quote may also be the span's own first character)."""
    before = before.rstrip()
    if before[-1:] in QUOTES:
        body, close, unclosed = raw, QUOTES[before[-1]], raw
    elif raw[:1] in QUOTES:
        body, close = raw[1:].lstrip(), QUOTES[raw[0]]
        unclosed = body  # a value does not start with a quote that nothing closes
    else:
        return raw
    return body[: body.index(close)].rstrip() if close in body else unclosed


def span_value(text_of, ctx_ids, first, last, kind):
    """The slot text for a copied span, or None when the span cannot fill a slot of this kind."""
    try:
        raw = text_of(ctx_ids[first:last + 1]).strip()
        if kind in ("string", "json"):
            raw = close_quote(text_of(ctx_ids[first - 1:first]) if first > 0 else "", raw)
    except UnicodeDecodeError:
        return None
    if not raw:
        return None
    if kind == "string":
        return json.dumps(raw, ensure_ascii=False)[1:-1]
    if kind in ("number", "integer"):
        if _GROUPED.fullmatch(raw):
            raw = raw.replace(",", "")                  # "20,000" as written -> 20000
        try:
            v = json.loads(raw)
        except ValueError:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (kind == "integer" and not isinstance(v, int)):
            return None
        return raw
    if kind == "json":
        try:
            json.loads(raw)
            return raw
        except ValueError:
            return json.dumps(raw, ensure_ascii=False)
    return None


def fill(sc, step, ctx_ids, tokenize, text_of, steps: int = 2, span_max: int = 48, use_span: bool = True,
         anchors: dict | None = None, anchor_weight: float = 0.0, anchor_route: float | None = None,
         end_anchor=None, end_weight: float = 0.0):
    """Fill every slot of scaffold ``sc``. Returns (ids [L], FillInfo).

    tokenize(text) -> token ids of a slot's text; text_of(ids) -> the text of context tokens.
    ``use_span=False`` is the ablation without the span path (every value generated).
    ``anchors``: slot index -> [T] the trunk's score of each context token as the value's first
    token (runtime/anchor.py); a span's start score gets ``anchor_weight`` times it, and with
    ``anchor_route`` a value the head would generate is copied instead where the trunk's guess
    matches a context token at that log-probability or more. ``end_anchor(slot, first)`` -> [T] (or
    None): the trunk's score of each context token as the end of a value copied from ``first``; the
    span's end score gets ``end_weight`` times it.
    """
    ids = np.array(sc.masked(), dtype=np.int64)
    kinds, spos = layout(sc)
    null_id = sc.null_id
    info = FillInfo()
    tok_logits, act_logits, start, end = step(ids, kinds, spos)
    info.steps = 1
    width = tok_logits.shape[-1]                       # V + 1: the vocabulary and NULL
    allowed = {s.index: np.asarray(sc.allowed_mask(s))[:width] for s in sc.slots}
    gen = []                                           # (position, slot) left to diffusion
    logp_all = None
    for s in sc.slots:
        sl = slice(s.start, s.start + s.budget)
        if s.kind in CHOICE_KINDS:
            if logp_all is None:
                logp_all = _log_softmax(tok_logits)
            logp = logp_all[sl]
            options = [list(c) for c in s.choices]
            if not s.required or s.kind in ("presence", "null"):
                options.append([])
            cols = np.arange(s.budget)
            scores = [float(logp[cols, c + [null_id] * (s.budget - len(c))].sum()) for c in options]
            best = options[int(np.argmax(scores))]
            ids[sl] = best + [null_id] * (s.budget - len(best))
            info.routes[s.pointer] = "choice"
            continue
        acts = act_logits[s.start].copy()
        if s.required and s.kind != "string":
            acts[ACTION_NULL] = -np.inf
        if not use_span:
            acts[ACTION_SPAN] = -np.inf
        route = int(np.argmax(acts))
        if (route == ACTION_GEN and use_span and anchor_route is not None and anchors is not None
                and s.index in anchors and anchors[s.index].max() >= anchor_route):
            route = ACTION_SPAN
        if route == ACTION_SPAN:
            starts = start[s.start]
            if anchors is not None and anchor_weight and s.index in anchors:
                starts = starts + anchor_weight * anchors[s.index]
            first, last = best_span(starts, end[s.start], span_max)
            extra = end_anchor(s, first) if end_anchor is not None and end_weight else None
            if extra is not None:
                ends = end[s.start][first: first + span_max] + end_weight * extra[first: first + span_max]
                last = first + int(np.argmax(ends))
            first, last = snap_to_words(text_of, ctx_ids, first, last)
            text = span_value(text_of, ctx_ids, first, last, s.kind)
            toks = list(tokenize(text)) if text is not None else []
            if 0 < len(toks) <= s.budget and allowed[s.index][toks].all():
                ids[sl] = toks + [null_id] * (s.budget - len(toks))
                info.routes[s.pointer] = "span"
                continue
            route = ACTION_GEN
        if route == ACTION_NULL:
            ids[sl] = null_id
            info.routes[s.pointer] = "null"
            continue
        info.routes[s.pointer] = "gen"
        gen += [(p, s.index) for p in range(s.start, s.start + s.budget)]

    for k in range(steps):
        if not gen:
            break
        if k > 0:
            tok_logits = step(ids, kinds, spos)[0]
            info.steps += 1
        n_commit = math.ceil(len(gen) / (steps - k))
        pos = np.fromiter((p for p, _ in gen), np.int64, len(gen))
        rows = np.where(np.stack([allowed[si] for _, si in gen]), tok_logits[pos], -np.inf)  # [n, V+1]
        pick = rows.argmax(-1)
        top = rows[np.arange(len(gen)), pick]
        conf = -np.log(np.exp(rows - top[:, None]).sum(-1))                # log-prob of the pick
        chosen = set(np.argsort(-conf, kind="stable")[:n_commit].tolist())
        for i in chosen:
            ids[gen[i][0]] = pick[i]
        gen = [g for i, g in enumerate(gen) if i not in chosen]
    return ids, info


_GROUPED = re.compile(r"-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")


def _number_prefix(text: str, pattern) -> bool:
    return any(pattern.fullmatch(text + tail) for tail in ("", "0", "1"))


def constrained_number(logits, slot, allowed, text_of, null_id):
    """Left-to-right greedy fill of one number/integer slot that always yields a valid lexeme.

    logits [budget, V+1] of the slot's positions; the allowed tokens are filtered by a prefix
    check so that the text stays a JSON number (integer) prefix, and NULL closes it once complete.
    """
    pattern = _INTEGER if slot.kind == "integer" else _NUMBER
    cand = np.flatnonzero(allowed[:null_id])
    texts = {int(t): text_of([t]) for t in cand}
    out, text = [], ""
    for j in range(slot.budget):
        row = logits[j]
        complete = pattern.fullmatch(text) is not None
        last = j == slot.budget - 1
        order = cand[np.argsort(-row[cand])]
        pick = None
        for t in order:
            nxt = text + texts[int(t)]
            if (pattern.fullmatch(nxt) if last else _number_prefix(nxt, pattern)):
                pick = int(t)
                break
        if complete and (pick is None or row[null_id] >= row[pick]):
            break
        if pick is None:
            return None
        out.append(pick)
        text += texts[pick]
    if pattern.fullmatch(text) is None:
        return None
    return out + [null_id] * (slot.budget - len(out))


def repair_string(text: str, budget: int, tokenize, null_id: int) -> list[int]:
    """Slot ids for the longest valid string value the generated ``text`` (a JSON string body) holds."""
    text = text.replace("\ufffd", "")
    try:
        value = json.loads('"' + text + '"')
    except ValueError:
        value = text.replace("\\", "")
    while True:
        toks = list(tokenize(json.dumps(value, ensure_ascii=False)[1:-1])) if value else []
        if len(toks) <= budget:
            return toks + [null_id] * (budget - len(toks))
        value = value[: max(0, min(len(value) - 1, len(value) * budget // len(toks)))]


def fill_and_decode(sc, step, ctx_ids, tokenize, text_of, steps: int = 1, use_span: bool = True,
                    anchors: dict | None = None, anchor_weight: float = 0.0, anchor_route: float | None = None,
                    end_anchor=None, end_weight: float = 0.0):
    """``fill`` then assemble: (arguments dict or None, ids, FillInfo, error message or None).

    A fill that does not assemble is repaired slot by slot, as the compiler names them: a string
    keeps its longest valid value (broken UTF-8 or stray escapes dropped), a number or integer is
    re-decoded left to right under a JSON-number prefix check. What still fails is reported, never
    returned as a call.
    """
    ids, info = fill(sc, step, ctx_ids, tokenize, text_of, steps, use_span=use_span, anchors=anchors,
                     anchor_weight=anchor_weight, anchor_route=anchor_route, end_anchor=end_anchor,
                     end_weight=end_weight)
    logits = None
    for _ in range(len(sc.slots) + 1):
        try:
            return sc.decode(ids), ids, info, None
        except ValueError as e:
            err, ptr = str(e), getattr(e, "pointer", None)
        bad = [s for s in sc.slots if s.pointer == ptr and s.kind in ("string", "number", "integer",
                                                                      "presence", "null")]
        if not bad or ptr in info.repaired:
            break
        info.repaired.append(ptr)
        for s in bad:
            sl = slice(s.start, s.start + s.budget)
            if s.kind in ("presence", "null"):
                # a value was filled under a marker that says "absent" / "null": the value wins
                mark = list(s.choices[0]) if s.kind == "presence" else []
                ids[sl] = mark + [sc.null_id] * (s.budget - len(mark))
                continue
            if s.kind == "string":
                toks = [int(t) for t in ids[sl] if t != sc.null_id]
                ids[sl] = repair_string(text_of(toks), s.budget, tokenize, sc.null_id)
                continue
            if logits is None:
                logits = step(ids, *layout(sc))[0]
                info.steps += 1
            toks = constrained_number(logits[sl], s, np.asarray(sc.allowed_mask(s)), text_of, sc.null_id)
            if toks is not None:
                ids[sl] = toks
    return None, ids, info, err
