"""Type stub of the nanobind module edgeagent.cpp_ext._scaffold (see cpp_ext/README.md)."""

from collections.abc import Callable, Sequence

class SchemaError(ValueError):
    """str(e) is "pointer\\x1freason"."""

class ArgumentError(ValueError):
    """str(e) is "pointer\\x1freason"."""

class Vocab:
    def __init__(self, token_bytes: Sequence[bytes]) -> None:
        """Token bytes per id; b"" marks special tokens (never allowed in a slot)."""
    @property
    def size(self) -> int: ...
    def class_mask(self, kind: str) -> bytes:
        """V + 2 bytes of 0/1 for kind string | integer | number | json (NULL 1, MASK 0)."""

Tokenize = Callable[[list[str]], list[list[int]]]
SlotTuple = tuple[str, str, str, int, int, bool, list[list[int]], str | None]

class Scaffold:
    def __init__(self, schema_text: str, budgets: dict[str, int], pointer_budgets: dict[str, int],
                 max_len: int, vocab: Vocab, tokenize_literals: Tokenize) -> None: ...
    def template(self) -> list[int]:
        """Scaffold ids with MASK (= V + 1) at every slot position."""
    def slots(self) -> list[SlotTuple]:
        """(pointer, schema_pointer, kind, start, budget, required, choices, default JSON text)."""
    def encode(self, args_text: str, tokenize: Tokenize) -> list[int]: ...
    def decode(self, ids: Sequence[int]) -> str: ...
