"""Free-form JSON values: an object without properties, an array without items (numpy and stdlib only).

The scaffold compiler lays such a value out as one ``json`` slot of JSON text (its ``free``
budget). Its keys are the user's, so the slot filler copies it whole: a bracketed literal the
user wrote, as JSON or as Python writes it ("{'math': 90, 'science': 75}"), becomes the JSON
text of the same value. A fill that holds no such literal is repaired to the empty container.
"""

from __future__ import annotations

import ast
import json

import numpy as np

OPENERS = {"object": "{", "array": "["}
CLOSERS = {"{": "}", "[": "]", "(": ")"}
MAX_TOKENS = 256                                       # a literal longer than this is not looked for


def _resolve(schema, pointer: str):
    node = schema
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def free_type(schema: dict, slot) -> str | None:
    """"object" or "array" for a json slot that holds free-form JSON of that type, else None."""
    if slot.kind != "json":
        return None
    node = _resolve(schema, slot.schema_pointer)
    if not isinstance(node, dict):
        return None
    types = node.get("type")
    types = types if isinstance(types, list) else [types]
    if "object" in types and "properties" not in node:
        return "object"
    if "array" in types and "items" not in node:
        return "array"
    return None


def _closing(text: str, at: int) -> int | None:
    """The index of the bracket that closes the one at ``text[at]``, skipping quoted text; None if open."""
    stack, quote, i = [], None, at
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c in CLOSERS:
            stack.append(CLOSERS[c])
        elif c in ")]}":
            if not stack or c != stack.pop():
                return None
            if not stack:
                return i
        i += 1
    return None


def literal_value(raw: str, kind: str) -> str | None:
    """The JSON text of the ``kind`` literal that ``raw`` opens with (leading spaces aside), or None.

    JSON is read as JSON; otherwise as a Python literal (single quotes, True/None, tuples as arrays).
    What follows the closing bracket is ignored ("{'a': 1})." gives '{"a": 1}').
    """
    text = raw.lstrip()
    if not text or text[0] not in ((OPENERS[kind], "(") if kind == "array" else (OPENERS[kind],)):
        return None
    end = _closing(text, 0)
    if end is None:
        return None
    body = text[:end + 1]
    try:
        value = json.loads(body)
    except ValueError:
        try:
            value = ast.literal_eval(body)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, dict if kind == "object" else list):
        return None
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):                    # a set inside, a tuple key, NaN
        return None


def literal_ends(texts: list[str], kind: str, where=None) -> np.ndarray:
    """[T] int: for each context token (``texts``, its text) that opens a ``kind`` literal, the token
    holding the bracket that closes it; -1 elsewhere. ``where`` ([T] bool): only literals opening
    there are looked for (the tool listing's braces are never read)."""
    out = np.full(len(texts), -1, np.int64)
    openers = (OPENERS[kind], "(") if kind == "array" else (OPENERS[kind],)
    for i, t in enumerate(texts):
        if t.lstrip()[:1] not in openers or (where is not None and not where[i]):
            continue
        text, owner = "", []
        for j in range(i, min(len(texts), i + MAX_TOKENS)):
            text += texts[j]
            owner += [j] * len(texts[j])
        start = len(text) - len(text.lstrip())
        end = _closing(text, start)
        if end is not None and literal_value(text, kind) is not None:
            out[i] = owner[end]
    return out


def repair_free(text: str, kind: str, budget: int, tokenize, null_id: int) -> list[int]:
    """Slot ids for a free-form value whose fill does not parse: the literal it opens with, else the
    empty container."""
    value = literal_value(text, kind)
    toks = list(tokenize(value)) if value is not None else []
    if not toks or len(toks) > budget:
        toks = list(tokenize("{}" if kind == "object" else "[]"))
    return toks + [null_id] * (budget - len(toks))
