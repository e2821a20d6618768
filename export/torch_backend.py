"""The PyTorch backend of the routed pipeline: the HF trunk and the heads, on numpy at the edge.

The reference the ONNX Runtime backend is tested against (same interface: runtime/backend.py).
"""

from __future__ import annotations

import numpy as np
import torch

from edgeagent.runtime.gate import ToolGate
from edgeagent.runtime.span_prior import SpanPrior


class TorchTrunk:
    """The trunk half of the backend: new_cache / prefill / truncate / max_len on an HF causal LM."""

    def __init__(self, trunk, device: str = "cpu"):
        self.trunk = trunk.eval()
        self.device = device
        self.max_len = int(getattr(trunk.config, "max_position_embeddings", 2048))

    def new_cache(self):
        from transformers import DynamicCache

        return DynamicCache()

    @torch.inference_mode()
    def prefill(self, ids, cache, all_logits: bool = False):
        t = torch.as_tensor(np.asarray(ids, dtype=np.int64), device=self.device).unsqueeze(0)
        out = self.trunk.model(input_ids=t, past_key_values=cache, use_cache=True)
        h = out.last_hidden_state
        logits = self.trunk.lm_head(h[0] if all_logits else h[0, -1])
        return logits.float().cpu().numpy(), h[0].float().cpu().numpy(), out.past_key_values

    def branch(self, ids, cache, all_logits: bool = False):
        """Logits of ``ids`` run after the cache's positions; the cache is left as it was."""
        length = cache.get_seq_length()
        logits, _, cache = self.prefill(ids, cache, all_logits)
        self.truncate(cache, length)
        return logits

    def branches(self, rows, cache, all_logits: bool = False) -> list:
        """``branch`` for each of ``rows`` (the reference: one pass per row)."""
        return [self.branch(r, cache, all_logits) for r in rows]

    def truncate(self, cache, length: int):
        """Keep positions [0, length) of a DynamicCache."""
        have = cache.get_seq_length()
        if not 0 <= length <= have:
            raise ValueError(f"cannot truncate a cache of {have} positions to {length}")
        if have > length:
            cache.crop(length - have)  # a negative count removes that many tokens in every transformers version
        return cache


class TorchBackend(TorchTrunk):
    """The trunk and the heads: the whole backend protocol."""

    def __init__(self, model: str = "smollm2-135m", heads=None, device: str = "cpu", dtype: str = "fp32",
                 trunk=None, tokenizer=None, family: str | None = None):
        from edgeagent.heads.io import heads_dir, heads_listing, load_heads, load_select_head
        from edgeagent.models.registry import describe, resolve

        if trunk is None:
            from edgeagent.models.load import load_trunk

            trunk, tokenizer = load_trunk(model, dtype=dtype, device=device)
            family = family or describe(resolve(model)).family
        super().__init__(trunk, device)
        self.tokenizer = getattr(tokenizer, "backend_tokenizer", tokenizer)
        self.family = family
        emb = trunk.get_input_embeddings().weight.detach().float()
        folder = heads_dir(model, heads)
        self.slot_filler, self.mode_head, self.another_head = load_heads(folder, emb, device)
        self.select_head = load_select_head(folder, device)
        self.has_select = self.select_head is not None
        self.tool_gate = ToolGate.load(folder)     # None: the mode head alone decides whether to call
        self.span_prior = SpanPrior.load(folder)   # None: SpanRules.word_prior has nothing to add
        self.max_scaffold_len = self.slot_filler.cfg.max_len
        self.listing = heads_listing(folder)   # the prompts' tool listing the heads were trained on

    @torch.inference_mode()
    def mode_logits(self, state):
        return self.mode_head(torch.as_tensor(state, dtype=torch.float32, device=self.device)[None])[0].cpu().numpy()

    @torch.inference_mode()
    def another_logits(self, state):
        return self.another_head(torch.as_tensor(state, dtype=torch.float32, device=self.device)[None])[0].cpu().numpy()

    @torch.inference_mode()
    def select_logits(self, features):
        if self.select_head is None:
            raise RuntimeError("these heads have no tool-selection head (select_head.json)")
        x = torch.as_tensor(np.asarray(features), dtype=torch.float32, device=self.device)[None]
        return self.select_head(x)[0].cpu().numpy()

    @torch.inference_mode()
    def fill_step(self, ids, kinds, slot_pos, ctx, rows=None):
        t = lambda a, dt=torch.long: torch.as_tensor(np.asarray(a), dtype=dt, device=self.device)[None]
        token_rows = None if rows is None else t(rows)[0]
        out = self.slot_filler(t(ids), t(kinds), t(slot_pos), t(ctx, torch.float32), token_rows=token_rows)
        return tuple(o[0].float().cpu().numpy() for o in out)
