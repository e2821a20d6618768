"""Training examples -> token sequences and labels for the heads (no torch here).

For every example the trunk reads ONE sequence: the prompt, then (for tool turns) each call
cut into the same segments the runtime prefills — header, name, name_end, then the arguments
JSON with the footer. Cutting the same way in training and at inference keeps the token
boundaries, and so the trunk states the heads read, identical. From that one forward pass
(features.py) come all labels:

- mode: the state of the last prompt token -> chat | think | tool;
- per call k: the slot filler's context is the states before the arguments (``ctx_end``), its
  input the call's scaffold, its targets the scaffold ids of the gold arguments plus a route
  per slot (span: copy characters of the context; gen: generate; null: leave out) with the
  span's first and last context token;
- per call k: the "another call" label on the state of the footer's last token.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np

from edgeagent.formats import call_syntax, render_prompt, render_target, resolve_mode
from edgeagent.formats.hermes import check_listing
from edgeagent.heads.spec import ACTION_GEN, ACTION_NULL, ACTION_SPAN, KIND_IDS, MODE_IDS, position_kind
from edgeagent.scaffold import SchemaError, compile_schema


@dataclass
class CallLabels:
    tool: str
    schema: str                  # the tool's parameters schema as JSON (to recompile the scaffold)
    ctx_end: int                 # context = sequence[:ctx_end]
    end: int                     # index of the footer's last token ("another call?" is read here)
    another: int                 # 1 if another call follows
    ids: np.ndarray              # [L] gold scaffold ids
    kinds: np.ndarray            # [L] position kinds
    slot_pos: np.ndarray         # [L] position inside its slot (0 for literals)
    is_slot: np.ndarray          # [L] bool
    slot_first: np.ndarray       # [S] first position of each slot
    action: np.ndarray           # [S] ACTION_SPAN | ACTION_GEN | ACTION_NULL
    span: np.ndarray             # [S, 2] first/last context token of the span (-1 if none)


@dataclass
class Prepared:
    ids: np.ndarray              # [N] the trunk's input
    mode: int
    mode_at: int                 # index of the last prompt token
    calls: list[CallLabels] = field(default_factory=list)
    target: np.ndarray | None = None  # the target turn as the trunk would write it (LoRA baseline)
    source: str = ""


class TokenText:
    """Byte-exact text of token ids, from the vocabulary (byte-level BPE aware)."""

    def __init__(self, tokenizer):
        self.tok = tokenizer
        self._bytes: dict[int, bytes] = {}

    def piece(self, i: int) -> bytes:
        b = self._bytes.get(i)
        if b is None:
            b = self.tok.decode([i], skip_special_tokens=False).encode("utf-8", "surrogatepass")
            self._bytes[i] = b
        return b

    def offsets(self, ids) -> tuple[bytes, np.ndarray]:
        """(concatenated bytes, [len(ids)+1] byte offsets)."""
        pieces = [self.piece(int(i)) for i in ids]
        off = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in pieces], out=off[1:])
        return b"".join(pieces), off


def span_text(text: TokenText, ids, first: int, last: int) -> str | None:
    """The copied value of context tokens first..last: their text without surrounding white space."""
    raw = b"".join(text.piece(int(i)) for i in ids[first:last + 1])
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None


def find_span(text: TokenText, ctx_ids, value: str, search_from: int = 0) -> tuple[int, int] | None:
    """The last token range of the context whose stripped text is exactly ``value``."""
    if not value or value != value.strip():
        return None
    blob, off = text.offsets(ctx_ids)
    needle = value.encode("utf-8")
    pos = len(blob)
    lo = int(off[search_from])
    while True:
        pos = blob.rfind(needle, lo, pos)
        if pos < 0:
            return None
        first = int(np.searchsorted(off, pos, side="right") - 1)
        last = int(np.searchsorted(off, pos + len(needle), side="left") - 1)
        if span_text(text, ctx_ids, first, last) == value:
            return first, last
        pos -= 1
        if pos < lo:
            return None


def grouped_number(text: str) -> str | None:
    """A JSON number of 1000 or more written with thousands separators ("20000" -> "20,000")."""
    m = re.fullmatch(r"(-?)([0-9]{4,})(\.[0-9]+)?", text)
    if not m:
        return None
    return f"{m.group(1)}{int(m.group(2)):,}{m.group(3) or ''}"


def slot_value_text(kind: str, text: str):
    """The plain text a span must equal for a slot holding ``text`` (its JSON inside the slot)."""
    if kind == "string":
        return json.loads('"' + text + '"')
    if kind in ("number", "integer"):
        return text
    if kind == "json":
        v = json.loads(text)
        return v if isinstance(v, str) else (text if isinstance(v, (int, float)) and not isinstance(v, bool) else None)
    return None


class Preparer:
    """Turns examples into :class:`Prepared` items for one tokenizer and chat family."""

    def __init__(self, tokenizer, family: str, max_len: int = 2048, budgets: dict | None = None,
                 listing: str = "json"):
        check_listing(listing)
        self.tok = tokenizer
        self.family = family
        self.listing = listing
        self.max_len = max_len
        self.budgets = budgets or {}
        self.text = TokenText(tokenizer)
        self.syntax = call_syntax(family)
        self._seg: dict[str, list[int]] = {}
        self._scaffolds: dict[str, object] = {}
        self.skipped: dict[str, int] = {}
        # token ids are stored compactly: the prepared set travels to a GPU machine
        self.id_dtype = np.uint16 if tokenizer.get_vocab_size() <= 65536 else np.int32

    def seg(self, s: str) -> list[int]:
        ids = self._seg.get(s)
        if ids is None:
            ids = self._seg[s] = self.tok.encode(s, add_special_tokens=False).ids
        return ids

    def scaffold(self, schema: dict):
        key = json.dumps(schema, sort_keys=True)
        sc = self._scaffolds.get(key)
        if sc is None:
            sc = self._scaffolds[key] = compile_schema(schema, self.tok, **self.budgets)
        return sc

    def _skip(self, why: str):
        self.skipped[why] = self.skipped.get(why, 0) + 1
        return None

    def prompt_ids(self, messages, tools) -> list[int]:
        rmode = resolve_mode(messages, self.family, None)
        return self.tok.encode(render_prompt(messages, tools, self.family, True, rmode, listing=self.listing),
                               add_special_tokens=False).ids

    def __call__(self, ex) -> Prepared | None:
        seq = self.prompt_ids(ex.messages, ex.tools)
        item = Prepared(ids=None, mode=MODE_IDS[ex.mode], mode_at=len(seq) - 1)
        if ex.mode == "tool":
            schemas = {t["function"]["name"]: t["function"].get("parameters") or {"type": "object", "properties": {}}
                       for t in ex.tools}
            calls = ex.target["tool_calls"]
            prompt_len = len(seq)
            for k, call in enumerate(calls):
                name, args = call["function"]["name"], call["function"]["arguments"]
                if isinstance(args, str):
                    args = json.loads(args)
                head = (self.syntax.separator if k else "") + self.syntax.header
                seq += self.seg(head) + self.seg(json.dumps(name, ensure_ascii=False)[1:-1]) + self.seg(self.syntax.name_end)
                ctx_end = len(seq)
                try:
                    sc = self.scaffold(schemas[name])
                    gold = np.asarray(sc.encode(args), dtype=np.int64)
                except SchemaError:
                    return self._skip("unsupported schema")
                except ValueError:
                    return self._skip("value over budget or invalid")
                seq += self.seg(json.dumps(args, ensure_ascii=False) + self.syntax.footer)
                item.calls.append(self._call_labels(sc, schemas[name], gold, name, seq[:ctx_end], ctx_end, len(seq) - 1,
                                                    int(k + 1 < len(calls)), prompt_len))
        if len(seq) > self.max_len:
            return self._skip(f"longer than {self.max_len} tokens")
        item.ids = np.asarray(seq, dtype=self.id_dtype)
        target = render_target(ex.target, self.family, resolve_mode(ex.messages, self.family, None))
        item.target = np.asarray(self.tok.encode(target, add_special_tokens=False).ids, dtype=self.id_dtype)
        return item

    def _call_labels(self, sc, sc_schema, gold, name, ctx, ctx_end, end, another, prompt_len) -> CallLabels:
        L = len(gold)
        kinds = np.zeros(L, dtype=np.int64)
        slot_pos = np.zeros(L, dtype=np.int64)
        is_slot = np.zeros(L, dtype=bool)
        first, action, span = [], [], []
        for slot in sc.slots:
            pos = np.asarray(slot.positions)
            kinds[pos] = KIND_IDS[position_kind(slot.kind)]
            slot_pos[pos] = np.arange(len(pos))
            is_slot[pos] = True
            first.append(int(pos[0]))
            toks = [int(t) for t in gold[pos] if t != sc.null_id]
            if not toks:
                action.append(ACTION_NULL)
                span.append((-1, -1))
                continue
            found = None
            if slot.kind in ("string", "number", "integer", "json"):
                value = slot_value_text(slot.kind, self.tok.decode(toks, skip_special_tokens=False))
                if isinstance(value, str) and value:
                    found = find_span(self.text, ctx, value, search_from=0)
                    grouped = grouped_number(value) if slot.kind != "string" else None
                    if found is None and grouped:
                        found = find_span(self.text, ctx, grouped, search_from=0)  # "20000" written "20,000"
            action.append(ACTION_SPAN if found else ACTION_GEN)
            span.append(found or (-1, -1))
        return CallLabels(tool=name, schema=json.dumps(sc_schema), ctx_end=ctx_end, end=end, another=another, ids=gold, kinds=kinds,
                          slot_pos=slot_pos, is_slot=is_slot, slot_first=np.asarray(first, dtype=np.int64),
                          action=np.asarray(action, dtype=np.int64),
                          span=np.asarray(span, dtype=np.int64).reshape(-1, 2))
