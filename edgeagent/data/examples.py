"""Mode labels and training examples: one example per assistant turn (decision point).

Modes (the mode head's classes, DESIGN §1):
- ``tool``: the assistant turn calls one or more tools;
- ``chat``: the assistant answers without a tool. This includes turns of function-calling
  records that ask for a missing slot or answer after a tool result, the natural and
  synthesized negatives (tools offered, none called) and plain chat replay;
- ``think``: reasoning replay (GSM8K step-by-step solutions).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .records import dataset_of
from .split import split_keys

MODES = ("chat", "think", "tool")
THINK_DATASETS = frozenset({"gsm8k"})


def turn_mode(rec: dict, index: int) -> str:
    """Mode of the assistant message ``rec["messages"][index]``."""
    msg = rec["messages"][index]
    if msg.get("role") != "assistant":
        raise ValueError(f"{rec['id']}: messages[{index}] is a {msg.get('role')} turn, not an assistant turn")
    if msg.get("tool_calls"):
        return "tool"
    if dataset_of(rec) in THINK_DATASETS or (rec.get("meta") or {}).get("mode") == "think":
        return "think"
    return "chat"


def record_mode(rec: dict) -> str:
    """``tool`` if any assistant turn calls a tool, else the mode of its last assistant turn."""
    modes = [turn_mode(rec, i) for i, m in enumerate(rec["messages"]) if m["role"] == "assistant"]
    return "tool" if "tool" in modes else modes[-1]


@dataclass
class Example:
    """One decision point: the context up to an assistant turn, the tools, and that turn.

    ``turn`` is the index of ``target`` in the source record's messages; ``augment`` names the
    augmentations that produced the record (empty for an original record).
    """

    record_id: str
    dataset: str
    turn: int
    mode: str
    messages: list[dict]
    tools: list[dict]
    target: dict
    split_keys: list[str]
    augment: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def expand(rec: dict) -> list[Example]:
    """One :class:`Example` per assistant turn of ``rec``.

    Examples share message and tool dicts with ``rec`` (an SGD dialogue would otherwise be copied
    once per turn); treat them as read-only. Derived records whose earlier turns were already emitted by their parent
    (``meta["target_only"]``: negatives, merges) yield only their last turn.
    """
    meta = rec.get("meta") or {}
    msgs = rec["messages"]
    turns = [i for i, m in enumerate(msgs) if m["role"] == "assistant"]
    if meta.get("target_only"):
        turns = turns[-1:]
    keys = split_keys(rec)
    return [
        Example(
            record_id=rec["id"],
            dataset=dataset_of(rec),
            turn=i,
            mode=turn_mode(rec, i),
            messages=msgs[:i],
            tools=list(rec["tools"]),
            target=msgs[i],
            split_keys=keys,
            augment=list(meta.get("augment", [])),
        )
        for i in turns
    ]


def expand_all(records) -> list[Example]:
    return [ex for rec in records for ex in expand(rec)]
