"""Options a property's description lists (SpanRules.described_members; stdlib only).

BFCL-style schemas often give a string property's allowed values in prose rather than as an enum:
"Resistivity of the material (Default: 'copper'). Allowed values: 'copper', 'aluminum'", "The
temperature unit ('Celsius' or 'Fahrenheit')", "The type of paint (Watercolor, Oil, Acrylic)".
The enum rules (named_members, named_choices) read such a list as the property's members:

    described_options   two or more quoted values the description writes, or else a parenthesized
                        list of two or more short items (at most three words each); None where the
                        description gives examples ("e.g.", "such as", "for example", "like") or a
                        format, not options, or the property has an enum or is no string
"""

from __future__ import annotations

import re

_QUOTED = re.compile(r"""(?<![A-Za-z])(['"])([^'"\n]{1,40}?)\1(?![A-Za-z])""")
_EXAMPLE = re.compile(r"\b(?:e\.g|eg|i\.e|for example|for instance|such as|examples?|like|format)\b", re.IGNORECASE)
_PAREN = re.compile(r"\(([^()]{3,120})\)")
_ITEM = re.compile(r"[A-Za-z][\w\- ]{0,30}")
_SEP = re.compile(r",\s*(?:or\s+|and\s+)?|\s+or\s+")


def described_options(prop) -> list[str] | None:
    """The options ``prop``'s description lists, in its order (see the module's docstring)."""
    if not isinstance(prop, dict) or prop.get("type") != "string" or "enum" in prop:
        return None
    text = prop.get("description")
    if not isinstance(text, str) or _EXAMPLE.search(text):
        return None
    quoted = list(dict.fromkeys(m.group(2).strip() for m in _QUOTED.finditer(text) if m.group(2).strip()))
    if len(quoted) >= 2:
        return quoted
    for m in _PAREN.finditer(text):
        items = [x.strip() for x in _SEP.split(m.group(1))]
        if len(items) >= 2 and all(_ITEM.fullmatch(x) and len(x.split()) <= 3 for x in items):
            return items
    return None
