"""Token bytes of a byte-level BPE tokenizer, cached once per tokenizer, plus its literal-token cache.

Byte-level BPE vocabularies spell every byte as one printable character (GPT-2's bytes_to_unicode
table). Mapping a token's string back through that table gives its exact bytes, even for tokens
that hold half of a UTF-8 character (which `tokenizer.decode([id])` would mangle).
"""

from functools import lru_cache


@lru_cache(maxsize=1)
def byte_decoder() -> dict[str, int]:
    """GPT-2's unicode character -> byte table (the inverse of bytes_to_unicode)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def is_byte_level(decoder) -> bool:
    """A ByteLevel decoder, alone or inside a Sequence (as some transformers versions save it)."""
    import json

    from tokenizers import decoders

    if isinstance(decoder, decoders.ByteLevel):
        return True
    if isinstance(decoder, decoders.Sequence):
        state = json.loads(decoder.__getstate__())
        return any(d.get("type") == "ByteLevel" for d in state.get("decoders", []))
    return False


def token_bytes(tokenizer) -> list:
    """bytes per token id (None for added/special tokens and ids the table cannot spell)."""
    if not is_byte_level(tokenizer.decoder):
        raise ValueError("the scaffold compiler needs a byte-level BPE tokenizer (decoder ByteLevel), "
                         f"got {type(tokenizer.decoder).__name__}")
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    special = set(tokenizer.get_added_tokens_decoder())
    table = byte_decoder()
    out = [None] * (max(vocab.values()) + 1)
    for text, i in vocab.items():
        if i not in special and text and all(c in table for c in text):
            out[i] = bytes(table[c] for c in text)
    return out


class TokenizerEntry:
    """What the scaffold keeps per tokenizer: token bytes, the two vocab cores, the literal cache."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.token_bytes = token_bytes(tokenizer)
        self.size = len(self.token_bytes)
        self.literals: dict[str, list[int]] = {}
        self._cores = {}
        self.class_masks = {}

    def core(self, impl: str):
        """The vocabulary object of one implementation ("cpp" or "python"), built once."""
        if impl not in self._cores:
            if impl == "cpp":
                from edgeagent.cpp_ext import _scaffold

                self._cores[impl] = _scaffold.Vocab([b or b"" for b in self.token_bytes])
            else:
                from .reference import ReferenceVocab

                self._cores[impl] = ReferenceVocab(self.token_bytes)
        return self._cores[impl]

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text on its own, no special tokens."""
        if len(texts) <= 2:
            return [self.tokenizer.encode(t, add_special_tokens=False).ids for t in texts]
        return [e.ids for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)]

    def tokenize_literals(self, texts: list[str]) -> list[list[int]]:
        """Like tokenize, cached by text: literal fragments repeat across schemas."""
        missing = [t for t in dict.fromkeys(texts) if t not in self.literals]
        for t, ids in zip(missing, self.tokenize(missing)):
            self.literals[t] = ids
        return [self.literals[t] for t in texts]


_ENTRIES: dict[int, TokenizerEntry] = {}


def entry_for(tokenizer) -> TokenizerEntry:
    """The cached entry of `tokenizer` (a tokenizers.Tokenizer, or a transformers fast tokenizer)."""
    tokenizer = getattr(tokenizer, "backend_tokenizer", tokenizer)
    e = _ENTRIES.get(id(tokenizer))
    if e is None or e.tokenizer is not tokenizer:
        e = _ENTRIES[id(tokenizer)] = TokenizerEntry(tokenizer)
    return e
