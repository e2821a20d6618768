"""The public scaffold object: compile a schema once, then encode / decode / mask many times.

`compile_schema` picks an implementation: "cpp" (edgeagent.cpp_ext._scaffold, the default),
"python" (edgeagent.scaffold.reference) or "both" (runs the two and raises
`ImplementationMismatch` on any difference: the slow path checks the fast one).
"""

import json
import os
from dataclasses import dataclass, field, fields
from functools import cached_property

import numpy as np

from .errors import ArgumentError, SchemaError
from .vocab import entry_for

_SEP = "\x1f"


@dataclass(frozen=True)
class Budgets:
    """Default slot budgets in tokens (array_items in items), chosen to cover ~p99 of the training
    data's values with the SmolLM2 tokenizer (numbers in cpp_ext/README.md). max_len caps the
    whole scaffold so that nested arrays cannot explode silently."""

    string: int = 24
    integer: int = 8
    number: int = 16
    json: int = 24
    free: int = 48
    array_items: int = 6
    max_len: int = 2048

    def kinds(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "max_len"}


class ImplementationMismatch(AssertionError):
    """impl="both": the C++ and the Python implementation disagreed."""


@dataclass(frozen=True, eq=False)
class Slot:
    """One value slot: `budget` positions from `start` in the scaffold.

    kind: string | integer | number | json (full JSON text of a scalar union / nullable scalar) |
    choice (enum, boolean: one of `choices`) | presence (one choice, the tokens of `true`; NULL means
    the optional value is absent) | null (one choice, the tokens of `null`; NULL means not null).
    pointer: JSON pointer into the arguments ("/stops/0/city"); schema_pointer: into the schema.
    required: the value is a required property (array items and presence/null slots are not).
    choices: token-id tuples of the allowed values (choice/presence/null), else None.
    allowed: bool[V + 2] logit mask (NULL allowed, MASK never).
    """

    index: int
    pointer: str
    schema_pointer: str
    kind: str
    start: int
    budget: int
    required: bool
    choices: tuple | None
    default: object
    has_default: bool
    _scaffold: object = field(repr=False)

    @property
    def positions(self) -> np.ndarray:
        return np.arange(self.start, self.start + self.budget)

    @cached_property
    def allowed(self) -> np.ndarray:
        return self._scaffold._allowed(self)


class _CppCore:
    """Adapts edgeagent.cpp_ext._scaffold.Scaffold to the reference's interface and error types."""

    def __init__(self, schema_text, budgets, pointer_budgets, max_len, vocab, tokenize_literals):
        from edgeagent.cpp_ext import _scaffold

        self._m = _scaffold
        self._c = self._call(_scaffold.Scaffold, schema_text, budgets, pointer_budgets, max_len, vocab,
                             tokenize_literals)
        self.template = list(self._c.template())
        self.slots = [tuple(s) for s in self._c.slots()]

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except self._m.SchemaError as e:
            raise SchemaError(*str(e).split(_SEP, 1)) from None
        except self._m.ArgumentError as e:
            raise ArgumentError(*str(e).split(_SEP, 1)) from None

    def encode(self, args_text, tokenize):
        return list(self._call(self._c.encode, args_text, tokenize))

    def decode(self, ids):
        return self._call(self._c.decode, ids)


def _python_core(*args):
    from .reference import ReferenceScaffold

    return ReferenceScaffold(*args)


def _run(core_fn, *args):
    try:
        return core_fn(*args), None
    except (SchemaError, ArgumentError) as e:
        return None, e


def _both(what, a, b, compare=True):
    (ra, ea), (rb, eb) = a, b
    if ea is not None or eb is not None:
        if type(ea) is not type(eb) or (ea.pointer, ea.reason) != (eb.pointer, eb.reason):
            raise ImplementationMismatch(f"{what}: cpp -> {ea or ra!r}, python -> {eb or rb!r}")
        raise ea
    if compare and ra != rb:
        raise ImplementationMismatch(f"{what}: cpp -> {ra!r}, python -> {rb!r}")
    return ra


