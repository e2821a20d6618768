"""The router heads on the frozen trunk's last hidden state.

- ``ModeHead``: chat | think | tool, read on the last prompt state (the decision token of
  arXiv 2412.01130 is its tool-vs-not split).
- ``ContinueHead``: after a call's arguments are prefilled, "another call" or "end".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import JsonConfig
from .spec import CONTINUE, MODES  # noqa: F401  (the class names, in logit order)


@dataclass
class RouterConfig(JsonConfig):
    trunk_hidden: int = 576
    hidden: int = 256
    n_classes: int = 3
    dropout: float = 0.1


class Router(nn.Module):
    """state [B, trunk_hidden] -> logits [B, n_classes]. A two-layer MLP on a normed state."""

    def __init__(self, cfg: RouterConfig):
        super().__init__()
        self.cfg = cfg
        self.net = nn.Sequential(
            nn.LayerNorm(cfg.trunk_hidden), nn.Linear(cfg.trunk_hidden, cfg.hidden), nn.GELU(),
            nn.Dropout(cfg.dropout), nn.Linear(cfg.hidden, cfg.n_classes))

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return self.net(state)
