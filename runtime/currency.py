"""Currencies the request names, as the ISO 4217 codes a currency property takes
(SpanRules.currency_codes; no torch).

A request names a currency by its name ("British Pounds", "Japanese yen", "Euros") or its code
("USD"); a call's currency property holds the code. The slot filler copies a name where the request
writes one, and where it generates, it writes the codes its training made common ("USD", "EUR")
whatever the request names. Where the request names currencies, a currency value is written as the
code of the currency it names, and a value that names none of the request's currencies (a generated
"EUR" for "British Pounds", a cut "E") takes the request's currency that no other currency value of
the call holds, in the request's order.

Measured on the training split (scripts/measure_currency_codes.py): see SpanRules.currency_codes.
"""

from __future__ import annotations

import re

from edgeagent.runtime.keyed import key_words

# code: the names a request writes it by, the longest first within a code; a plural "s" is allowed
# after each. A bare "dollar" is the US dollar only where no other dollar's name matches there.
NAMES = {
    "USD": ("us dollar", "u.s. dollar", "united states dollar", "american dollar", "dollar", "buck"),
    "EUR": ("euro",),
    "GBP": ("british pound sterling", "british pound", "pound sterling", "sterling", "pound"),
    "JPY": ("japanese yen", "yen"),
    "CAD": ("canadian dollar",),
    "AUD": ("australian dollar",),
    "NZD": ("new zealand dollar",),
    "SGD": ("singapore dollar", "singaporean dollar"),
    "HKD": ("hong kong dollar",),
    "CHF": ("swiss franc",),
    "CNY": ("chinese yuan", "yuan", "renminbi"),
    "INR": ("indian rupee", "rupee"),
    "MXN": ("mexican peso",),
    "BRL": ("brazilian real",),
    "RUB": ("russian ruble", "russian rouble", "ruble", "rouble"),
    "KRW": ("south korean won", "korean won"),
    "SEK": ("swedish krona", "swedish kronor"),
    "NOK": ("norwegian krone", "norwegian kroner"),
    "DKK": ("danish krone", "danish kroner"),
    "ZAR": ("south african rand", "rand"),
    "TRY": ("turkish lira",),
    "PLN": ("polish zloty",),
    "THB": ("thai baht", "baht"),
    "AED": ("uae dirham", "emirati dirham", "dirham"),
    "SAR": ("saudi riyal",),
    "ILS": ("israeli shekel", "new israeli shekel", "shekel"),
    "IDR": ("indonesian rupiah", "rupiah"),
    "PHP": ("philippine peso",),
    "EGP": ("egyptian pound",),
    "ARS": ("argentine peso",),
    "BTC": ("bitcoin",),
}

_BY_NAME = sorted(((name, code) for code, names in NAMES.items() for name in names), key=lambda nc: -len(nc[0]))
_NAME = re.compile(r"(?<![\w.])(" + "|".join(re.escape(n) for n, _ in _BY_NAME) + r")(?:e?s)?(?!\w)",
                   re.IGNORECASE)
_CODE = re.compile(r"(?<![\w$])(" + "|".join(NAMES) + r")(?![\w])")       # written in capitals: "USD"
_CODE_OF = {name: code for name, code in _BY_NAME}


def currency_of(text: str) -> str | None:
    """The code of the one currency ``text`` is, written as a name or a code ("Euros" -> "EUR",
    "usd" -> "USD"); None for anything else."""
    t = text.strip()
    if t.upper() in NAMES:
        return t.upper()
    m = _NAME.fullmatch(t)
    return _CODE_OF[m.group(1).lower()] if m else None


def named_currencies(request: str) -> list[str]:
    """The codes of the currencies ``request`` names, by name or code, in its order, each once."""
    found = sorted([(m.start(), _CODE_OF[m.group(1).lower()]) for m in _NAME.finditer(request)]
                   + [(m.start(), m.group(1)) for m in _CODE.finditer(request)])
    out: list[str] = []
    for _, code in found:
        if code not in out:
            out.append(code)
    return out


def currency_keys(schema: dict | None) -> list[str]:
    """The top-level string properties of ``schema`` named a currency ("base_currency",
    "toCurrency"), without an enum (named_members' case), in the schema's order."""
    props = (schema or {}).get("properties") or {}
    return [k for k, p in props.items() if isinstance(p, dict) and p.get("type", "string") == "string"
            and "enum" not in p and "currency" in key_words("/" + k)]


def currency_codes(args: dict, schema: dict | None, request: str, fill: bool = True) -> dict:
    """SpanRules.currency_codes: ``args`` with each currency value written as the code of the
    request's currency it names ("Canadian dollars" -> "CAD"), and each that names none of the
    request's currencies given the request's currencies no other currency value holds, in the
    request's order and the schema's (not where ``fill`` is False: a call that takes a list's next
    element holds what the list writes). ``args`` unchanged where the request names no currency; a
    value is left as it is where no currency is left for it."""
    named = named_currencies(request)
    keys = [k for k in currency_keys(schema) if isinstance(args.get(k), str)]
    if not named or not keys:
        return args
    out = dict(args)
    astray = []
    for k in keys:
        code = currency_of(args[k])
        if code in named:
            out[k] = code
        else:
            astray.append(k)
    left = [c for c in named if c not in {out[k] for k in keys if k not in astray}]
    for k, code in zip(astray if fill else [], left):
        out[k] = code
    return out
