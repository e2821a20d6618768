"""Where each tool sits in the prompt: the token spans the tool-selection head reads (no torch).

Both chat families list the tools in the system prompt inside ``<tools>`` ... ``</tools>``, one
JSON object per line. The selection head (edgeagent/heads/select.py) scores each listed tool
from the trunk's states over its line (name, description, parameters) and at its name's last
token, against the state after the call header. Training (edgeagent/train/select.py) and the
runtime find the spans with this one function, so the head reads the same positions in both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

OPEN, CLOSE = b"<tools>\n", b"</tools>"


@dataclass(frozen=True)
class ToolSpan:
    name: str
    lo: int         # first token of the tool's line
    hi: int         # one past its last token
    name_last: int  # the token that ends the name (its closing quote may share it)


def token_piece(tokenizer):
    """id -> the token's exact bytes (a byte-level BPE token may hold part of a UTF-8 character;
    special tokens and other vocabularies fall back to the decoded text)."""
    from edgeagent.scaffold.vocab import token_bytes

    table = token_bytes(tokenizer)

    def piece(i: int) -> bytes:
        b = table[i] if 0 <= i < len(table) else None
        return b if b is not None else tokenizer.decode([i], skip_special_tokens=False).encode("utf-8", "surrogatepass")

    return piece


def byte_offsets(ids, piece) -> tuple[bytes, np.ndarray]:
    """(the bytes of ``ids``, [len(ids) + 1] byte offsets); ``piece(id)`` is a token's bytes."""
    pieces = [piece(int(i)) for i in ids]
    off = np.zeros(len(pieces) + 1, np.int64)
    np.cumsum([len(p) for p in pieces], out=off[1:])
    return b"".join(pieces), off


def tool_spans(ids, piece) -> list[ToolSpan] | None:
    """The tools listed in the first ``<tools>`` block of a prompt, in order, or None when the
    prompt has no such block or a line of it is not a tool's JSON."""
    blob, off = byte_offsets(ids, piece)
    start = blob.find(OPEN)
    end = blob.find(CLOSE, start + 1) if start >= 0 else -1
    if start < 0 or end < 0:
        return None
    spans, pos = [], start + len(OPEN)
    for line in blob[pos:end].split(b"\n"):
        lo_b, hi_b = pos, pos + len(line)
        pos = hi_b + 1
        if not line.strip():
            continue
        try:
            tool = json.loads(line)
            fn = tool.get("function", tool)
            name = fn["name"]
        except (ValueError, AttributeError, KeyError, TypeError):
            return None
        if not isinstance(name, str):
            return None
        key = json.dumps(name, ensure_ascii=False).encode()
        at = line.find(b'"name": ' + key)
        if at < 0:
            return None
        name_last_b = lo_b + at + len(b'"name": ') + len(key) - 2  # the name's last byte
        token_of = lambda b: int(np.searchsorted(off, b, side="right") - 1)  # noqa: E731
        spans.append(ToolSpan(name=name, lo=token_of(lo_b), hi=token_of(hi_b - 1) + 1,
                              name_last=token_of(name_last_b)))
    return spans or None


def tool_keys(hidden: np.ndarray, spans: list[ToolSpan]) -> np.ndarray:
    """[K, 2H] per tool: the mean state over its line, then the state at its name's last token."""
    return np.stack([np.concatenate([hidden[s.lo:s.hi].mean(0), hidden[s.name_last]]) for s in spans])
