"""Pure-Python reference of the scaffold compiler (the slow path; cpp_ext/scaffold.cpp is the fast one).

Both implementations take the same inputs (schema JSON text, budgets, a vocabulary of token bytes,
a batch tokenize function) and must produce identical ids, slots, errors and decoded JSON text.
The algorithm is described in edgeagent/scaffold/__init__.py and cpp_ext/README.md; this file
and the C++ follow the same order of checks so that error pointers agree.
"""

from . import jsonlex
from .errors import ArgumentError, SchemaError
from .jsonlex import Lex

UNSUPPORTED = ("allOf", "not", "if", "then", "else", "patternProperties", "dependentSchemas",
               "dependentRequired", "dependencies", "prefixItems", "contains", "unevaluatedProperties",
               "unevaluatedItems", "propertyNames", "additionalItems", "$dynamicRef", "$recursiveRef")
STRUCTURAL = ("type", "properties", "items", "enum", "const", "anyOf", "oneOf", "required",
              "additionalProperties")
TYPES = ("string", "integer", "number", "boolean", "null", "object", "array")
MAX_DEPTH = 32
SLOT_KINDS = ("string", "integer", "number", "json")


def _is_str(x) -> bool:
    return isinstance(x, str) and not isinstance(x, Lex)


def esc_ptr(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


class Node:
    """A normalized schema node. kind: object | array | string | integer | number | choice | const | json | nullable."""

    def __init__(self, kind, sp, **kw):
        self.kind, self.sp, self.default = kind, sp, None
        self.props = self.item = self.inner = self.max_items = self.value = None
        self.values, self.types = [], []
        self.__dict__.update(kw)


def can_be_empty(node) -> bool:
    """Whether some present value of `node` lays out as all-NULL slots (then an optional one needs presence)."""
    if node.kind in ("string", "const", "array"):
        return True
    if node.kind == "object":
        return all(can_be_empty(child) for _, child, req in node.props if req)
    if node.kind == "nullable":
        return can_be_empty(node.inner)
    return False


def _dedupe(values):
    out = []
    for v in values:
        if not any(jsonlex.equal(v, w) for w in out):
            out.append(v)
    return out


class _Normalizer:
    def __init__(self, root):
        self.root = root

    def resolve(self, ref, sp):
        if not ref.startswith("#"):
            raise SchemaError(sp, "only references within the document ('#/$defs/Name') are supported")
        target_ptr = ref[1:]
        if target_ptr and not target_ptr.startswith("/"):
            raise SchemaError(sp, f"'{ref}' is not a JSON pointer reference")
        node = self.root
        for raw in target_ptr.split("/")[1:] if target_ptr else []:
            key = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and key.isascii() and int(key) < len(node):
                node = node[int(key)]
            else:
                raise SchemaError(sp, f"'{ref}' does not resolve in this document")
        return node, target_ptr

    def norm(self, s, sp, stack, depth):
        if depth > MAX_DEPTH:
            raise SchemaError(sp, f"the schema nests deeper than {MAX_DEPTH} levels")
        if not isinstance(s, dict):
            raise SchemaError(sp, "a schema must be a JSON object")
        for key in s:
            if key in UNSUPPORTED:
                raise SchemaError(f"{sp}/{esc_ptr(key)}", f"'{key}' is not supported by the scaffold compiler")
        if "$ref" in s:
            ref = s["$ref"]
            if not _is_str(ref):
                raise SchemaError(sp + "/$ref", "$ref must be a string")
            for key in s:
                if key in STRUCTURAL:
                    raise SchemaError(f"{sp}/{esc_ptr(key)}", f"'{key}' beside $ref is not supported")
            target, target_ptr = self.resolve(ref, sp + "/$ref")
            if target_ptr in stack:
                raise SchemaError(sp + "/$ref", f"'{ref}' is recursive; recursive schemas cannot be scaffolded")
            return self.norm(target, target_ptr, stack + (target_ptr,), depth + 1)
        node = self.norm_inner(s, sp, stack, depth)
        if "default" in s and node.kind in ("string", "integer", "number", "choice", "json"):
            node.default = jsonlex.dumps(s["default"])
        return node

    def norm_inner(self, s, sp, stack, depth):
        if "anyOf" in s or "oneOf" in s:
            return self.norm_union(s, sp, stack, depth)
        if "const" in s:
            return Node("const", sp, value=s["const"])
        if "enum" in s:
            values = s["enum"]
            if not isinstance(values, list) or not values:
                raise SchemaError(sp + "/enum", "enum must be a non-empty array")
            for i, v in enumerate(values):
                if isinstance(v, (list, dict)):
                    raise SchemaError(f"{sp}/enum/{i}", "enum values must be scalars (string, number, boolean, null)")
            return Node("choice", sp, values=_dedupe(values))
        if "type" not in s:
            if "properties" in s:
                t = "object"
            elif "items" in s:
                t = "array"
            else:
                raise SchemaError(sp, "no 'type': a schema that accepts any value cannot be scaffolded")
        else:
            t = s["type"]
        if _is_str(t):
            if t not in TYPES:
                raise SchemaError(sp + "/type", f"unknown type '{t}'")
            types = [t]
        elif isinstance(t, list) and t:
            types = []
            for i, x in enumerate(t):
                if not _is_str(x) or x not in TYPES:
                    raise SchemaError(f"{sp}/type/{i}", "must be one of " + ", ".join(TYPES))
                if x not in types:
                    types.append(x)
        else:
            raise SchemaError(sp + "/type", "type must be a type name or a non-empty array of type names")
        rest = [x for x in types if x != "null"]
        nullable = len(rest) < len(types)
        if not rest:
            return Node("const", sp, value=None)
        if len(rest) > 1:
            if "object" in rest or "array" in rest:
                raise SchemaError(sp + "/type", "a union of object or array with other types is not supported")
            if "boolean" in rest:
                values = [True, False] + ([None] if nullable else [])
                return Node("json", sp, types=[x for x in rest if x != "boolean"], values=values)
            return Node("json", sp, types=rest, values=[None] if nullable else [])
        base = self.build(rest[0], s, sp, stack, depth)
        if not nullable:
            return base
        if base.kind in ("object", "array"):
            return Node("nullable", sp, inner=base)
        if base.kind in ("choice", "json"):
            base.values.append(None)
            return base
        return Node("json", sp, types=[base.kind], values=[None])

    def norm_union(self, s, sp, stack, depth):
        if "anyOf" in s and "oneOf" in s:
            raise SchemaError(sp + "/oneOf", "anyOf together with oneOf is not supported")
        kw = "anyOf" if "anyOf" in s else "oneOf"
        branches = s[kw]
        if not isinstance(branches, list) or not branches:
            raise SchemaError(f"{sp}/{kw}", f"{kw} must be a non-empty array of schemas")
        for key in ("type", "enum", "const", "properties", "items"):
            if key in s:
                raise SchemaError(f"{sp}/{key}", f"'{key}' beside {kw} is not supported")
        nodes = [self.norm(b, f"{sp}/{kw}/{i}", stack, depth + 1) for i, b in enumerate(branches)]
        if len(nodes) == 1:
            return nodes[0]
        is_null = [n.kind == "const" and n.value is None for n in nodes]
        compound = [i for i, n in enumerate(nodes) if n.kind in ("object", "array", "nullable")]
        if compound:
            if len(nodes) == 2 and any(is_null):
                inner = nodes[compound[0]]
                return inner if inner.kind == "nullable" else Node("nullable", sp, inner=inner)
            raise SchemaError(f"{sp}/{kw}/{compound[0]}",
                              f"{kw} branches must be scalar (an object or array is allowed only beside null)")
        types, values = [], []
        for i, n in enumerate(nodes):
            if n.kind in ("string", "integer", "number"):
                types.append(n.kind)
            elif n.kind == "choice":
                values.extend(n.values)
            elif n.kind == "const":
                if isinstance(n.value, (list, dict)):
                    raise SchemaError(f"{sp}/{kw}/{i}", f"{kw} branches must be scalar")
                values.append(n.value)
            else:
                types.extend(n.types)
                values.extend(n.values)
        types = list(dict.fromkeys(types))
        values = _dedupe(values)
        if not types:
            return Node("choice", sp, values=values)
        return Node("json", sp, types=types, values=values)

    def build(self, t, s, sp, stack, depth):
        if t in ("string", "integer", "number"):
            return Node(t, sp)
        if t == "boolean":
            return Node("choice", sp, values=[True, False])
        if t == "object":
            props = s["properties"] if "properties" in s else None
            if "properties" in s and not isinstance(props, dict):
                raise SchemaError(sp + "/properties", "properties must be an object")
            if "additionalProperties" in s:
                ap = s["additionalProperties"]
                if isinstance(ap, dict) and ap and props is not None:
                    raise SchemaError(sp + "/additionalProperties",
                                      "a schema for extra keys is not supported (free-form keys cannot be scaffolded)")
                if not isinstance(ap, (bool, dict)):
                    raise SchemaError(sp + "/additionalProperties", "must be a boolean or a schema")
            if props is None:
                if s.get("additionalProperties") is not False:
                    return Node("json", sp, types=["object"])  # free-form keys: one slot of JSON text
                props = {}
            required = s.get("required", [])
            if not isinstance(required, list):
                raise SchemaError(sp + "/required", "required must be an array of property names")
            for i, r in enumerate(required):
                if not _is_str(r):
                    raise SchemaError(f"{sp}/required/{i}", "must be a property name (a string)")
                if r not in props:
                    raise SchemaError(f"{sp}/required/{i}", f"'{r}' is not in properties")
            children = []
            for key, sub in props.items():
                child = self.norm(sub, f"{sp}/properties/{esc_ptr(key)}", stack, depth + 1)
                children.append((key, child, key in required))
            return Node("object", sp, props=children)
        if "items" not in s:
            return Node("json", sp, types=["array"])  # items of any type: one slot of JSON text
        if isinstance(s["items"], list):
            raise SchemaError(sp + "/items", "tuple 'items' (an array of schemas) is not supported")
        max_items = None
        if "maxItems" in s:
            m = s["maxItems"]
            if not (isinstance(m, Lex) and jsonlex.is_integer(m) and not m.startswith("-")):
                raise SchemaError(sp + "/maxItems", "maxItems must be a non-negative integer")
            max_items = int(m)
        return Node("array", sp, item=self.norm(s["items"], sp + "/items", stack, depth + 1), max_items=max_items)


class Inst:
    """A node laid out at one place in the scaffold: its slots are [first, end), presence slot or -1."""

    def __init__(self, node, ptr):
        self.node, self.ptr = node, ptr
        self.slot = self.presence = -1
        self.first = self.end = 0
        self.children = []


class ReferenceVocab:
    """Token bytes per id (b"" for special tokens) and the per-kind allowed-token masks."""

    def __init__(self, token_bytes):
        self.token_bytes = [b or b"" for b in token_bytes]
        self.size = len(self.token_bytes)

    def allowed(self, kind: str, b: bytes) -> bool:
        if not b:
            return False
        if kind == "integer":
            return all(c in b"0123456789-" for c in b)
        if kind == "number":
            return all(c in b"0123456789-+.eE" for c in b)
        if any(c < 0x20 for c in b):
            return False
        if kind == "string":
            for i, c in enumerate(b):
                if c == 0x22:
                    run = 0
                    while i - run - 1 >= 0 and b[i - run - 1] == 0x5C:
                        run += 1
                    if run % 2 == 0:
                        return False
        return True

    def class_mask(self, kind: str) -> bytes:
        """bytes of length V+2 (0/1): which ids a slot of `kind` may hold; NULL allowed, MASK never."""
        return bytes(int(self.allowed(kind, b)) for b in self.token_bytes) + b"\x01\x00"


class ReferenceScaffold:
    """Compile one schema: `template` (ids, MASK at slots) and `slots` (tuples, see SLOT_FIELDS)."""

    SLOT_FIELDS = ("pointer", "schema_pointer", "kind", "start", "budget", "required", "choices", "default")

    def __init__(self, schema_text, budgets, pointer_budgets, max_len, vocab, tokenize_literals):
        self.vocab, self.null, self.mask = vocab, vocab.size, vocab.size + 1
        self.budgets, self.pointer_budgets, self.max_len = budgets, pointer_budgets, max_len
        try:
            schema = jsonlex.loads(schema_text)
        except (ValueError, RecursionError):
            raise SchemaError("", "the schema is not valid JSON") from None
        root = _Normalizer(schema).norm(schema, "", ("",), 0)
        if root.kind != "object":
            raise SchemaError("", "the parameters schema must be an object with properties")
        self.slots, self._segments, self._choice_texts, self._lower_bound = [], [], [], 0
        self._pending = ""
        self.root = self._emit(root, "", True)
        self._flush()
        self._assemble(tokenize_literals)

    # layout -------------------------------------------------------------------------------------

    def _lit(self, text):
        self._pending += text

    def _flush(self):
        if self._pending:
            self._segments.append(self._pending)
            self._lower_bound += 1
            self._pending = ""

    def _add_slot(self, kind, ptr, sp, required, choices=(), default=None, budget_key=None):
        self._flush()
        budget_key = budget_key or kind
        budget = self.pointer_budgets.get(ptr, self.budgets[budget_key]) if kind in SLOT_KINDS else 0
        self.slots.append([ptr, sp, kind, 0, budget, required, list(choices), default])
        self._segments.append(len(self.slots) - 1)
        self._lower_bound += budget if kind in SLOT_KINDS else 1
        if self._lower_bound > self.max_len:
            raise SchemaError("", self._too_long())
        return len(self.slots) - 1

    def _too_long(self):
        return (f"the scaffold needs more than max_len={self.max_len} positions; lower the budgets "
                "(array_items=, string=, ...) or raise max_len")

    def _emit(self, node, ptr, required):
        inst = Inst(node, ptr)
        inst.first = len(self.slots)
        k = node.kind
        if k == "object":
            self._lit("{")
            for i, (key, child, req) in enumerate(node.props):
                if i:
                    self._lit(", ")
                self._lit('"' + jsonlex.escape(key) + '": ')
                inst.children.append((key, self._member(child, f"{ptr}/{esc_ptr(key)}", not req), req))
            self._lit("}")
        elif k == "array":
            n = self.pointer_budgets.get(ptr, self.budgets["array_items"])
            if node.max_items is not None:
                n = min(n, node.max_items)
            self._lit("[")
            for i in range(n):
                if i:
                    self._lit(", ")
                inst.children.append((None, self._member(node.item, f"{ptr}/{i}", True), False))
            self._lit("]")
        elif k == "string":
            self._lit('"')
            inst.slot = self._add_slot("string", ptr, node.sp, required, default=node.default)
            self._lit('"')
        elif k in ("integer", "number", "json"):
            inst.slot = self._add_slot(k, ptr, node.sp, required, default=node.default, budget_key=_budget_key(node))
        elif k == "choice":
            texts = [jsonlex.dumps(v) for v in node.values]
            inst.slot = self._add_slot("choice", ptr, node.sp, required, texts, node.default)
        elif k == "const":
            self._lit(jsonlex.dumps(node.value))
        else:
            inst.slot = self._add_slot("null", ptr, node.sp, False, ["null"])
            inst.children.append((None, self._emit(node.inner, ptr, required), required))
        inst.end = len(self.slots)
        return inst

    def _member(self, node, ptr, optional):
        presence = -1
        if optional and can_be_empty(node):
            presence = self._add_slot("presence", ptr, node.sp, False, ["true"])
        inst = self._emit(node, ptr, not optional)
        if presence >= 0:
            inst.presence, inst.first = presence, presence
        return inst

    def _assemble(self, tokenize_literals):
        literal_texts = [s for s in self._segments if isinstance(s, str)]
        choice_texts = list(dict.fromkeys(t for slot in self.slots for t in slot[6]))
        toks = tokenize_literals(literal_texts + choice_texts)
        lit_toks = iter(toks[:len(literal_texts)])
        choice_toks = dict(zip(choice_texts, toks[len(literal_texts):]))
        for slot in self.slots:
            if slot[6]:
                slot[6] = [list(choice_toks[t]) for t in slot[6]]
                slot[4] = max(len(c) for c in slot[6])
        template = []
        for seg in self._segments:
            if isinstance(seg, str):
                template.extend(next(lit_toks))
            else:
                self.slots[seg][3] = len(template)
                template.extend([self.mask] * self.slots[seg][4])
            if len(template) > self.max_len:
                raise SchemaError("", self._too_long())
        self.template = template
        self.slots = [tuple(s) for s in self.slots]

    # encode -------------------------------------------------------------------------------------

    def encode(self, args_text, tokenize):
        """Arguments JSON text -> full ids (slots filled, NULL-padded); ArgumentError(pointer) if invalid."""
        try:
            value = jsonlex.loads(args_text)
        except (ValueError, RecursionError):
            raise ArgumentError("", "the arguments are not valid JSON") from None
        self._texts, self._fixed = {}, {}
        self._enc(self.root, value)
        order = sorted(self._texts)
        toks = tokenize([self._texts[i] for i in order]) if order else []
        ids = list(self.template)
        for slot in self.slots:
            ids[slot[3]:slot[3] + slot[4]] = [self.null] * slot[4]
        for i, t in zip(order, toks):
            ptr, start, budget = self.slots[i][0], self.slots[i][3], self.slots[i][4]
            if len(t) > budget:
                raise ArgumentError(ptr, f"the value needs {len(t)} tokens but its {self.slots[i][2]} slot has a "
                                         f"budget of {budget} (raise {self.slots[i][2]}= or budgets={{'{ptr}': {len(t)}}})")
            if b"".join(self.vocab.token_bytes[x] if 0 <= x < self.vocab.size else b"" for x in t) \
                    != self._texts[i].encode("utf-8"):
                raise ArgumentError(ptr, "the tokenizer does not reproduce the value text byte for byte")
            ids[start:start + len(t)] = t
        for i, c in self._fixed.items():
            choice = self.slots[i][6][c]
            ids[self.slots[i][3]:self.slots[i][3] + len(choice)] = choice
        return ids

    def _enc_member(self, inst, v):
        if inst.presence >= 0:
            self._fixed[inst.presence] = 0
        self._enc(inst, v)

    def _enc(self, inst, v):
        node, ptr, kind = inst.node, inst.ptr, jsonlex.kind_of(v)
        k = node.kind
        if k == "object":
            if kind != "object":
                raise ArgumentError(ptr, "expected an object")
            names = {key for key, _, _ in node.props}
            for key in v:
                if key not in names:
                    raise ArgumentError(f"{ptr}/{esc_ptr(key)}", "is not a property in the schema")
            for key, child, req in inst.children:
                if key in v:
                    self._enc_member(child, v[key])
                elif req:
                    raise ArgumentError(child.ptr, "required property is missing")
        elif k == "array":
            if kind != "array":
                raise ArgumentError(ptr, "expected an array")
            if len(v) > len(inst.children):
                raise ArgumentError(ptr, f"{len(v)} items exceed the budget of {len(inst.children)} items "
                                         f"(raise array_items= or budgets={{'{ptr}': {len(v)}}})")
            for item, (_, child, _) in zip(v, inst.children):
                self._enc_member(child, item)
        elif k == "string":
            if kind != "string":
                raise ArgumentError(ptr, "expected a string")
            self._texts[inst.slot] = jsonlex.escape(v)
        elif k == "integer":
            text = jsonlex.integer_text(v) if kind == "number" else None
            if text is None:
                raise ArgumentError(ptr, "expected an integer")
            self._texts[inst.slot] = text
        elif k == "number":
            if kind != "number":
                raise ArgumentError(ptr, "expected a number")
            self._texts[inst.slot] = str.__str__(v)
        elif k == "choice":
            for i, c in enumerate(node.values):
                if jsonlex.equal(v, c):
                    self._fixed[inst.slot] = i
                    return
            raise ArgumentError(ptr, "is not one of the allowed values")
        elif k == "const":
            if not jsonlex.equal(v, node.value):
                raise ArgumentError(ptr, "must equal the schema's const value " + jsonlex.dumps(node.value))
        elif k == "json":
            if not _json_matches(node, v):
                raise ArgumentError(ptr, "matches none of the allowed types")
            self._texts[inst.slot] = jsonlex.dumps(v)
        elif v is None:
            self._fixed[inst.slot] = 0
        else:
            self._enc(inst.children[0][1], v)

    # decode -------------------------------------------------------------------------------------

    def decode(self, ids):
        """Full ids -> the assembled arguments as canonical JSON text; ArgumentError if not assemblable."""
        ids = list(ids)
        if len(ids) != len(self.template):
            raise ArgumentError("", f"expected {len(self.template)} ids, got {len(ids)}")
        in_slot = [False] * len(ids)
        for slot in self.slots:
            in_slot[slot[3]:slot[3] + slot[4]] = [True] * slot[4]
        for p, (t, x) in enumerate(zip(self.template, ids)):
            if not in_slot[p] and t != x:
                raise ArgumentError("", f"position {p} must hold the literal token {t}, not {x}")
        self._vals = []
        for slot in self.slots:
            toks = [x for x in ids[slot[3]:slot[3] + slot[4]] if x != self.null]
            for x in toks:
                if x == self.mask:
                    raise ArgumentError(slot[0], "the slot is still masked")
                if not (0 <= x < self.vocab.size) or not self.vocab.token_bytes[x]:
                    raise ArgumentError(slot[0], f"token {x} is not a text token")
            self._vals.append(toks)
        return self._dec(self.root)

    def _empty(self, first, end):
        return not any(self._vals[i] for i in range(first, end))

    def _text(self, inst):
        try:
            return b"".join(self.vocab.token_bytes[x] for x in self._vals[inst.slot]).decode("utf-8")
        except UnicodeDecodeError:
            raise ArgumentError(inst.ptr, "the slot's bytes are not valid UTF-8") from None

    def _dec_optional(self, inst):
        if inst.presence >= 0:
            p = self._vals[inst.presence]
            if not p:
                if not self._empty(inst.presence + 1, inst.end):
                    raise ArgumentError(inst.ptr, "value tokens without the presence token")
                return None
            if p != self.slots[inst.presence][6][0]:
                raise ArgumentError(inst.ptr, "the presence slot holds something other than its token")
            return self._dec(inst)
        if self._empty(inst.first, inst.end):
            return None
        return self._dec(inst)

    def _dec(self, inst):
        node, ptr, k = inst.node, inst.ptr, inst.node.kind
        if k == "object":
            parts = []
            for key, child, req in inst.children:
                text = self._dec(child) if req else self._dec_optional(child)
                if text is not None:
                    parts.append('"' + jsonlex.escape(key) + '": ' + text)
            return "{" + ", ".join(parts) + "}"
        if k == "array":
            items = [self._dec_optional(child) for _, child, _ in inst.children]
            return "[" + ", ".join(t for t in items if t is not None) + "]"
        if k == "const":
            return jsonlex.dumps(node.value)
        if k == "nullable":
            if not self._vals[inst.slot]:
                return self._dec(inst.children[0][1])
            if self._vals[inst.slot] != self.slots[inst.slot][6][0]:
                raise ArgumentError(ptr, "the null slot holds something other than the null token")
            if not self._empty(inst.slot + 1, inst.end):
                raise ArgumentError(ptr, "the value is null but its slots are not all NULL")
            return "null"
        if k == "string":
            body = jsonlex.string_body(self._text(inst))
            if body is None:
                raise ArgumentError(ptr, "the slot is not a valid JSON string body")
            return '"' + jsonlex.escape(body) + '"'
        if not self._vals[inst.slot]:
            raise ArgumentError(ptr, "the slot has no value")
        if k == "choice":
            for c in self.slots[inst.slot][6]:
                if self._vals[inst.slot] == c:
                    return jsonlex.dumps(node.values[self.slots[inst.slot][6].index(c)])
            raise ArgumentError(ptr, "the slot holds none of its choices")
        text = self._text(inst)
        if k == "integer":
            if not jsonlex.is_integer(text):
                raise ArgumentError(ptr, "the slot is not a JSON integer")
            return text
        if k == "number":
            if not jsonlex.is_number(text):
                raise ArgumentError(ptr, "the slot is not a JSON number")
            return text
        if is_free(node):
            try:
                v = jsonlex.loads(text)
            except ValueError:
                raise ArgumentError(ptr, "the slot is not JSON text") from None
        else:
            try:
                v = jsonlex.scalar(text)
            except ValueError:
                raise ArgumentError(ptr, "the slot is not a JSON scalar") from None
        if not _json_matches(node, v):
            raise ArgumentError(ptr, "matches none of the allowed types")
        return jsonlex.dumps(v)


def is_free(node) -> bool:
    """Whether a json node holds free-form JSON (an object without properties, an array without items)."""
    return "object" in node.types or "array" in node.types


def _budget_key(node) -> str:
    return "free" if node.kind == "json" and is_free(node) else node.kind


def _json_matches(node, v) -> bool:
    kind = jsonlex.kind_of(v)
    for t in node.types:
        if t == kind or (t == "number" and kind == "number"):
            return True
        if t == "integer" and kind == "number" and jsonlex.integer_text(v) is not None:
            return True
    return any(jsonlex.equal(v, c) for c in node.values)
