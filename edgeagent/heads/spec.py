"""Numbers shared by the heads, the data preparation and the runtime (lean: no torch).

A scaffold position has a kind; a slot has a route (action); the router has modes.
"""

KINDS = ("literal", "string", "number", "integer", "choice", "json", "presence")
KIND_IDS = {k: i for i, k in enumerate(KINDS)}


def position_kind(slot_kind: str) -> str:
    """The position kind of a scaffold slot kind ("null" markers read like choices)."""
    return slot_kind if slot_kind in KIND_IDS else "choice"

ACTIONS = ("span", "gen", "null")
ACTION_SPAN, ACTION_GEN, ACTION_NULL = 0, 1, 2

MODES = ("chat", "think", "tool")
MODE_IDS = {m: i for i, m in enumerate(MODES)}
CONTINUE = ("end", "another")
