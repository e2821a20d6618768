"""The slot filler: a masked-diffusion head over a tool call's scaffold, with a span path.

One forward pass reads the partly filled scaffold (literal tokens, MASK, NULL, committed slot
tokens) with bidirectional self-attention, attends to the frozen trunk's context states, and
returns for every scaffold position

- ``token_logits``  [B, L, V+1]: the next guess of the token there (tied to the trunk's
  embedding matrix; the last column is NULL), for masked-diffusion generation;
- ``action_logits`` [B, L, 3]: read at a slot's first position, the slot's route
  (SPAN: copy characters of the conversation, GEN: generate tokens, NULL: leave it out);
- ``start_logits`` / ``end_logits`` [B, L, T]: read at a slot's first position, where the
  copied span starts and ends among the context tokens.

Why a span path: most argument values are spans of the user's words, and a value tokenized
inside its slot is not the same token sequence as in the sentence (" Tokyo" vs "Tokyo"). The
span is copied as text and re-tokenized by the scaffold compiler, so it is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .config import JsonConfig
from .spec import ACTIONS, KINDS


@dataclass
class SlotFillerConfig(JsonConfig):
    vocab_size: int = 49152      # trunk vocabulary V; NULL = V, MASK = V + 1
    trunk_hidden: int = 576      # width of the trunk's states and embedding matrix
    d_model: int = 576           # tied output: the head's width equals the trunk's
    n_layers: int = 2
    n_heads: int = 8
    ffn: int = 1536
    max_len: int = 512           # longest scaffold
    max_slot_pos: int = 64       # longest slot budget
    dropout: float = 0.1


class Block(nn.Module):
    """Pre-norm: bidirectional self-attention over the scaffold, cross-attention to context, MLP."""

    def __init__(self, cfg: SlotFillerConfig):
        super().__init__()
        d, h = cfg.d_model, cfg.n_heads
        self.n1, self.n2, self.n3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.self_attn = nn.MultiheadAttention(d, h, dropout=cfg.dropout, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(d, h, dropout=cfg.dropout, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, cfg.ffn), nn.GELU(), nn.Linear(cfg.ffn, d))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, ctx, x_pad, ctx_pad):
        # x [B, L, d]; ctx [B, T, d]; x_pad [B, L] / ctx_pad [B, T] True where padding
        h = self.n1(x)
        x = x + self.drop(self.self_attn(h, h, h, key_padding_mask=x_pad, need_weights=False)[0])
        h = self.n2(x)
        x = x + self.drop(self.cross_attn(h, ctx, ctx, key_padding_mask=ctx_pad, need_weights=False)[0])
        return x + self.drop(self.mlp(self.n3(x)))


class SlotFiller(nn.Module):
    """See the module docstring. The trunk's embedding matrix is a frozen buffer (tied output)."""

    def __init__(self, cfg: SlotFillerConfig, embedding: torch.Tensor | None = None):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        if embedding is None:
            embedding = torch.zeros(cfg.vocab_size, cfg.trunk_hidden)
        if tuple(embedding.shape) != (cfg.vocab_size, cfg.trunk_hidden):
            raise ValueError(f"embedding is {tuple(embedding.shape)}, config wants "
                             f"({cfg.vocab_size}, {cfg.trunk_hidden})")
        # not saved with the head: it is the trunk's, loaded from the trunk (113 MB in fp32)
        self.register_buffer("embedding", embedding.detach().float().clone(), persistent=False)
        self.special = nn.Parameter(torch.randn(2, cfg.trunk_hidden) * 0.02)  # NULL, MASK
        self.in_proj = nn.Linear(cfg.trunk_hidden, d)
        self.ctx_proj = nn.Linear(cfg.trunk_hidden, d)
        self.pos = nn.Embedding(cfg.max_len, d)
        self.kind = nn.Embedding(len(KINDS), d)
        self.slot_pos = nn.Embedding(cfg.max_slot_pos, d)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = nn.LayerNorm(d)
        self.out_proj = nn.Linear(d, cfg.trunk_hidden)
        self.null_out = nn.Parameter(torch.zeros(cfg.trunk_hidden))
        self.action = nn.Linear(d, len(ACTIONS))
        self.start_q, self.end_q = nn.Linear(d, d), nn.Linear(d, d)
        self.start_k, self.end_k = nn.Linear(d, d), nn.Linear(d, d)

    def embed_ids(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [B, L] in [0, V+2) -> [B, L, trunk_hidden]: trunk embeddings, learned NULL / MASK."""
        V = self.cfg.vocab_size
        tok = self.embedding[ids.clamp(max=V - 1)]
        special = self.special[(ids - V).clamp(min=0, max=1)]
        return torch.where((ids >= V).unsqueeze(-1), special, tok)

    def forward(self, ids, kinds, slot_pos, ctx, ids_pad=None, ctx_pad=None, token_at=None, token_rows=None):
        """ids/kinds/slot_pos [B, L] int64; ctx [B, T, trunk_hidden]; pads bool (True = padding).

        Returns token_logits [B, L, V+1], action_logits [B, L, 3], start/end_logits [B, L, T].
        ``token_at`` [B, L] bool: token logits only there, as [N, V+1] (training reads the
        masked positions only; the vocabulary projection is most of the head's compute).
        ``token_rows`` [N] int64: token logits only at these positions of every row, as [B, N, V+1]
        (decoding asks for the choice and generated positions only).
        """
        B, L = ids.shape
        positions = torch.arange(L, device=ids.device).unsqueeze(0).expand(B, L)
        x = self.in_proj(self.embed_ids(ids)) + self.pos(positions) + self.kind(kinds) \
            + self.slot_pos(slot_pos.clamp(max=self.cfg.max_slot_pos - 1))
        c = self.ctx_proj(ctx)
        for block in self.blocks:
            x = block(x, c, ids_pad, ctx_pad)
        x = self.norm(x)
        if token_at is not None:
            x_tok = x[token_at]                                                    # [N, H]
        else:
            x_tok = x if token_rows is None else x[:, token_rows]                  # [B, L or N, H]
        out = self.out_proj(x_tok)
        token_logits = torch.cat(
            [out @ self.embedding.T, (out @ self.null_out).unsqueeze(-1)], dim=-1)
        scale = 1.0 / math.sqrt(x.shape[-1])
        start = torch.einsum("bld,btd->blt", self.start_q(x), self.start_k(c)) * scale
        end = torch.einsum("bld,btd->blt", self.end_q(x), self.end_k(c)) * scale
        if ctx_pad is not None:
            neg = torch.finfo(start.dtype).min
            start = start.masked_fill(ctx_pad.unsqueeze(1), neg)
            end = end.masked_fill(ctx_pad.unsqueeze(1), neg)
        return token_logits, self.action(x), start, end

    def trainable_parameters(self):
        return [p for p in self.parameters() if p.requires_grad]


def mdlm_loss(token_logits, targets, masked, t):
    """MDLM objective: cross-entropy on the masked slot positions, weighted 1/t per example.

    token_logits [B, L, V+1], or [N, V+1] at the masked positions only (``token_at=masked``);
    targets [B, L] (gold token or NULL id); masked [B, L] bool; t [B] masking rate of each example.
    """
    w = (masked.float() / t.clamp(min=0.05).unsqueeze(1))
    if token_logits.dim() == 2:
        ce = F.cross_entropy(token_logits, targets[masked].clamp(min=0), reduction="none")
        return (ce * w[masked]).sum() / masked.float().sum().clamp(min=1.0)
    ce = F.cross_entropy(token_logits.transpose(1, 2), targets.clamp(min=0), reduction="none")
    return (ce * w).sum() / masked.float().sum().clamp(min=1.0)
