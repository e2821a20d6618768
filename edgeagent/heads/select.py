"""The tool-selection head: which of the listed tools the next call uses.

It reads the trunk's state after the call header (the query) and, per listed tool, the mean
state over the tool's line in the system prompt and the state at its name's last token (the
keys, located by runtime/select.py). Scores are scaled dot products of a projected query and
projected keys: any number of tools, in any order, and only listed names can come out.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn


@dataclass
class SelectConfig:
    trunk_hidden: int = 576
    d: int = 256
    dropout: float = 0.1

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> "SelectConfig":
        return cls(**json.loads(Path(path).read_text()))


class SelectHead(nn.Module):
    """(query [B, H], keys [B, K, 2H]) -> logits [B, K]; the caller masks padded tools."""

    def __init__(self, cfg: SelectConfig):
        super().__init__()
        self.cfg = cfg
        H, d = cfg.trunk_hidden, cfg.d
        self.q = nn.Sequential(nn.LayerNorm(H), nn.Linear(H, d), nn.GELU(), nn.Dropout(cfg.dropout), nn.Linear(d, d))
        self.k = nn.Sequential(nn.LayerNorm(2 * H), nn.Linear(2 * H, d), nn.GELU(), nn.Dropout(cfg.dropout),
                               nn.Linear(d, d))
        self.scale = d ** -0.5

    def forward(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bd,bkd->bk", self.q(query), self.k(keys)) * self.scale
