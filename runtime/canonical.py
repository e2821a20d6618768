"""A copied name as a tool wrote it (SpanRules.canonical_case; stdlib and the prompt format only).

"I'd like to rent a car at pacific central station": the user writes a place a tool result named
before ("Pacific Central Station"), in another case. The slot filler copies the user's words, and
the call then holds a spelling the service did not give. So a string value that the conversation's
tool messages write in another case only, and never as the value is, takes their spelling (the
latest one).

Measured on the training split of ../shared/data (glaive en, Seal-Tools, SGD; string values of
three or more characters with a letter, not enum members; scripts/measure_canonical_case.py): of
the 2,277 values the user messages write in another case only, the rule gives 679 the call's
spelling and none another one; of the values the user writes as the call does, it respells 5
wrong. The assistant's messages are not read: SGD's write names in lower case as often as not
(read too, 162 right and 215 wrong).
"""

from __future__ import annotations

import re

from edgeagent.formats.hermes import text_of


def tool_texts(messages: list) -> list[str]:
    """The tools' messages, in order, as the prompt renders them."""
    out = []
    for m in messages:
        if isinstance(m, dict) and m.get("role") == "tool":
            try:
                out.append(text_of(m, "message"))
            except ValueError:                           # content the prompt refuses has failed the request already
                pass
    return out


def spelled(value: str, texts: list[str]) -> str:
    """``value`` as the latest of ``texts`` that writes it in another case only spells it; unchanged
    where one writes it as it is, none writes it, or it holds no letter or under three characters."""
    if len(value) < 3 or not re.search(r"[^\W\d_]", value):
        return value
    pattern = re.compile(r"(?<!\w)" + re.escape(value) + r"(?!\w)", re.IGNORECASE)
    found = [m.group(0) for text in texts for m in pattern.finditer(text)]
    if not found or value in found:
        return value
    return found[-1]


def canonical_case(args: dict, schema: dict, texts: list[str]) -> dict:
    """``args`` with each top-level string value, and each string in a top-level list, spelled as
    ``texts`` (tool_texts) spell it; enum members stay as chosen."""
    if not texts or not isinstance(args, dict):
        return args
    props = (schema or {}).get("properties") or {}
    out = {}
    for key, value in args.items():
        prop = props.get(key) if isinstance(props.get(key), dict) else {}
        items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        if isinstance(value, str) and "enum" not in prop:
            value = spelled(value, texts)
        elif isinstance(value, list) and "enum" not in items:
            value = [spelled(v, texts) if isinstance(v, str) else v for v in value]
        out[key] = value
    return out
