"""The train/dev split. This file is the only place the dev set is defined.

A record's side depends only on a stable hash (sha1) of its *split key*, never on which other
records or files are loaded, so adding data never moves a record between train and dev.

The split key is the record id, except:
- SGD: the dialogue id. ``sgd_train_3_00057`` (a dialogue) and ``sgd_irrel_3_00057`` (the
  negative built from that dialogue's opening request) share ``sgd-dialogue:3_00057``, so a
  dialogue never leaks across the split through its derived negative.
- Derived records (negatives, merges, augmentations) carry their parents' keys in
  ``meta["split_keys"]``; a record with several parents is dev if any parent is dev.
"""

from __future__ import annotations

import hashlib
import re

DEV_FRACTION = 0.05

_SGD_ID = re.compile(r"^sgd_(?:train|dev|test|irrel)_(\d+_\d+)$")


def split_keys(rec: dict) -> list[str]:
    """The keys that decide ``rec``'s side of the split (one for a source record)."""
    keys = (rec.get("meta") or {}).get("split_keys")
    if keys:
        return list(keys)
    rid = rec["id"]
    m = _SGD_ID.match(rid)
    if m:
        return [f"sgd-dialogue:{m.group(1)}"]
    return [rid]


def key_fraction(key: str) -> float:
    """A uniform number in [0, 1) from the sha1 of ``key``; stable across runs and machines."""
    digest = hashlib.sha1(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def split_of(rec: dict, dev_fraction: float = DEV_FRACTION) -> str:
    """``"dev"`` or ``"train"``."""
    return "dev" if any(key_fraction(k) < dev_fraction for k in split_keys(rec)) else "train"


def split_records(records, dev_fraction: float = DEV_FRACTION) -> tuple[list[dict], list[dict]]:
    """``(train, dev)``; order within each side follows ``records``."""
    train, dev = [], []
    for rec in records:
        (dev if split_of(rec, dev_fraction) == "dev" else train).append(rec)
    return train, dev
