"""The tool-selection head: which of the listed tools the next call uses.

Per listed tool it reads the match features of runtime/select.py (how the request names the
tool, whether this turn already called it) and scores it with a small MLP shared by all tools:
any number of tools, in any order, and only listed names can come out.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edgeagent.runtime.select import FEATURES

from .config import JsonConfig


@dataclass
class SelectConfig(JsonConfig):
    n_features: int = len(FEATURES)
    hidden: int = 32


class SelectHead(nn.Module):
    """features [B, K, F] -> logits [B, K]; the caller masks padded tools."""

    def __init__(self, cfg: SelectConfig):
        super().__init__()
        self.cfg = cfg
        self.net = nn.Sequential(nn.Linear(cfg.n_features, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, 1))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features).squeeze(-1)
