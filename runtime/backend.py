"""The narrow interface between the routed pipeline and a model.

A backend is the trunk plus the heads, on numpy arrays and token ids. Two implement it: the
PyTorch reference (``edgeagent.export.torch_backend``) and the ONNX Runtime one; the pipeline
(``runtime/pipeline.py``) is written once against this protocol.

    tokenizer        a `tokenizers.Tokenizer`
    family           chat-template family ("smollm2", "smollm3", ...)
    max_len          longest sequence the cache holds
    max_scaffold_len longest scaffold the slot filler reads (a longer one is decoded by the trunk)
    listing          how the prompts the heads were trained on list the tools (PipelineConfig.listing None
                     follows it; a backend without it is taken as "json")
    new_cache()      an empty KV cache
    prefill(ids, cache, all_logits=False) -> (logits [V] of the last token, or [n, V] of every
                     new token with all_logits; hidden [n, H] of the new tokens; cache)
                     appends ``ids`` to the cache (works for one token too: that is decode)
    truncate(cache, n) -> cache          keeps positions [0, n) (in place allowed): prefix reuse
    branch(ids, cache, all_logits=False) -> logits   as prefill, but the cache is left as it was
                     (the trunk anchors' short passes; ONNX Runtime keeps the old arrays: no copy)
    branches(rows, cache, all_logits=False) -> [logits per row]   ``branch`` for each row of token
                     ids; ONNX Runtime runs them as one batched pass (the weights read once)
    mode_logits(state [H]) -> [3]        chat | think | tool
    another_logits(state [H]) -> [2]     end | another call
    has_select       whether the heads include the tool-selection head (optional)
    select_logits(features [K, F]) -> [K]   which listed tool the next call uses
                     (features: runtime/select.call_features)
    fill_step(ids [L], kinds [L], slot_pos [L], ctx [T, H], rows=None)
        -> (token_logits [N, V+1] at the positions ``rows`` [N] (all L when None),
            action_logits [L, 3], start [L, T], end [L, T])
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class Backend(Protocol):
    tokenizer: Any
    family: str
    max_len: int
    max_scaffold_len: int
    listing: str          # the prompts' tool listing the heads were trained on ("json", "signature", ...)

    def new_cache(self) -> Any: ...

    def prefill(self, ids: np.ndarray, cache: Any, all_logits: bool = False) -> tuple[np.ndarray, np.ndarray, Any]: ...

    def truncate(self, cache: Any, length: int) -> Any: ...

    def branch(self, ids: np.ndarray, cache: Any, all_logits: bool = False) -> np.ndarray: ...

    def branches(self, rows: list, cache: Any, all_logits: bool = False) -> list: ...

    def mode_logits(self, state: np.ndarray) -> np.ndarray: ...

    def another_logits(self, state: np.ndarray) -> np.ndarray: ...

    has_select: bool

    def select_logits(self, features: np.ndarray) -> np.ndarray: ...

    def fill_step(self, ids: np.ndarray, kinds: np.ndarray, slot_pos: np.ndarray, ctx: np.ndarray,
                  rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...
