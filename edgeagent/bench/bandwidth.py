"""This machine's memory bandwidth and the decode rate it allows.

Decode of one token reads every weight of the trunk once, so a memory-bound decoder cannot beat
    limit tok/s = bandwidth (bytes/s) / weight bytes read per token.
Rule for the weight bytes: the size of the trunk's weight file(s) (trunk.onnx and any external
data, or the GGUF). Nothing is subtracted for the embedding: SmolLM2 ties it to the LM head, which
reads every row each token. KV-cache reads are left out (small at these context lengths).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np


def memory_bandwidth(size_mb: int = 256, repeats: int = 5, threads: int = 1) -> float:
    """Best-of-``repeats`` copy bandwidth in GB/s (bytes read + bytes written) over a ``size_mb`` array.

    ``threads`` > 1 splits the copy into that many chunks copied at once (numpy releases the GIL).
    """
    n = max(1, int(size_mb * 2**20) // 8)
    src = np.ones(n, dtype=np.float64)
    dst = np.empty_like(src)
    np.copyto(dst, src)  # fault the pages in before timing
    bounds = np.linspace(0, n, max(1, threads) + 1).astype(int)
    chunks = [(dst[a:b], src[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    best = float("inf")
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for _ in range(max(1, repeats)):
            t0 = time.perf_counter()
            if len(chunks) == 1:
                np.copyto(*chunks[0])
            else:
                list(pool.map(lambda c: np.copyto(*c), chunks))
            best = min(best, time.perf_counter() - t0)
    return 2 * src.nbytes / max(best, 1e-9) / 1e9


def weight_bytes(path: str | Path) -> int:
    """Bytes of weights read per decoded token: a GGUF's size, or an artifact's trunk graph files."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    from edgeagent.runtime.manifest import load_manifest

    m = load_manifest(path, verify=False)
    trunk = m.graphs["trunk"].file
    stem = Path(trunk).stem
    # the graph file plus external-data files written beside it (trunk.onnx.data, trunk.onnx_data, ...)
    files = {trunk} | {f for f in m.files if f.startswith(stem) and not f.endswith(".json")}
    return sum((path / f).stat().st_size for f in files if (path / f).exists())


def decode_limit(bandwidth_gbs: float, bytes_per_token: int) -> float:
    """The memory-bound ceiling on decode tokens/s."""
    return bandwidth_gbs * 1e9 / bytes_per_token


def bandwidth_share(decode_tok_s: float, bandwidth_gbs: float, bytes_per_token: int) -> float:
    """Measured decode rate as a share of the bandwidth ceiling (1.0 = memory-bound at full speed)."""
    return decode_tok_s / decode_limit(bandwidth_gbs, bytes_per_token)
