"""A call's arguments against its function's JSON Schema (jsonschema; cached validators).

The scaffold compiler guarantees a call's layout (types, required keys, enums); the keywords it
leaves to the validator (minimum, maximum, pattern, minLength, ...) are checked here before a call
goes out, and every rule that rewrites a value keeps the rewrite only where it still validates.
"""

from __future__ import annotations

import json
from functools import lru_cache

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from edgeagent.scaffold.reference import esc_ptr


@lru_cache(maxsize=1024)
def _validator_of(key: str) -> Draft202012Validator:
    schema = json.loads(key)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validator(schema: dict) -> Draft202012Validator:
    """The jsonschema validator of a tool's parameters (cached by content); raises jsonschema's
    SchemaError for a schema that is not valid JSON Schema."""
    return _validator_of(json.dumps(schema, sort_keys=True))


def json_pointer(path) -> str:
    """A jsonschema error path as a JSON pointer ("/stops/0/name"; "" for the root)."""
    return "".join("/" + esc_ptr(str(p)) for p in path)


def schema_violation(args, schema: dict) -> str | None:
    """How ``args`` breaks ``schema`` ("/x: 42 is greater than the maximum of 10"; jsonschema's
    best_match where there are several), or None. The scaffold guarantees the layout (types,
    required, enums); this checks the keywords it leaves to the validator (minimum, pattern, ...)."""
    error = best_match(validator(schema).iter_errors(args))
    return None if error is None else f"{json_pointer(error.path) or '/'}: {error.message}"
