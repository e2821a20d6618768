"""The tool gate: whether a first request that lists tools gets a call (no torch).

The mode head reads one state, the trunk's last prompt token, and on prompts unlike its training
data it often answers a plain request for a listed tool in prose ("Book a table for 4 at Chez
Panisse at 7 pm." with book_table listed: chat), or calls a tool the request has nothing to do
with. For a conversation's first request (one user message; a system prompt aside) the gate
weighs the mode head's vote with how the request matches the listed tools, the selection head's
match features (runtime/select.py):

    tool_margin      the mode head's tool logit minus the best of chat and think
    best_<feature>   per match feature, its best value over the listed tools (the highest
                     cover; the earliest mention)

a logistic regression, trained on the first requests of the heads' training split with the mode
head's logits on them (edgeagent/train/gate.py, ``edgeagent train --stage gate``), saved beside
the heads as ``tool_gate.json``. Below ``threshold`` the answer takes the better of chat and
think. Later turns of a dialog stay with the mode head: whether to book now or ask for the time
first is the dialog's state, not word overlap. Chosen on the dev split (the mode head's training
mix; prepared dev items that list tools, gate trained on l2 = 1 without class weights):

    first requests (81 calls, 13 prose)   mode head 97.5% / 69.2% right, the gate 95.1% / 92.3%
    dialog turns (35 calls, 5 prose)      mode head 94.3% / 100%; a gate trained on them 97.1% /
                                          80.0%, one trained on every item 88.6% / 100%

The shipped gate is refitted on the gpu-lists mix, at most 50 first requests of each kind, so that
SGD's calls weigh as much as its prose turns ("A gate that has seen SGD's first requests" in
docs/decoding-rules.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeagent.heads.spec import MODES

from . import json_file
from .select import MATCH_FEATURES, Turn

GATE_FILE = "tool_gate.json"
LOWER_IS_BETTER = ("mention", "desc_mention")     # positions: the earliest mention is the best
GATE_FEATURES = ("tool_margin",) + tuple(f"best_{f}" for f in MATCH_FEATURES)
TOOL, CHAT, THINK = MODES.index("tool"), MODES.index("chat"), MODES.index("think")

def first_request(turns: list[Turn]) -> bool:
    """Whether a conversation (runtime/select.message_turns) is one user message: where the gate
    decides."""
    return [role for role, _, _ in turns if role != "system"] == ["user"]


def gate_features(mode_logits, match: np.ndarray) -> np.ndarray:
    """[len(GATE_FEATURES)] from the mode head's [3] logits and the match features [K, N_MATCH] of
    K >= 1 listed tools."""
    logits = np.asarray(mode_logits, np.float64)
    margin = logits[TOOL] - max(logits[CHAT], logits[THINK])
    match = np.asarray(match, np.float64)
    lower = [MATCH_FEATURES.index(f) for f in LOWER_IS_BETTER]
    best = match.max(0)
    best[lower] = match[:, lower].min(0)
    return np.concatenate([[margin], best])


@dataclass
class ToolGate:
    """p(call) = sigmoid(weights . (features - mean) / scale + bias); a call where p >= threshold."""

    weights: list[float]
    bias: float
    mean: list[float]
    scale: list[float]
    threshold: float = 0.5
    features: list[str] = field(default_factory=lambda: list(GATE_FEATURES))
    report: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.features)
        if list(self.features) != list(GATE_FEATURES):
            raise ValueError(f"the tool gate reads {self.features}; this runtime computes {list(GATE_FEATURES)}: "
                             "retrain it (edgeagent train --stage gate)")
        for key in ("weights", "mean", "scale"):
            if len(getattr(self, key)) != n:
                raise ValueError(f"tool gate: {key} has {len(getattr(self, key))} entries, not {n}")

    def prob(self, features: np.ndarray) -> float:
        z = (np.asarray(features, np.float64) - self.mean) / self.scale
        return float(1.0 / (1.0 + np.exp(-(z @ np.asarray(self.weights) + self.bias))))

    def calls(self, mode_logits, match: np.ndarray, threshold: float | None = None) -> bool:
        """Whether p(call) reaches ``threshold`` (None: the gate's own)."""
        return self.prob(gate_features(mode_logits, match)) >= (self.threshold if threshold is None else threshold)

    def save(self, folder: str | Path) -> Path:
        return json_file.save(self, folder, GATE_FILE, indent=2)

    @classmethod
    def load(cls, folder: str | Path) -> ToolGate | None:
        """The gate saved in ``folder``, or None if it has none."""
        return json_file.load(cls, folder, GATE_FILE, "a tool gate")
