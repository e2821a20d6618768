"""Training the heads on cached trunk states: router (mode, another-call) and slot filler.

Deterministic with a seed; progress bars; a JSON log of loss curves; checkpoints are
safetensors plus the JSON config, written atomically after every epoch so a stopped run
resumes from the last one.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from edgeagent.heads.router import Router, RouterConfig
from edgeagent.heads.slot_filler import SlotFiller, SlotFillerConfig, mdlm_loss
from edgeagent.heads.spec import ACTION_SPAN


@dataclass
class TrainConfig:
    seed: int = 0
    epochs: int = 4
    batch_size: int = 32
    lr: float = 3e-4
    weight_decay: float = 0.01
    max_ctx: int = 1024          # the slot filler sees at most the last max_ctx context tokens
    full_mask_rate: float = 0.5  # share of examples with every slot masked (as at step 1 of inference)
    router_epochs: int = 20
    router_lr: float = 1e-3
    device: str = "cpu"


def _seed(seed: int):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def router_data(items, states, offsets):
    """(mode states, mode labels, continue states, continue labels) as float32 arrays."""
    ms, ml, cs, cl = [], [], [], []
    for n, it in enumerate(items):
        base = int(offsets[n])
        ms.append(states[base + it.mode_at])
        ml.append(it.mode)
        for c in it.calls:
            cs.append(states[base + c.end])
            cl.append(c.another)
    f = lambda a: np.asarray(a, dtype=np.float32)
    return f(ms), np.asarray(ml), f(cs).reshape(-1, states.shape[1]), np.asarray(cl)


def train_router(x, y, n_classes, cfg: TrainConfig, log, name, class_weights=True, init=None):
    """A router on states ``x`` and labels ``y``; ``init`` (a Router) continues from its weights."""
    _seed(cfg.seed)
    rcfg = init.cfg if init is not None else RouterConfig(trunk_hidden=x.shape[1], n_classes=n_classes)
    model = Router(rcfg).to(cfg.device)
    if init is not None:
        model.load_state_dict(init.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.router_lr, weight_decay=cfg.weight_decay)
    X, Y = torch.from_numpy(x).to(cfg.device), torch.from_numpy(y).long().to(cfg.device)
    counts = torch.bincount(Y, minlength=n_classes).float().clamp(min=1)
    w = (counts.sum() / counts / n_classes) if class_weights else None
    g = torch.Generator().manual_seed(cfg.seed)
    for ep in range(cfg.router_epochs):
        model.train()
        perm = torch.randperm(len(X), generator=g)
        total = 0.0
        for i in range(0, len(X), 256):
            b = perm[i: i + 256]
            loss = F.cross_entropy(model(X[b]), Y[b], weight=w)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(b)
        log.append({"head": name, "epoch": ep, "loss": total / max(len(X), 1)})
    return model.eval(), rcfg


class CallBatcher:
    """Pads slot-filler examples (one per call) into batches and draws the MDLM noise."""

    def __init__(self, items, states, offsets, max_ctx, mask_id, null_id, device="cpu"):
        self.calls = [(n, k) for n, it in enumerate(items) for k in range(len(it.calls))]
        self.items, self.states, self.offsets = items, states, offsets
        self.max_ctx, self.mask_id, self.null_id = max_ctx, mask_id, null_id
        # On a GPU with room for the whole cache, keep it there and gather contexts on the device
        # (reading them from the memory map batch by batch made GPU training CPU-bound).
        self.states_t = None
        if str(device).startswith("cuda"):
            free, _ = torch.cuda.mem_get_info(torch.device(device))
            if states.nbytes < 0.6 * free:
                self.states_t = torch.from_numpy(np.ascontiguousarray(states)).to(device)

    def __len__(self):
        return len(self.calls)

    def batch(self, which, rng: np.random.Generator, full_mask_rate: float, device):
        B = len(which)
        cl = [self.items[n].calls[k] for n, k in which]
        L = max(len(c.ids) for c in cl)
        T = max(min(c.ctx_end, self.max_ctx) for c in cl)
        H = self.states.shape[1]
        ids = np.full((B, L), self.null_id, np.int64)
        gold = np.full((B, L), -100, np.int64)
        kinds = np.zeros((B, L), np.int64)
        spos = np.zeros((B, L), np.int64)
        ipad = np.ones((B, L), bool)
        masked = np.zeros((B, L), bool)
        rows = np.zeros((B, T), np.int64)        # cache row of each context position
        cpad = np.ones((B, T), bool)
        t = np.ones(B, np.float32)
        first = np.zeros((B, L), bool)            # slot first positions carrying route labels
        action = np.full((B, L), -100, np.int64)
        sstart = np.full((B, L), -100, np.int64)
        send = np.full((B, L), -100, np.int64)
        for r, ((n, _), c) in enumerate(zip(which, cl)):
            l = len(c.ids)
            full = rng.random() < full_mask_rate
            t[r] = 1.0 if full else rng.uniform(0.02, 1.0)
            m = c.is_slot & (rng.random(l) < t[r])
            if c.is_slot.any() and not m.any():
                m[rng.choice(np.flatnonzero(c.is_slot))] = True
            ids[r, :l] = np.where(m, self.mask_id, c.ids)
            gold[r, :l] = c.ids
            kinds[r, :l], spos[r, :l], ipad[r, :l], masked[r, :l] = c.kinds, c.slot_pos, False, m
            lo = max(0, c.ctx_end - self.max_ctx)
            base = int(self.offsets[n])
            rows[r, : c.ctx_end - lo] = np.arange(base + lo, base + c.ctx_end)
            cpad[r, : c.ctx_end - lo] = False
            # route labels only where the whole slot is masked, as at the first inference step
            bounds = list(c.slot_first) + [l]
            for s, f in enumerate(c.slot_first):
                end = next((b for b in bounds if b > f), l)
                slot_positions = np.flatnonzero(c.is_slot[f:end]) + f
                if not m[slot_positions].all():
                    continue
                first[r, f] = True
                act = int(c.action[s])
                a0, a1 = int(c.span[s, 0]) - lo, int(c.span[s, 1]) - lo
                if act == ACTION_SPAN and (a0 < 0 or a1 < 0):
                    act = 1  # the span fell outside the context window: generate instead
                action[r, f] = act
                if act == ACTION_SPAN:
                    sstart[r, f], send[r, f] = a0, a1
        tt = lambda a: torch.from_numpy(a).to(device)
        if self.states_t is not None:
            ctx = self.states_t[tt(rows)].float().masked_fill(tt(cpad).unsqueeze(-1), 0.0)
        else:
            ctx = torch.from_numpy(np.where(cpad[..., None], 0, self.states[rows.ravel()].reshape(B, T, H))
                                   .astype(np.float32)).to(device)
        return dict(ids=tt(ids), gold=tt(gold), kinds=tt(kinds), spos=tt(spos), ipad=tt(ipad),
                    masked=tt(masked), ctx=ctx, cpad=tt(cpad), t=tt(t), action=tt(action),
                    sstart=tt(sstart), send=tt(send))


def slot_filler_loss(model, b):
    """MDLM loss on masked slot positions + route (span|gen|null) + span start/end, as a sum."""
    tok, act, start, end = model(b["ids"], b["kinds"], b["spos"], b["ctx"], b["ipad"], b["cpad"], token_at=b["masked"])
    gen = mdlm_loss(tok, b["gold"], b["masked"], b["t"])
    route = F.cross_entropy(act.transpose(1, 2), b["action"], ignore_index=-100)
    has_span = (b["sstart"] >= 0).any()
    span = (F.cross_entropy(start.transpose(1, 2), b["sstart"], ignore_index=-100)
            + F.cross_entropy(end.transpose(1, 2), b["send"], ignore_index=-100)) if has_span else tok.new_zeros(())
    if not torch.isfinite(route):
        route = tok.new_zeros(())
    return gen + route + span, {"gen": float(gen), "route": float(route), "span": float(span)}


def train_slot_filler(items, states, offsets, embedding, cfg: TrainConfig, sf_cfg: SlotFillerConfig,
                      mask_id, null_id, log, out_dir: Path | None = None, progress=True, init=None):
    """Train the slot filler. Runs under ``accelerate`` so that ``accelerate launch`` spreads it over
    several GPUs (each process takes every n-th batch; gradients are averaged); a plain call is
    one process on ``cfg.device``. ``init`` (a SlotFiller) continues from its weights."""
    from accelerate import Accelerator, DistributedDataParallelKwargs
    from tqdm import tqdm

    _seed(cfg.seed)
    # some parameters get no gradient in a batch (e.g. the span scorers when no slot copies)
    acc = Accelerator(cpu=not str(cfg.device).startswith("cuda"),
                      kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])
    device = acc.device if acc.num_processes > 1 else torch.device(cfg.device)
    batcher = CallBatcher(items, states, offsets, cfg.max_ctx, mask_id, null_id, str(device))
    model = SlotFiller(sf_cfg, embedding).to(device)
    if init is not None:
        model.load_state_dict(init.state_dict(), strict=False)
    opt = torch.optim.AdamW(model.trainable_parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    per_epoch = math.ceil(len(batcher) / (cfg.batch_size * acc.num_processes))
    steps = max(1, per_epoch * cfg.epochs)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 50) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    start_epoch = 0
    ck = out_dir / "slot_filler.train.pt" if out_dir else None
    if ck and ck.exists():
        state = torch.load(ck, map_location=device)
        if state.get("steps") == steps:
            model.load_state_dict(state["model"], strict=False)
            opt.load_state_dict(state["opt"])
            sched.load_state_dict(state["sched"])
            start_epoch = state["epoch"] + 1
            log.extend(state.get("log", []))
    model, opt = acc.prepare(model, opt)
    rng = np.random.default_rng(cfg.seed + 1000 * acc.process_index)
    for ep in range(start_epoch, cfg.epochs):
        model.train()
        order = np.random.default_rng(cfg.seed + ep).permutation(len(batcher))
        starts = list(range(0, len(order), cfg.batch_size))[acc.process_index::acc.num_processes][:per_epoch]
        bar = tqdm(starts, desc=f"slot filler epoch {ep + 1}/{cfg.epochs}",
                   disable=not progress or not acc.is_main_process)
        parts_sum, nb = {}, 0
        for i in bar:
            b = batcher.batch([batcher.calls[j] for j in order[i: i + cfg.batch_size]], rng,
                              cfg.full_mask_rate, device)
            loss, parts = slot_filler_loss(model, b)
            opt.zero_grad()
            acc.backward(loss)
            acc.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            nb += 1
            for k, v in parts.items():
                parts_sum[k] = parts_sum.get(k, 0.0) + v
            bar.set_postfix(loss=f"{float(loss):.3f}")
        log.append({"head": "slot_filler", "epoch": ep, **{k: v / max(nb, 1) for k, v in parts_sum.items()}})
        if ck and acc.is_main_process:
            tmp = ck.with_suffix(".tmp")
            torch.save({"model": acc.unwrap_model(model).state_dict(), "opt": opt.state_dict(),
                        "sched": sched.state_dict(), "epoch": ep, "steps": steps, "log": log}, tmp)
            tmp.replace(ck)
        acc.wait_for_everyone()
    return acc.unwrap_model(model).eval()


def save_heads(out_dir: Path, slot_filler, sf_cfg, mode_head, mode_cfg, cont_head, cont_cfg, meta: dict,
               shard_bytes: int = 15 * 2**20):
    """Write the shipped heads: float16 safetensors (sharded under ``shard_bytes``) + JSON configs."""
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for prefix, m in (("slot_filler.", slot_filler), ("mode.", mode_head), ("another.", cont_head)):
        for k, v in m.state_dict().items():
            tensors[prefix + k] = v.detach().to(torch.float16).contiguous().cpu()
    shards, cur, size = [], {}, 0
    for k in sorted(tensors):
        n = tensors[k].numel() * 2
        if cur and size + n > shard_bytes:
            shards.append(cur)
            cur, size = {}, 0
        cur[k], size = tensors[k], size + n
    shards.append(cur)
    for old in out_dir.glob("heads-*.safetensors"):
        old.unlink()
    files = []
    for i, sh in enumerate(shards):
        name = f"heads-{i:02d}.safetensors"
        save_file(sh, str(out_dir / name))
        files.append(name)
    sf_cfg.save(out_dir / "slot_filler.json")
    mode_cfg.save(out_dir / "mode_head.json")
    cont_cfg.save(out_dir / "another_head.json")
    (out_dir / "heads.json").write_text(json.dumps({"files": files, **meta}, indent=2))
    return files