class Scaffold:
    """A compiled schema. See `compile_schema`."""

    def __init__(self, schema, tokenizer, impl="cpp", budgets=None, **kinds):
        if impl not in ("cpp", "python", "both"):
            raise ValueError(f"impl must be 'cpp', 'python' or 'both', not {impl!r}")
        b = Budgets(**kinds)
        for name, v in [*b.kinds().items(), ("max_len", b.max_len)]:
            if not isinstance(v, int) or isinstance(v, bool) or v < (0 if name == "array_items" else 1):
                raise ValueError(f"budget {name}={v!r} must be a positive integer")
        pointer_budgets = dict(budgets or {})
        for k, v in pointer_budgets.items():
            if not isinstance(k, str) or not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"budgets[{k!r}]={v!r}: keys are JSON pointers, values non-negative integers")
        try:
            schema_text = json.dumps(schema, ensure_ascii=False, allow_nan=False)
            schema_text.encode("utf-8")
        except (TypeError, ValueError) as e:
            raise SchemaError("", f"the schema is not JSON-serializable: {e}") from None
        self.schema, self.impl, self.budgets = schema, impl, b
        self._entry = entry = entry_for(tokenizer)
        self.vocab_size = entry.size
        self.null_id, self.mask_id = entry.size, entry.size + 1
        args = (schema_text, b.kinds(), pointer_budgets, b.max_len)
        self._cores = {}
        if impl == "both":
            runs = {name: _run(fn, *args, entry.core(name), entry.tokenize_literals)
                    for name, fn in (("cpp", _CppCore), ("python", _python_core))}
            _both("compile", runs["cpp"], runs["python"], compare=False)
            self._cores = {name: r[0] for name, r in runs.items()}
            _both("layout", ((self._cores["cpp"].template, self._cores["cpp"].slots), None),
                  ((self._cores["python"].template, self._cores["python"].slots), None))
        else:
            fn = _CppCore if impl == "cpp" else _python_core
            self._cores[impl] = fn(*args, entry.core(impl), entry.tokenize_literals)
        core = next(iter(self._cores.values()))
        self._template = np.asarray(core.template, dtype=np.int64)
        self.length = len(self._template)
        self.slots = tuple(self._slot(i, s) for i, s in enumerate(core.slots))
        self.slot_positions = np.concatenate([s.positions for s in self.slots]) if self.slots \
            else np.zeros(0, dtype=np.int64)
        self.is_slot = np.zeros(self.length, dtype=bool)
        self.is_slot[self.slot_positions] = True
        self.slot_index = np.full(self.length, -1, dtype=np.int64)
        for s in self.slots:
            self.slot_index[s.start:s.start + s.budget] = s.index

    def _class_mask(self, kind):
        masks = self._entry.class_masks
        if kind not in masks:
            impl = "cpp" if "cpp" in self._cores else "python"
            m = np.frombuffer(self._entry.core(impl).class_mask(kind), dtype=np.uint8).astype(bool)
            m.flags.writeable = False
            masks[kind] = m
        return masks[kind]

    def _slot(self, index, s):
        pointer, schema_pointer, kind, start, budget, required, choices, default = s
        choices = tuple(tuple(c) for c in choices) if choices else None
        return Slot(index, pointer, schema_pointer, kind, start, budget, bool(required), choices,
                    json.loads(default) if default is not None else None, default is not None, self)

    def _allowed(self, slot):
        if slot.choices is None:
            return self._class_mask(slot.kind)
        allowed = np.zeros(self.vocab_size + 2, dtype=bool)
        allowed[[t for c in slot.choices for t in c]] = True
        allowed[self.null_id] = True
        allowed.flags.writeable = False
        return allowed

    def masked(self) -> np.ndarray:
        """int64[length]: literal tokens, MASK at every slot position (the diffusion head's start)."""
        return self._template.copy()

    def allowed_mask(self, slot) -> np.ndarray:
        """bool[V + 2] logit mask of a slot (a Slot or its index)."""
        return self.slots[slot if isinstance(slot, int) else slot.index].allowed

    def encode(self, arguments: dict) -> np.ndarray:
        """int64[length]: the scaffold with every slot filled from `arguments`, NULL-padded.

        Raises ArgumentError (a ValueError) naming the argument's JSON pointer when the arguments do
        not fit the schema or a value needs more tokens than its slot's budget.
        """
        try:
            text = json.dumps(arguments, ensure_ascii=False, allow_nan=False)
            text.encode("utf-8")
        except (TypeError, ValueError) as e:
            raise ArgumentError("", f"the arguments are not JSON-serializable: {e}") from None
        tok = self._entry.tokenize
        runs = {name: _run(core.encode, text, tok) for name, core in self._cores.items()}
        return np.asarray(self._pick("encode", runs), dtype=np.int64)

    def decode(self, ids) -> dict:
        """Assemble the arguments from full scaffold ids (NULL padding and absent optionals dropped).

        Raises ArgumentError (a ValueError) if the ids do not assemble into valid arguments.
        """
        return json.loads(self.decode_text(ids))

    def decode_text(self, ids) -> str:
        """Like decode, but the canonical JSON text (json.dumps separators, number lexemes verbatim)."""
        a = np.asarray(ids)
        if a.ndim != 1 or not (a.size == 0 or np.issubdtype(a.dtype, np.integer)):
            raise ArgumentError("", "ids must be a 1-D sequence of integers")
        ids = [int(x) for x in a]
        runs = {name: _run(core.decode, ids) for name, core in self._cores.items()}
        return self._pick("decode", runs)

    def _pick(self, what, runs):
        if len(runs) == 2:
            return _both(what, runs["cpp"], runs["python"])
        result, error = next(iter(runs.values()))
        if error is not None:
            raise error
        return result


def compile_schema(parameters_schema: dict, tokenizer, *, impl: str | None = None, budgets: dict | None = None,
                   **kinds) -> Scaffold:
    """Compile a function's parameters JSON Schema into a token scaffold for `tokenizer`.

    tokenizer: a byte-level BPE `tokenizers.Tokenizer` (or a transformers fast tokenizer).
    impl: "cpp" (default), "python" (the reference) or "both" (checks that they agree); the
          default can be set with $EDGEAGENT_SCAFFOLD_IMPL (e.g. "python" where no compiled
          extension is installed).
    kinds: budget overrides, string= integer= number= json= array_items= max_len= (see Budgets).
    budgets: per-pointer overrides {argument JSON pointer: tokens (or max items for an array)}.
    Raises SchemaError(pointer, reason) for invalid or unsupported schemas.
    """
    if impl is None:
        impl = os.environ.get("EDGEAGENT_SCAFFOLD_IMPL", "cpp")
    return Scaffold(parameters_schema, tokenizer, impl=impl, budgets=budgets, **kinds)
