"""The scaffold compiler: a function's JSON Schema -> a token template with typed value slots.

    from edgeagent.scaffold import compile_schema, SchemaError
    sc = compile_schema(parameters_schema, tokenizer)   # SchemaError(pointer, reason) if unsupported
    ids = sc.encode({"city": "Tokyo"})                   # int64[sc.length], slots filled, NULL-padded
    sc.decode(ids) == {"city": "Tokyo"}                  # the round-trip law, for every valid argument
    sc.masked()                                          # MASK at every slot: the diffusion head's start

Layout. The arguments are written as `json.dumps` writes them (", " and ": " separators, schema
property order). Literal JSON text (braces, keys, colons, commas, the quotes around strings) is
tokenized once per fragment (cached across schemas by text). Each scalar value is a slot of `budget`
positions; its tokens are `tokenizer.encode(value_text)` on their own, NULL-padded to the budget.

    string   the JSON-escaped inner text, exactly json.dumps(s, ensure_ascii=False)[1:-1]
    integer  the integer lexeme ("1.0" and "1e3" are written "1" and "1000")
    number   the JSON number lexeme exactly as json.dumps writes it ("-2.5e-07")
    choice   enum and boolean values: one of `choices` (token ids of each value's JSON text)
    json     nullable scalars and anyOf/oneOf/type-lists of scalars: the value's full JSON text;
             free-form values (an object without properties, an array without items) too, under
             the `free` budget: their keys are the user's, so the slot holds the JSON text whole
    presence a 1-token choice (the tokens of `true`) before an optional property or array item whose
             present value could lay out as all-NULL ("", [], {}, const); NULL there = absent
    null     before a nullable object/array: the tokens of `null` = null, NULL = the value follows
    const    (and type null) no slot: literal text

Arrays have `array_items` item places (capped by maxItems); absent items are all-NULL and dropped
with their separator. Optional properties without presence slots are absent iff all their slots
are NULL. A value longer than its budget is never truncated: encode raises ArgumentError naming the
pointer and the needed length. Budgets are overridable per kind (string=, integer=, number=,
json=, free=, array_items=, max_len=) and per argument pointer (budgets={"/when": 12}).

Special ids come from the scaffold: sc.null_id == V, sc.mask_id == V + 1 (V = vocabulary size).

Supported schema: type string/integer/number/boolean/null/object/array (and lists of them with
null, or of scalars), properties + required, enum and const of scalars (const of anything),
items (one schema), maxItems, nullable, anyOf/oneOf of scalars (or one object/array beside null),
default (kept on the slot), $ref to "#/..." in the same document, free-form objects and arrays (one
json slot each). Annotations and validation
keywords the layout cannot use (description, format, pattern, minimum, minLength, ...) are ignored;
check them with jsonschema. Everything else raises SchemaError naming the schema pointer: allOf,
not, if/then/else, patternProperties, additionalProperties schemas beside properties, tuple items,
schemas with no type, recursive $ref, $ref
outside the document, unions of object/array with other types.
"""

from .errors import ArgumentError, SchemaError
from .scaffold import Budgets, ImplementationMismatch, Scaffold, Slot, compile_schema

__all__ = ["ArgumentError", "Budgets", "ImplementationMismatch", "Scaffold", "SchemaError", "Slot",
           "compile_schema"]
