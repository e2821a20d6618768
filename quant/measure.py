"""Measure a (quantized) trunk artifact against its fp32 reference.

Greedy-token agreement, precisely: for each prompt p, the fp32 trunk decodes g = g_1..g_N greedily
(N new tokens, no stop tokens). The candidate then runs one prefill over p + g_1..g_{N-1} (teacher
forcing of the fp32 sequence) and predicts, at each of the N positions, the argmax of its logits.
agreement = (number of positions i with argmax_i == g_i) / (prompts × N). Teacher forcing scores
every position on the same context, so one early flip does not drag down the rest of a sequence;
`sequences_exact` (share of prompts whose N predictions all agree) is reported beside it.

Decode tokens/s: after a prefill of the first prompt, the wall time of `decode_tokens` single-token
decode calls (ORT CPU, the runtime's own OrtTrunk), best of `repeats` runs (fewer when one run
already took `budget_s`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


@dataclass
class Reference:
    """fp32 greedy continuations: tokens[k] are the N greedy tokens after prompts[k]."""

    prompts: list[list[int]]
    tokens: list[list[int]]


@dataclass
class Measurement:
    size_mb: float  # the trunk graph's files (graph + external weights), 1e6 bytes
    agreement: float  # see module docstring
    positions: int  # prompts × new tokens scored
    sequences_exact: float
    decode_tok_s: float
    mean_abs_logit_diff: float  # over scored positions, against the fp32 logits

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}


def open_trunk(artifact_dir: str | Path, threads: int | None = None, verify: bool = True):
    """The runtime's OrtTrunk on the CPU (FP8 graphs run unfused there: see OrtTrunk)."""
    from edgeagent.runtime.ort_trunk import OrtTrunk

    return OrtTrunk(artifact_dir, provider="cpu", verify=verify, threads=threads, max_len=4096)


def reference(trunk, prompts: list[list[int]], new_tokens: int = 16) -> Reference:
    """Greedy fp32 continuations of `new_tokens` tokens per prompt (stop tokens ignored)."""
    from edgeagent.runtime.ort_trunk import greedy

    tokens = [list(greedy(trunk, p, new_tokens, cache=trunk.new_cache(len(p) + new_tokens))) for p in prompts]
    return Reference(prompts=[list(p) for p in prompts], tokens=tokens)


def teacher_forced_logits(trunk, ref: Reference) -> list[np.ndarray]:
    """Per prompt, logits [N, V] at the N positions that predict ref.tokens, in one prefill each."""
    out = []
    for p, g in zip(ref.prompts, ref.tokens):
        seq = list(p) + list(g[:-1])
        logits, _, _ = trunk.prefill(seq, cache=trunk.new_cache(len(seq)), all_logits=True)
        out.append(logits[len(p) - 1:])  # row len(p)-1+i predicts g[i]
    return out


def agreement(candidate_logits: list[np.ndarray], ref: Reference,
              ref_logits: list[np.ndarray] | None = None) -> tuple[float, int, float, float]:
    """(agreement, positions, sequences_exact, mean |logit diff|) of teacher-forced logits vs `ref`."""
    hits = total = exact = 0
    diffs = []
    for k, (logits, g) in enumerate(zip(candidate_logits, ref.tokens)):
        pred = logits.argmax(-1)
        same = pred == np.asarray(g)
        hits += int(same.sum())
        total += len(g)
        exact += int(same.all())
        if ref_logits is not None:
            diffs.append(float(np.abs(logits - ref_logits[k]).mean()))
    return hits / total, total, exact / len(ref.tokens), float(np.mean(diffs)) if diffs else float("nan")


def decode_speed(trunk, prompt: list[int], decode_tokens: int = 32, repeats: int = 2,
                 budget_s: float | None = 10.0) -> float:
    """Single-token decode calls per second after a prefill of `prompt` (best of `repeats`).

    A slow candidate is not timed for long: a run stops after `budget_s` seconds (at least 4 calls)
    and no further repeat starts (32 calls at 0.5 tok/s would be a minute)."""
    best = float("inf")
    spent = 0.0
    for _ in range(repeats):
        if budget_s is not None and spent >= budget_s:
            break
        cache = trunk.new_cache(len(prompt) + decode_tokens + 1)
        logits, _, cache = trunk.prefill(prompt, cache)
        token = int(np.argmax(logits))
        t0 = time.perf_counter()
        done = 0
        while done < decode_tokens:
            logits, _, cache = trunk.decode(token, cache)
            token = int(np.argmax(logits))
            done += 1
            if budget_s is not None and done >= 4 and time.perf_counter() - t0 >= budget_s:
                break  # slow enough to tell already
        took = time.perf_counter() - t0
        spent += took
        best = min(best, took / done)
    return 1.0 / best


def graph_size_mb(artifact_dir: str | Path) -> float:
    """Bytes of the trunk graph and its external weights file, if any, in MB (1e6)."""
    from edgeagent.runtime.manifest import read_manifest

    folder = Path(artifact_dir)
    trunk = folder / read_manifest(folder).graphs["trunk"].file
    data = trunk.with_name(trunk.name + ".data")
    return (trunk.stat().st_size + (data.stat().st_size if data.is_file() else 0)) / 1e6


def measure(artifact_dir: str | Path, ref: Reference, ref_logits: list[np.ndarray] | None = None,
            threads: int | None = None, decode_tokens: int = 32) -> Measurement:
    """Size, agreement against `ref` and decode speed of one artifact's trunk."""
    trunk = open_trunk(artifact_dir, threads=threads)
    logits = teacher_forced_logits(trunk, ref)
    agree, positions, exact, diff = agreement(logits, ref, ref_logits)
    speed = decode_speed(trunk, ref.prompts[0], decode_tokens)
    return Measurement(size_mb=graph_size_mb(artifact_dir), agreement=agree, positions=positions,
                       sequences_exact=exact, decode_tok_s=speed, mean_abs_logit_diff=diff)
