"""The trunk on ONNX Runtime: prefill, decode one token, greedy generation. No torch.

The cache holds, per layer, the key and value arrays the graph returned last ([1, kv_heads, n,
head_dim], contiguous): they go back in unchanged as the next call's past, so a decode step
copies the cache once (the graph's own Concat) instead of three times (slice to a contiguous
past, Concat, copy the new positions back into a preallocated buffer). After a rewind
(`length` set lower) the first call slices the arrays once. Names, dims and the layout come from
the artifact's manifest; nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .manifest import KVLayout, Manifest, check_graph_io, load_manifest
from .providers import choose_providers

_ORT_DTYPES = {"tensor(float)": "float32", "tensor(int64)": "int64", "tensor(float16)": "float16"}


@dataclass
class KVCache:
    """keys[l], values[l]: [1, kv_heads, n, head_dim] with n >= length; positions [0, length) are
    valid. Setting `length` lower rewinds (prefix reuse, a discarded draft)."""

    keys: list[np.ndarray]
    values: list[np.ndarray]
    length: int = 0
    max_len: int = 2048

    def compact(self) -> None:
        """Slice the arrays to ``length`` (once, after a rewind), so the next call copies nothing."""
        for arrays in (self.keys, self.values):
            for i, a in enumerate(arrays):
                arrays[i] = _past(a, self.length)

    @classmethod
    def allocate(cls, kv: KVLayout, max_len: int) -> "KVCache":
        shape = (1, kv.kv_heads, 0, kv.head_dim)
        return cls([np.zeros(shape, kv.dtype) for _ in range(kv.num_layers)],
                   [np.zeros(shape, kv.dtype) for _ in range(kv.num_layers)], 0, max_len)


def _past(a: np.ndarray, length: int) -> np.ndarray:
    return a if a.shape[2] == length else np.ascontiguousarray(a[:, :, :length])


class OrtTrunk:
    """An artifact's trunk graph in one InferenceSession, with cache-aware prefill/decode."""

    def __init__(self, artifact_dir: str | Path, provider: str | None = None, verify: bool = True,
                 max_len: int = 2048, threads: int | None = None):
        self.dir = Path(artifact_dir)
        self.manifest: Manifest = load_manifest(self.dir, verify=verify)
        self.graph = self.manifest.graphs["trunk"]
        self.kv = self.manifest.kv
        self.max_len = max_len
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.providers = choose_providers(provider)
        if self.manifest.quantization == "fp8" and self.providers == ["CPUExecutionProvider"]:
            # ORT's CPU optimizer fuses DQ→MatMul→Q into QGemm/QLinearMatMul, which have no float8
            # kernels (onnxruntime #22269); unfused, the Q/DQ reference kernels simulate FP8 rounding
            # in fp32: right numbers, slowly. FP8 is for TensorRT on Hopper/Ada.
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        path = self.dir / self.graph.file
        self.session = ort.InferenceSession(str(path), opts, providers=self.providers)
        check_graph_io(
            self.graph,
            [(i.name, _ORT_DTYPES.get(i.type, i.type), i.shape) for i in self.session.get_inputs()],
            [(o.name, _ORT_DTYPES.get(o.type, o.type), o.shape) for o in self.session.get_outputs()],
            where=str(path),
        )
        self._out_names = [o.name for o in self.graph.outputs]
        # graph version 1 had no logits_index and gave logits at every position
        self._logits_index = self.graph.has_input("logits_index")

    def new_cache(self, max_len: int | None = None) -> KVCache:
        return KVCache.allocate(self.kv, max_len or self.max_len)

    def _feed(self, ids: np.ndarray, cache: KVCache, logits_at) -> dict:
        """The graph's inputs for ``ids`` [b, n] after the cache's positions, logits read at positions
        ``logits_at`` (graphs without logits_index give all). With b > 1 the past is repeated per row."""
        (b, n), start = ids.shape, cache.length
        if start + n > cache.max_len:
            raise ValueError(f"sequence of {start + n} tokens exceeds the cache's max_len {cache.max_len}")
        feed = {"input_ids": ids, "position_ids": np.repeat(np.arange(start, start + n, dtype=np.int64)[None], b, 0)}
        if self._logits_index:
            feed["logits_index"] = np.asarray(logits_at, np.int64)
        kv = self.kv
        for i in range(kv.num_layers):
            for name, arrays in ((kv.past_key % i, cache.keys), (kv.past_value % i, cache.values)):
                past = _past(arrays[i], start)
                feed[name] = past if b == 1 else np.repeat(past, b, 0)
        return feed

    def forward(self, ids: np.ndarray, cache: KVCache, all_logits: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Run `ids` [T] at cache positions [length, length+T); returns logits [T, V] (all_logits) or
        [1, V] (the last position's; older graphs give all T), hidden [T, H]."""
        ids = np.asarray(ids, dtype=np.int64).reshape(1, -1)
        n, start = ids.shape[1], cache.length
        feed = self._feed(ids, cache, np.arange(n) if all_logits else [n - 1])
        outs = dict(zip(self._out_names, self.session.run(self._out_names, feed)))
        kv = self.kv
        for i in range(kv.num_layers):  # present [1, kv, start + n, hd] is the next call's past
            cache.keys[i] = outs[kv.present_key % i]
            cache.values[i] = outs[kv.present_value % i]
        cache.length = start + n
        return outs["logits"][0], outs["hidden_states"][0]

    def forward_rows(self, rows: list, cache: KVCache, all_logits: bool = False) -> list[np.ndarray]:
        """Run each of ``rows`` (token ids) after the cache's positions, all in one batched pass; the
        cache is not changed. Returns per row its logits [len, V] (all_logits) or [V] (its last).

        One pass reads the weights once for every row, where a pass per row reads them per row.
        Rows are padded on the right: in a causal pass a row's tokens never see the padding after
        them. The past is copied once per row (the graph's batch is the rows)."""
        lens = [len(r) for r in rows]
        if not rows or min(lens) == 0:
            raise ValueError("forward_rows needs at least one row, and no empty row")
        n, b = max(lens), len(rows)
        ids = np.zeros((b, n), np.int64)
        for i, r in enumerate(rows):
            ids[i, :lens[i]] = np.asarray(r, np.int64)
        last = sorted({k - 1 for k in lens})
        logits = self.session.run(["logits"], self._feed(ids, cache, np.arange(n) if all_logits else last))[0]
        if all_logits:
            return [logits[i, :lens[i]] for i in range(b)]
        at = {k: j for j, k in enumerate(last)} if self._logits_index else {k: k for k in last}
        return [logits[i, at[lens[i] - 1]] for i in range(b)]

    def prefill(self, ids: Iterable[int], cache: KVCache | None = None, all_logits: bool = False):
        """Prompt pass. Returns (logits [V] of the last token, or [T, V] with all_logits; hidden [T, H]; cache)."""
        cache = cache if cache is not None else self.new_cache()
        ids = np.fromiter(ids, dtype=np.int64) if not isinstance(ids, np.ndarray) else ids
        if ids.size == 0:
            raise ValueError("prefill needs at least one token")
        logits, hidden = self.forward(ids, cache, all_logits)
        return (logits if all_logits else logits[-1]), hidden, cache

    def decode(self, token_id: int, cache: KVCache):
        """One token. Returns (logits [V], hidden [H], cache)."""
        logits, hidden = self.forward(np.array([token_id], dtype=np.int64), cache)
        return logits[-1], hidden[0], cache


def greedy(trunk: OrtTrunk, prompt_ids: Iterable[int], max_new_tokens: int,
           stop_ids: Iterable[int] = (), cache: KVCache | None = None) -> Iterator[int]:
    """Yield greedy tokens after `prompt_ids`; stops after a token in `stop_ids` (which is yielded)."""
    stop = set(stop_ids)
    logits, _, cache = trunk.prefill(prompt_ids, cache)
    for step in range(max_new_tokens):
        token = int(np.argmax(logits))
        yield token
        if token in stop or step == max_new_tokens - 1:
            return
        logits, _, cache = trunk.decode(token, cache)
