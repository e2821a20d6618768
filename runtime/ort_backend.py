"""The ONNX Runtime backend of the routed pipeline: an artifact folder's trunk and heads. No torch.

Implements the interface of runtime/backend.py on the graphs `edgeagent export` writes: the
trunk through OrtTrunk (preallocated KV cache), the slot filler and the two routers in their own
sessions, the tokenizer from the artifact's tokenizer.json, the chat family, special ids and
scaffold budgets from the manifest. The PyTorch reference is edgeagent.export.torch_backend;
tests/test_ort_backend.py checks that the two give the same calls and text.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edgeagent.heads.spec import ACTIONS, CONTINUE, KINDS, MODES

from .gate import GATE_FILE, ToolGate
from .span_prior import PRIOR_FILE, SpanPrior
from .manifest import ArtifactError, HeadsSpec, check_graph_io, load_manifest
from .ort_trunk import _ORT_DTYPES, KVCache, OrtTrunk
from .select import check_feature_count

HEAD_GRAPHS = ("slot_filler", "mode_head", "another_head")
OPTIONAL_GRAPHS = ("select_head",)
DEFAULT_MAX_LEN = 4096  # cache positions when the manifest's max_positions is larger (KV memory)
# Branch rows run one at a time on the CPU past this many cached positions: on 40 dev requests (70
# calls, this 2-core CPU, fp32) the branch passes took 9.1 / 11.6 s batched at any length (two
# runs), 6.4 / 7.4 s one at a time past 400 positions, 6.7 / 6.5 s past 600, 7.5 s past 800; the
# calls were the same.
ROWS_BATCH_MAX_PAST = 600


# budgets of slot layouts added after heads were exported: an older manifest may lack them
LATER_BUDGETS = ("free",)                              # free-form JSON (runtime/literal.py)


def _check_heads(spec: HeadsSpec, vocab: int, where: str) -> None:
    """The heads' tables must be the ones this runtime's pipeline uses; say which one differs."""
    from edgeagent.scaffold import Budgets

    wants = {"kinds": list(KINDS), "actions": list(ACTIONS), "modes": list(MODES), "continue_": list(CONTINUE),
             "budgets": asdict(Budgets()), "null_id": vocab, "mask_id": vocab + 1}
    for key, want in wants.items():
        got = getattr(spec, key)
        if key == "budgets":                           # a budget added since the export was never used by its heads
            want = {k: v for k, v in want.items() if k in got or k not in LATER_BUDGETS}
        if got != want:
            raise ArtifactError(f"{where}: heads.{key} is {got!r}, this runtime uses {want!r}; the heads were "
                                "trained for another edgeagent version; re-export (or retrain) them")


class OrtBackend:
    """`OrtBackend(artifact_dir)`: the backend protocol (runtime/backend.py) on ONNX Runtime."""

    def __init__(self, artifact_dir: str | Path, provider: str | None = None, max_len: int | None = None,
                 threads: int | None = None):
        self.dir = Path(artifact_dir)
        manifest = load_manifest(self.dir, verify=True)
        where = str(self.dir / "manifest.json")
        missing = [g for g in HEAD_GRAPHS if g not in manifest.graphs]
        if manifest.heads is None or missing:
            raise ArtifactError(f"{where}: the artifact has no heads ({', '.join(missing) or 'no heads entry'}); "
                                "re-export it with `edgeagent export` (it exports the model's heads)")
        if manifest.tokenizer is None:
            raise ArtifactError(f"{where}: the artifact has no tokenizer.json; re-export from a checkpoint "
                                "folder that has one")
        if not manifest.chat_template:
            raise ArtifactError(f"{where}: the manifest names no chat family (chat_template); re-export from "
                                "a checkpoint folder with a chat template")
        _check_heads(manifest.heads, manifest.vocab_size, where)
        from tokenizers import Tokenizer

        self.manifest = manifest
        self.heads = manifest.heads
        self.max_scaffold_len = self.heads.max_scaffold_len
        self.listing = self.heads.listing
        self.tokenizer = Tokenizer.from_file(str(self.dir / manifest.tokenizer))
        self.family = manifest.chat_template
        if max_len is None:
            max_len = min(manifest.max_positions or DEFAULT_MAX_LEN, DEFAULT_MAX_LEN)
        self.max_len = int(max_len)
        self.trunk = OrtTrunk(self.dir, provider=provider, verify=False, max_len=self.max_len, threads=threads)
        self.providers = self.trunk.providers
        # A batched pass over branch rows reads the weights once but copies the cached past once per
        # row; on the CPU, past this many positions a pass per row is faster.
        self.rows_batch_max_past = ROWS_BATCH_MAX_PAST
        self.sessions = {}
        for name in HEAD_GRAPHS + tuple(g for g in OPTIONAL_GRAPHS if g in manifest.graphs):
            graph = manifest.graphs[name]
            path = self.dir / graph.file
            sess = ort.InferenceSession(str(path), _head_options(name, threads), providers=self.providers)
            check_graph_io(
                graph,
                [(i.name, _ORT_DTYPES.get(i.type, i.type), i.shape) for i in sess.get_inputs()],
                [(o.name, _ORT_DTYPES.get(o.type, o.type), o.shape) for o in sess.get_outputs()],
                where=str(path),
            )
            self.sessions[name] = sess
        self._fill_outputs = [o.name for o in manifest.graphs["slot_filler"].outputs]
        # graph version 1 (no token_rows input) projects every position; its rows are picked here
        self._fill_rows = any(i.name == "token_rows" for i in manifest.graphs["slot_filler"].inputs)
        self.has_select = "select_head" in self.sessions
        if self.has_select:
            check_feature_count(self.sessions["select_head"].get_inputs()[0].shape[-1], str(self.dir))
        # an artifact exported before the gate, or from heads without one: the mode head alone
        self.tool_gate = ToolGate.load(self.dir) if GATE_FILE in manifest.files else None
        self.span_prior = SpanPrior.load(self.dir) if PRIOR_FILE in manifest.files else None

    def new_cache(self) -> KVCache:
        return self.trunk.new_cache()

    def prefill(self, ids, cache: KVCache, all_logits: bool = False):
        logits, hidden = self.trunk.forward(np.asarray(ids, dtype=np.int64), cache, all_logits)
        return (logits if all_logits else logits[-1]), hidden, cache

    def branch(self, ids, cache: KVCache, all_logits: bool = False):
        """Logits of ``ids`` run after the cache's positions; the cache is left as it was. The graph
        returns new arrays, so keeping the old ones is the rewind: no copy of the cache."""
        cache.compact()
        keys, values, length = list(cache.keys), list(cache.values), cache.length
        try:
            logits, _ = self.trunk.forward(np.asarray(ids, dtype=np.int64), cache, all_logits)
        finally:
            cache.keys, cache.values, cache.length = keys, values, length
        return logits if all_logits else logits[-1]

    def branches(self, rows, cache: KVCache, all_logits: bool = False) -> list:
        """``branch`` for each of ``rows``, in one batched pass (OrtTrunk.forward_rows). TensorRT
        builds its engine for one row, so there the rows run one at a time; so do they on the CPU
        past ``rows_batch_max_past`` cached positions."""
        if len(rows) == 1 or self.providers[0] == "TensorrtExecutionProvider" or (
                self.providers[0] == "CPUExecutionProvider" and cache.length > self.rows_batch_max_past):
            return [self.branch(r, cache, all_logits) for r in rows]
        return self.trunk.forward_rows(rows, cache, all_logits)

    def truncate(self, cache: KVCache, length: int) -> KVCache:
        if not 0 <= length <= cache.length:
            raise ValueError(f"cannot truncate a cache of {cache.length} positions to {length}")
        cache.length = length  # the next call passes only positions [0, length) as the past
        return cache

    def _router(self, name: str, state) -> np.ndarray:
        feed = {"state": np.asarray(state, dtype=np.float32).reshape(1, -1)}
        return self.sessions[name].run(["logits"], feed)[0][0]

    def mode_logits(self, state) -> np.ndarray:
        return self._router("mode_head", state)

    def another_logits(self, state) -> np.ndarray:
        return self._router("another_head", state)

    def select_logits(self, features) -> np.ndarray:
        if not self.has_select:
            raise RuntimeError(f"{self.dir}: the artifact has no tool-selection head (select_head.onnx)")
        feed = {"features": np.ascontiguousarray(features, dtype=np.float32)[None]}
        return self.sessions["select_head"].run(["logits"], feed)[0][0]

    def fill_step(self, ids, kinds, slot_pos, ctx, rows=None):
        L = len(ids)
        if L > self.heads.max_scaffold_len:
            raise ValueError(f"the scaffold has {L} positions; the slot filler reads at most "
                             f"{self.heads.max_scaffold_len} (a smaller schema or fewer array items)")
        feed = {
            "ids": np.asarray(ids, dtype=np.int64).reshape(1, L),
            "kinds": np.asarray(kinds, dtype=np.int64).reshape(1, L),
            "slot_pos": np.asarray(slot_pos, dtype=np.int64).reshape(1, L),
            "ctx": np.ascontiguousarray(ctx, dtype=np.float32)[None],
        }
        rows = np.arange(L, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64).reshape(-1)
        if self._fill_rows:
            # never an empty dimension (TensorRT builds no engine profile for one): one row, dropped
            feed["token_rows"] = rows if len(rows) else np.zeros(1, np.int64)
        out = [o[0] for o in self.sessions["slot_filler"].run(self._fill_outputs, feed)]
        out[0] = out[0][:len(rows)] if self._fill_rows else out[0][rows]
        return tuple(out)


def _head_options(name: str, threads: int | None):
    """Session options of a head graph. The heads run between trunk passes, and ORT's worker
    threads spin after each run: on a 2-core CPU a head's spinning pool slowed the next trunk
    prefill by ~20% (0.49 -> 0.60 s for 300 tokens). So head pools do not spin, and the small
    routers (mode, another call, selection: one state in, a few logits out) run on one thread."""
    opts = ort.SessionOptions()
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if name != "slot_filler":
        opts.intra_op_num_threads = 1
    elif threads:
        opts.intra_op_num_threads = threads
    return opts
