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
                        progress: bool = True, checkpoint_every: int = 25) -> dict:
    """Train LoRA adapters on ``items``; writes lora.safetensors + lora.json to ``out_dir``.

    Resumable: every ``checkpoint_every`` batches the adapters, optimizer and schedule go to
    ``out_dir/lora.train.pt``; a run with the same plan (batches) continues from there.
    """
    import torch
    import torch.nn.functional as F
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
    order = rng.permutation(len(seqs))
    batches, cur, cur_max, budget = [], [], 0, 0
    for i in order:
        n = len(seqs[i][0])
        m = max(cur_max, n)
        if cur and m * (len(cur) + 1) > max_tokens_per_batch:
            batches.append(cur)
            cur, m = [], n
        cur.append(int(i))
        cur_max = m
        budget += n
        if budget >= run_cfg.lora_tokens:
            break
    if cur:
        batches.append(cur)
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
    bar = tqdm(total=total, initial=first, desc="LoRA baseline", disable=not progress)
    for b in range(first, total):
        idx = batches[b]
        T = max(len(seqs[i][0]) for i in idx)
        ids = torch.zeros(len(idx), T, dtype=torch.long)
        labels = torch.full((len(idx), T), -100, dtype=torch.long)
        attn = torch.zeros(len(idx), T, dtype=torch.long)
        for r, i in enumerate(idx):
            s, start = seqs[i]
            ids[r, : len(s)] = torch.from_numpy(s)
            labels[r, start: len(s)] = torch.from_numpy(s[start:])
            attn[r, : len(s)] = 1
        ids, labels, attn = ids.to(device), labels.to(device), attn.to(device)
        with autocast:
            logits = trunk(input_ids=ids, attention_mask=attn).logits
        loss = F.cross_entropy(logits[:, :-1].float().transpose(1, 2), labels[:, 1:], ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        seen += int(attn.sum())
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


def _digest(batches) -> str:
    import hashlib

    return hashlib.sha1(json.dumps(batches).encode()).hexdigest()
