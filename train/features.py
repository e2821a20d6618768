"""Trunk states, computed once and cached: the heads train on the cache, never on the trunk.

One forward pass of the frozen trunk per prepared sequence; the last-layer (normed) hidden
states of every position are stored as float16 in one flat memory-mapped array
``states.f16`` [total_tokens, hidden] with ``offsets.npy`` [n+1]. A run that stops resumes
from the last completed chunk (``progress.json``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def cache_states(model, sequences: list[np.ndarray], out_dir: Path, device: str = "cpu",
                 max_tokens_per_batch: int = 8192, progress: bool = True, keep_from=None) -> np.memmap:
    """Run ``model`` (an HF causal LM) over ``sequences``; returns the [rows, hidden] memmap.

    ``keep_from[i]``: the first position of sequence i whose state is stored (the heads read
    only the last context window and a few label positions; storing every state of a long tool
    prompt would multiply the cache). The trunk still reads the whole sequence. The saved
    ``offsets.npy`` is shifted so that the state of position p of sequence i is
    ``states[offsets[i] + p]`` for p >= keep_from[i].
    """
    import torch
    from tqdm import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    keep = np.zeros(len(sequences), np.int64) if keep_from is None else np.asarray(keep_from, np.int64)
    rows = lengths - keep
    offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
    np.cumsum(rows, out=offsets[1:])
    hidden = model.config.hidden_size
    meta = {"n": len(sequences), "total": int(offsets[-1]), "hidden": hidden,
            "lengths_sha": _digest(lengths), "keep_sha": _digest(keep)}
    meta_path, prog_path = out_dir / "meta.json", out_dir / "progress.json"
    fresh = not meta_path.exists() or json.loads(meta_path.read_text()) != meta
    mode = "w+" if fresh else "r+"
    states = np.lib.format.open_memmap(out_dir / "states.npy", mode=mode, dtype=np.float16,
                                       shape=(max(int(offsets[-1]), 1), hidden))
    np.save(out_dir / "offsets.npy", offsets[:-1] - keep)
    meta_path.write_text(json.dumps(meta))
    done = 0 if fresh or not prog_path.exists() else json.loads(prog_path.read_text())["done"]

    batches = _batches(lengths, max_tokens_per_batch)

    body = model.model if hasattr(model, "model") else model
    bar = tqdm(total=len(batches), initial=done, desc="trunk states", unit="batch", disable=not progress)
    with torch.inference_mode():
        for b in range(done, len(batches)):
            idx = batches[b]
            T = int(lengths[idx].max())
            ids = torch.zeros(len(idx), T, dtype=torch.long)
            for r, i in enumerate(idx):
                ids[r, : lengths[i]] = torch.from_numpy(np.asarray(sequences[i], dtype=np.int64))
            h = body(input_ids=ids.to(device)).last_hidden_state.float().cpu().numpy()
            for r, i in enumerate(idx):
                states[offsets[i]: offsets[i + 1]] = h[r, keep[i]: lengths[i]].astype(np.float16)
            if b % 20 == 19 or b == len(batches) - 1:
                states.flush()
                prog_path.write_text(json.dumps({"done": b + 1, "complete": b == len(batches) - 1}))
            bar.update(1)
    bar.close()
    return states


def _batches(lengths: np.ndarray, max_tokens: int) -> list[list[int]]:
    """Batches of similar length (sorted), padded on the right; causal attention ignores the pad."""
    order = np.argsort(-lengths, kind="stable")
    batches, cur, cur_max = [], [], 0
    for i in order:
        m = max(cur_max, int(lengths[i]))
        if cur and m * (len(cur) + 1) > max_tokens:
            batches.append(cur)
            cur, m = [], int(lengths[i])
        cur.append(int(i))
        cur_max = m
    if cur:
        batches.append(cur)
    return batches


def complete_states(out_dir: Path, sequences, keep_from) -> tuple[np.memmap, np.ndarray] | None:
    """(states, shifted offsets) of a finished ``cache_states`` run over these very ``sequences`` and
    ``keep_from`` in ``out_dir``, or None (no cache, another set of sequences, or a run that stopped)."""
    out_dir = Path(out_dir)
    try:
        meta = json.loads((out_dir / "meta.json").read_text())
        done = json.loads((out_dir / "progress.json").read_text())
    except (OSError, ValueError):
        return None
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    # a cache written before "complete" was recorded: finished if it did every batch of the CPU's or a GPU's plan
    finished = done.get("complete") or ("complete" not in done and done.get("done") in
                                        {len(_batches(lengths, size)) for size in (8192, 65536)})
    if not finished or meta.get("n") != len(sequences) or meta.get("lengths_sha") != _digest(lengths) \
            or meta.get("keep_sha") != _digest(np.asarray(keep_from, np.int64)):
        return None
    return load_states(out_dir)


def keep_from(item, max_ctx: int) -> int:
    """The first position whose state the heads read: the mode label, each call's last
    ``max_ctx`` context tokens, the another-call labels."""
    first = item.mode_at
    for c in item.calls:
        first = min(first, max(0, c.ctx_end - max_ctx))
    return int(first)


def load_states(out_dir: Path):
    """(states [rows, hidden] float16 memmap, shifted offsets [n]: see cache_states)."""
    out_dir = Path(out_dir)
    return np.load(out_dir / "states.npy", mmap_mode="r"), np.load(out_dir / "offsets.npy")


def _digest(a: np.ndarray) -> str:
    import hashlib

    return hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()
