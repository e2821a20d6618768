"""Test helpers: a tiny byte-level BPE tokenizer trained in a second, and a tokenizer-independent view.

Tests run anywhere on the tiny tokenizer; tests marked `model` use the real one: the
tokenizer.json named by $EDGEAGENT_TOKENIZER, else the embedded default's in the model cache.
"""

import json
import os
from functools import lru_cache

_WORDS = ("the city of Tokyo Paris New York weather forecast in celsius fahrenheit book a table for two at "
          "restaurant flight from to on date time 2024-05-01 10:30 am pm number amount price total currency usd "
          "eur user name email address phone street main road hotel check in out guests rooms true false null "
          "query search results limit offset page sort order ascending descending id type status active "
          "message text subject body send calendar event meeting reminder list items tags music song artist").split()
_UNICODE = ["東京", "café", "naïve", "Zürich", "😀", "Ωμέγα", "привет", "مرحبا", "ß", "€"]


def _sentences(n=400):
    out = []
    for i in range(n):
        words = [_WORDS[(i * 7 + j * 13) % len(_WORDS)] for j in range(3 + i % 9)]
        if i % 5 == 0:
            words.append(_UNICODE[i % len(_UNICODE)])
        if i % 3 == 0:
            words.append(str(i * 37 % 1000))
        out.append(" ".join(words))
        out.append(json.dumps({"name": words[0], "value": i / 7, "ok": i % 2 == 0, "n": i, "tags": words[:2]},
                              ensure_ascii=False))
    return out


@lru_cache(maxsize=1)
def tiny_tokenizer(vocab_size: int = 600):
    """A byte-level BPE tokenizer (every byte is a token) trained on a few hundred sentences."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_sentences(), trainer=trainer)
    return tok


def real_tokenizer():
    """The tokenizer at $EDGEAGENT_TOKENIZER, else the cached embedded default's, or None."""
    path = os.environ.get("EDGEAGENT_TOKENIZER")
    if not path:
        from edgeagent.models.registry import DEFAULT_MODEL, model_dir

        path = str(model_dir(DEFAULT_MODEL) / "tokenizer.json")
    if not os.path.exists(path):
        return None
    from tokenizers import Tokenizer

    return Tokenizer.from_file(path)


def layout_text(sc) -> str:
    """The scaffold as text with each slot shown as <kind:budget> (choice slots as <kind>): tokenizer-independent."""
    from .vocab import entry_for

    token_bytes = entry_for(sc._entry.tokenizer).token_bytes
    out, p, ids = [], 0, sc.masked()
    while p < sc.length:
        i = sc.slot_index[p]
        if i >= 0:
            s = sc.slots[i]
            out.append(f"<{s.kind}>" if s.choices else f"<{s.kind}:{s.budget}>")
            p += s.budget
        else:
            out.append(token_bytes[ids[p]].decode("utf-8", "surrogateescape"))
            p += 1
    return "".join(out)
