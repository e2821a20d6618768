"""Small JSON helpers shared by the Python reference: number lexemes kept verbatim, canonical strings.

The C++ side (cpp_ext/json.hpp) implements the same rules; both must agree byte for byte.
"""

import json
import math
import re

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
MAX_INT_DIGITS = 400


class Lex(str):
    """A JSON number kept as its lexeme ("1e+20", "-0.0"); `value` is the float used for equality."""

    @property
    def value(self) -> float:
        return float(self)


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def loads(text: str):
    """Parse JSON text; numbers become `Lex`, NaN/Infinity are rejected."""
    return json.loads(text, parse_int=Lex, parse_float=Lex, parse_constant=_reject_constant)


def escape(s: str) -> str:
    """Canonical JSON string body: exactly `json.dumps(s, ensure_ascii=False)[1:-1]`."""
    return json.dumps(s, ensure_ascii=False)[1:-1]


def dumps(v) -> str:
    """Canonical JSON text of a parsed value: `json.dumps` separators, lexemes verbatim."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Lex):
        return str.__str__(v)
    if isinstance(v, str):
        return '"' + escape(v) + '"'
    if isinstance(v, list):
        return "[" + ", ".join(dumps(x) for x in v) + "]"
    return "{" + ", ".join('"' + escape(k) + '": ' + dumps(x) for k, x in v.items()) + "}"


def kind_of(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, Lex):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def equal(a, b) -> bool:
    """JSON equality: numbers compare as doubles, booleans are not numbers."""
    ka, kb = kind_of(a), kind_of(b)
    if ka != kb:
        return False
    if ka == "number":
        return a.value == b.value
    if ka == "array":
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if ka == "object":
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return a == b


def integer_text(lexeme: str):
    """The integer lexeme of a JSON number with an integral value ("1.0" -> "1", "2e3" -> "2000"), else None."""
    m = re.fullmatch(r"(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?", lexeme)
    sign, whole, frac, exp = m.group(1), m.group(2), m.group(3) or "", m.group(4)
    digits = (whole + frac).lstrip("0")
    if not digits:
        return "0"
    e = (int(exp) if exp else 0) - len(frac)
    if e >= 0:
        if len(digits) + e > MAX_INT_DIGITS:
            return None
        return sign + digits + "0" * e
    if -e >= len(digits) or digits[e:].strip("0"):
        return None
    return sign + digits[:e]


def is_number(text: str) -> bool:
    return _NUMBER.fullmatch(text) is not None


def is_integer(text: str) -> bool:
    return _INTEGER.fullmatch(text) is not None


def string_body(body: str):
    """Parse a JSON string body (no quotes); the decoded str, or None if it is not valid JSON."""
    if '"' in body.replace("\\\\", "").replace('\\"', ""):
        return None
    try:
        s = json.loads('"' + body + '"')
    except ValueError:
        return None
    if not isinstance(s, str) or any("\ud800" <= c <= "\udfff" for c in s):
        return None
    return s


def scalar(text: str):
    """Parse the full JSON text of one scalar (no whitespace): a Lex, str, bool or None; raise ValueError."""
    if text == "null":
        return None
    if text == "true":
        return True
    if text == "false":
        return False
    if is_number(text):
        return Lex(text)
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        s = string_body(text[1:-1])
        if s is not None:
            return s
    raise ValueError("not a JSON scalar")


def finite(lexeme: str) -> bool:
    return math.isfinite(float(lexeme))
