"""BFCL function docs -> JSON Schema, by the same rules that normalised our training data.

BFCL describes parameters with Python-ish types (``dict``, ``float``, ``tuple``, ``any``) and a few
non-standard keys (``optional`` on a property). Our training records were normalised by
``shared/data/convert.py`` (``norm_type`` / ``norm_schema`` / ``params_schema``); the model must see
BFCL tools written the same way, so this module carries a copy of those rules
(:func:`norm_schema`), and a test checks it against ``convert.py`` on every BFCL function.

One BFCL-only step runs first (:func:`_bfcl_pre`): ``any`` becomes ``string``. ``convert.py`` has no
rule for ``any`` (it would drop the type, leaving the value unconstrained), but BFCL itself sends
``any`` as ``string`` to function-calling models (``GORILLA_TO_OPENAPI``) and its AST checker
expects a ``str`` for it; the scaffold compiler also needs a type for every slot.

Other mappings, all from ``convert.py``: dict/map -> object, float/double -> number,
tuple/set/list -> array, int/long -> integer, str/char/date -> string, bool -> boolean. A default
whose type contradicts the declared type moves into the description; an enum that contradicts
the declared type drops the type; unknown keys (``optional``) are dropped.
"""

from __future__ import annotations

import json
import re
from typing import Any

_TYPE_MAP = {
    "dict": "object", "object": "object", "map": "object",
    "list": "array", "array": "array", "tuple": "array", "set": "array",
    "int": "integer", "integer": "integer", "long": "integer",
    "float": "number", "number": "number", "double": "number",
    "str": "string", "string": "string", "char": "string", "date": "string",
    "datetime": "string", "time": "string",
    "bool": "boolean", "boolean": "boolean", "null": "null",
}

_NUMERIC_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                 "minLength", "maxLength", "minItems", "maxItems", "multipleOf")

# BFCL sends every function to the model with this suffix on its description
# (bfcl_eval.utils._get_language_specific_hint, applied at generation time).
PYTHON_HINT = " Note that the provided function is in Python 3 syntax."


def norm_type(t: Any):
    """A JSON Schema type name (or list of names) for a loose type, or None when unknown."""
    if isinstance(t, list):
        out = [x for x in (norm_type(x) for x in t) if x]
        return out or None
    if not isinstance(t, str):
        return None
    t = t.strip().lower()
    t = re.sub(r"[, ]*optional$", "", t).strip()
    m = re.match(r"^(list|array|dict|tuple|set)\s*[\[<(]", t)
    if m:
        t = m.group(1)
    if t.startswith("typing."):
        t = t[7:]
    return _TYPE_MAP.get(t)


def _is_type(v: Any, t: str) -> bool:
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "string":
        return isinstance(v, str)
    if t == "integer":
        return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "null":
        return v is None
    return True


def norm_schema(s: Any, depth: int = 0) -> dict:
    """A JSON Schema dict for a loose schema; best effort, never raises (convert.py's rules)."""
    if not isinstance(s, dict) or depth > 20:
        return {}
    out: dict = {}
    for k, v in s.items():
        if k == "type":
            nt = norm_type(v)
            if nt:
                out["type"] = nt
        elif k == "properties" and isinstance(v, dict):
            props, req = {}, []
            for pk, pv in v.items():
                if isinstance(pv, dict) and isinstance(pv.get("required"), bool) and pv["required"]:
                    req.append(pk)
                props[pk] = norm_schema(pv, depth + 1)
            out["properties"] = props
            for r in req:
                if r not in out.setdefault("required", []):
                    out["required"].append(r)
        elif k == "items":
            if isinstance(v, dict):
                out["items"] = norm_schema(v, depth + 1)
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                out["prefixItems"] = [norm_schema(x, depth + 1) for x in v]
        elif k == "required":
            if isinstance(v, list) and all(isinstance(x, str) for x in v):
                cur = out.setdefault("required", [])
                cur.extend(r for r in v if r not in cur)
        elif k in ("anyOf", "oneOf", "allOf") and isinstance(v, list):
            out[k] = [norm_schema(x, depth + 1) for x in v if isinstance(x, dict)]
        elif k == "additionalProperties":
            if isinstance(v, bool):
                out[k] = v
            elif isinstance(v, dict):
                out[k] = norm_schema(v, depth + 1)
        elif k == "enum":
            if isinstance(v, list) and v:
                out["enum"] = v
        elif k in ("description", "title", "format", "pattern") and isinstance(v, str):
            out[k] = v
        elif k in ("default", "example", "examples", "const"):
            out[k] = v
        elif k in _NUMERIC_KEYS:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out[k] = v
    if "required" in out and "properties" in out:
        out["required"] = [r for r in out["required"] if r in out["properties"]]
        if not out["required"]:
            del out["required"]
    if out.get("type") == "object" and "properties" not in out and "required" in out:
        del out["required"]
    if "enum" in out and isinstance(out.get("type"), str):
        if not all(_is_type(e, out["type"]) for e in out["enum"]):
            del out["type"]
    if "default" in out and isinstance(out.get("type"), str) and out["default"] is not None:
        if not _is_type(out["default"], out["type"]):
            hint = " (default: %s)" % json.dumps(out["default"], ensure_ascii=False)
            out["description"] = (out.get("description", "") + hint).strip()
            del out["default"]
    return out


def params_schema(p: Any) -> dict:
    """The ``parameters`` schema of a tool: always an object with ``properties``."""
    s = norm_schema(p if isinstance(p, dict) else {})
    if "properties" not in s and s.get("type") in (None, "object"):
        s.setdefault("properties", {})
    s["type"] = "object"
    return s


def _bfcl_pre(s: Any) -> Any:
    """BFCL-only rewrites before the shared rules: ``any`` -> ``string``, recursively."""
    if isinstance(s, list):
        return [_bfcl_pre(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {k: _bfcl_pre(v) if k in ("items", "additionalProperties", "anyOf", "oneOf", "allOf")
           else v for k, v in s.items()}
    if "properties" in s and isinstance(s["properties"], dict):
        out["properties"] = {k: _bfcl_pre(v) for k, v in s["properties"].items()}
    if isinstance(out.get("type"), str) and out["type"].strip().lower() == "any":
        out["type"] = "string"
    return out


def bfcl_tool(function: dict, name: str | None = None, hint: bool = True) -> dict:
    """One BFCL function doc -> an OpenAI tool ``{"type": "function", "function": {...}}``.

    ``name`` overrides the function's name (see :func:`edgeagent.evals.bfcl.sanitize_names`);
    ``hint`` appends BFCL's "Python 3 syntax" note to the description, as BFCL does when it
    prompts a model.
    """
    description = (function.get("description") or "").strip()
    if hint:
        description += PYTHON_HINT
    return {"type": "function", "function": {
        "name": name or function["name"],
        "description": description.strip(),
        "parameters": params_schema(_bfcl_pre(function.get("parameters") or {})),
    }}
