"""Dev-split prompts as token ids, for calibration and for measuring quantized trunks.

Only the dev split of the training mix is used (never BFCL: it is the benchmark). Calibration
and evaluation draw from disjoint halves of the dev split, so a calibrated pass is not scored on
the prompts it was calibrated on. Prompts longer than `max_tokens` are skipped (not truncated: a
cut chat template is not a prompt the runtime would ever see), which keeps a CPU measurement short.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PromptSet:
    """`n` prompts from one half of the dev split ("calib" = even indices, "eval" = odd)."""

    part: str = "eval"
    n: int = 50
    max_tokens: int = 256


def dev_prompt_ids(tokenizer_file: str | Path, family: str, spec: PromptSet, mix=None) -> list[list[int]]:
    """Token ids of `spec.n` rendered dev prompts (system + tools + context, generation prompt added).

    Walks the dev split in a fixed stride from a fixed start, so the set is the same on every run.
    `mix` is a prebuilt `edgeagent.data.mix.Mix` (built here when None).
    """
    from tokenizers import Tokenizer

    from edgeagent.formats import render_prompt

    if spec.part not in ("calib", "eval"):
        raise ValueError(f"PromptSet.part must be 'calib' or 'eval', got {spec.part!r}")
    if mix is None:
        from edgeagent.data.mix import build_mix

        mix = build_mix()
    tok = Tokenizer.from_file(str(tokenizer_file))
    half = mix.dev[0::2] if spec.part == "calib" else mix.dev[1::2]
    if not half:
        raise ValueError("the dev split is empty; cannot draw prompts for calibration or measurement")
    # A stride that is coprime with most sizes spreads the picks over datasets and modes.
    stride = 7919
    out, seen = [], set()
    for k in range(len(half)):
        i = (k * stride) % len(half)
        if i in seen:
            break
        seen.add(i)
        ex = half[i]
        text = render_prompt(ex.messages, ex.tools, family)
        ids = tok.encode(text, add_special_tokens=False).ids
        if 0 < len(ids) <= spec.max_tokens:
            out.append(ids)
            if len(out) == spec.n:
                break
    if len(out) < spec.n:
        raise ValueError(f"only {len(out)} dev prompts of at most {spec.max_tokens} tokens in the "
                         f"{spec.part} half; lower n or raise max_tokens")
    return out
