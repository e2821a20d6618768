"""Training the LoRA baseline (b): the trunk learns to write the target turn itself.

Same examples as the heads (tool calls, synthesized negatives, chat and reasoning replay), each
as prompt + target in the trunk's own format; the loss is on the target tokens only. Its first
target token (``<tool_call>`` or prose) is the decision token of arXiv 2412.01130.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np


def lora_sequences(items):
    """[(ids, first target index)] for every prepared item: prompt + target turn."""
    out = []
    for it in items:
        prompt = np.asarray(it.ids[: it.mode_at + 1], dtype=np.int64)
        out.append((np.concatenate([prompt, np.asarray(it.target, dtype=np.int64)]), len(prompt)))
    return out


def train_lora_baseline(trunk, items, run_cfg, out_dir: Path, lr: float = 2e-4, max_tokens_per_batch: int = 16384,
                        progress: bool = True, checkpoint_every: int = 10, micro_tokens: int | None = None) -> dict:
    """Train LoRA adapters on ``items``; writes lora.safetensors + lora.json to ``out_dir``.

    Resumable: every ``checkpoint_every`` batches the adapters, optimizer and schedule go to
    ``out_dir/lora.train.pt``; a run with the same plan (batches) continues from there.
    ``micro_tokens``: padded tokens per forward pass; a batch's gradients accumulate over its
    micro-batches (default: one sequence at a time on the CPU, no padding and no attention mask;
    the whole batch on a GPU). The step is the same either way (tested).
    """
    import torch
    from safetensors.torch import save_file
    from tqdm import tqdm

    from edgeagent.train.lora import LoraConfig, add_lora, lora_state_dict

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(run_cfg.seed)
    cfg = LoraConfig()
    add_lora(trunk, cfg)
    device = run_cfg.device
    trunk.to(device).train()
    params = [p for p in trunk.parameters() if p.requires_grad]
    for p in params:
        p.data = p.data.float()
    seqs = lora_sequences(items)
    rng = np.random.default_rng(run_cfg.seed)
    order = [int(i) for i in rng.permutation(len(seqs))]
    seen_tokens = np.cumsum([len(seqs[i][0]) for i in order])
    order = order[: int(np.searchsorted(seen_tokens, run_cfg.lora_tokens)) + 1]  # up to the token budget
    batches = [[order[j] for j in group] for group in pack([len(seqs[i][0]) for i in order], max_tokens_per_batch)]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    total = len(batches)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 20) * 0.5 * (1 + math.cos(math.pi * s / total)))
    log, t0, seen, first = [], time.time(), 0, 0
    plan = _digest(batches)
    ck = out_dir / "lora.train.pt"
    if ck.exists():
        state = torch.load(ck, map_location=device)
        if state.get("plan") == plan:
            trunk.load_state_dict(state["lora"], strict=False)
            opt.load_state_dict(state["opt"])
            sched.load_state_dict(state["sched"])
            first, seen, log = state["next"], state["seen"], state["log"]
            torch.set_rng_state(state["rng"])  # LoRA dropout continues as if never stopped
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.startswith("cuda") else torch.autocast("cpu", enabled=False)
    if micro_tokens is None:
        micro_tokens = max_tokens_per_batch if device.startswith("cuda") else 1
    bar = tqdm(total=total, initial=first, desc="LoRA baseline", disable=not progress)
    for b in range(first, total):
        opt.zero_grad()
        with autocast:
            loss, n_tokens = batch_loss(trunk, [seqs[i] for i in batches[b]], micro_tokens, device)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        seen += n_tokens
        if b % 10 == 0 or b == total - 1:
            log.append({"step": b, "loss": float(loss), "tokens": seen})
        bar.update(1)
        if (b + 1) % checkpoint_every == 0 and b + 1 < total:
            tmp = ck.with_suffix(".tmp")
            torch.save({"plan": plan, "next": b + 1, "seen": seen, "log": log, "lora": lora_state_dict(trunk),
                        "opt": opt.state_dict(), "sched": sched.state_dict(), "rng": torch.get_rng_state()}, tmp)
            tmp.replace(ck)
    bar.close()
    trunk.eval()
    state = {k: v.to(torch.float16).contiguous() for k, v in lora_state_dict(trunk).items()}
    save_file(state, str(out_dir / "lora.safetensors"))
    cfg.save(out_dir / "lora.json")
    report = {"steps": total, "tokens": seen, "seconds": round(time.time() - t0, 1), "config": asdict(cfg),
              "final_loss": log[-1]["loss"] if log else None}
    (out_dir / "lora_log.json").write_text(json.dumps(log, indent=1))
    ck.unlink(missing_ok=True)
    return report


def batch_loss(trunk, seqs, micro_tokens: int, device) -> tuple[float, int]:
    """Mean next-token loss over the target tokens of ``seqs`` [(ids, first target index)], its
    gradient accumulated into the trainable parameters; (loss, tokens run).

    Forward passes take ``micro_tokens`` padded tokens at most (at least one sequence); the output
    layer runs only where a target token is predicted (a tenth of the positions here).
    """
    import torch
    import torch.nn.functional as F

    decoder, head = trunk.get_decoder(), trunk.get_output_embeddings()
    n_target = sum(len(s) - start for s, start in seqs)
    total, run = 0.0, 0
    for group in ([seqs[j] for j in g] for g in pack([len(s) for s, _ in seqs], micro_tokens)):
        T = max(len(s) for s, _ in group)
        ids = torch.zeros(len(group), T, dtype=torch.long)
        at = torch.zeros(len(group), T, dtype=torch.bool)  # position p predicts token p + 1
        attn = torch.zeros(len(group), T, dtype=torch.long)
        for r, (s, start) in enumerate(group):
            ids[r, : len(s)] = torch.from_numpy(s)
            at[r, start - 1: len(s) - 1] = True
            attn[r, : len(s)] = 1
        labels = torch.roll(ids, -1, dims=1)[at].to(device)
        mask = attn.to(device) if len(group) > 1 else None  # one sequence: no padding, no mask
        hidden = decoder(input_ids=ids.to(device), attention_mask=mask).last_hidden_state
        logits = head(hidden[at.to(device)])
        loss = F.cross_entropy(logits.float(), labels, reduction="sum") / n_target
        loss.backward()
        total += loss.item()
        run += int(attn.sum())
    return total, run


def pack(lengths, max_tokens: int) -> list[list[int]]:
    """Consecutive index groups whose padded size (longest x count) stays within ``max_tokens``
    (a longer sequence still gets a group of its own)."""
    groups, cur, longest = [], [], 0
    for i, n in enumerate(lengths):
        m = max(longest, n)
        if cur and m * (len(cur) + 1) > max_tokens:
            groups.append(cur)
            cur, m = [], n
        cur.append(i)
        longest = m
    return groups + [cur] if cur else groups


def _digest(batches) -> str:
    import hashlib

    return hashlib.sha1(json.dumps(batches).encode()).hexdigest()
