"""A percentage the request writes, as the schema asks for it (SpanRules.percent_fractions; stdlib only).

"an annual interest rate of 5%" fills `interest_rate` with 5, copied from the request. Most tools
take it so ("The annual interest rate"), but one whose description asks for a decimal ("The
annual interest rate. Enter as a decimal", "The interest rate per period (e.g., 0.05 for 5%)")
takes 0.05. A number property whose description says "decimal" (not "decimal places") or
"fraction", or gives a 0.x example against a percentage, gets the value divided by 100 where the
request writes that value with "%" or "percent".

In ../shared/data (scripts/measure_percent.py), of the 62 call values the user wrote as a
percentage (glaive en and zh, Seal-Tools), the 4 whose description asks for a decimal hold the
fraction; of the 58 whose description does not, 57 hold the number as written and one (glaive,
"The interest rate of the loan") the fraction.
"""

from __future__ import annotations

import re

_DECIMAL = re.compile(r"\b(?:decimal(?!\s+(?:places?|points?|digits?))|fraction(?:al)?)\b"
                      r"|(?<![\d.])0?\.\d+\s+(?:for|=|is|means|represents)\s+(?:an?\s+)?\d+(?:\.\d+)?\s*%",
                      re.IGNORECASE)
PERCENT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:%|per\s?cent\b)", re.IGNORECASE)


def asks_fraction(prop) -> bool:
    """Whether a property's schema takes a number and its description asks for a decimal fraction."""
    if not isinstance(prop, dict) or not isinstance(prop.get("description"), str):
        return False
    types = prop.get("type")
    types = types if isinstance(types, list) else [types]
    return "number" in types and _DECIMAL.search(prop["description"]) is not None


def percent_fractions(args: dict, schema: dict, request: str) -> dict:
    """``args`` with each top-level number value whose property asks_fraction and which the request
    writes as a percentage ("5%", "4.5 percent") divided by 100."""
    written = {float(m.group(1)) for m in PERCENT.finditer(request or "")}
    if not written or not isinstance(args, dict):
        return args
    out = dict(args)
    for key, prop in ((schema or {}).get("properties") or {}).items():
        value = args.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if float(value) in written and asks_fraction(prop):
            out[key] = round(value / 100, 12)
    return out
