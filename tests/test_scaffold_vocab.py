"""The scaffold accepts a ByteLevel decoder however it is wrapped, and refuses other decoders."""

import pytest
from tokenizers import decoders

from edgeagent.scaffold.testing import tiny_tokenizer
from edgeagent.scaffold.vocab import is_byte_level, token_bytes


def test_byte_level_inside_a_sequence_is_accepted():
    assert is_byte_level(decoders.ByteLevel())
    assert is_byte_level(decoders.Sequence([decoders.ByteLevel()]))
    assert not is_byte_level(decoders.Sequence([decoders.Metaspace()]))
    assert not is_byte_level(decoders.WordPiece())


def test_token_bytes_refuses_a_non_byte_level_tokenizer():
    tok = tiny_tokenizer()
    wrapped = tok.__class__.from_str(tok.to_str())
    wrapped.decoder = decoders.Sequence([decoders.ByteLevel()])
    assert token_bytes(wrapped) == token_bytes(tok)
    wrapped.decoder = decoders.WordPiece()
    with pytest.raises(ValueError, match="byte-level"):
        token_bytes(wrapped)
