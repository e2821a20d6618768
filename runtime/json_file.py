"""A dataclass kept as one JSON file in a heads folder (the tool gate, the span prior; stdlib only).

The file is written whole or not at all (a temporary file, then a rename), and one that does not
fit the dataclass is an error that names the file and what it should be."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path


def save(obj, folder: str | Path, name: str, indent: int = 2) -> Path:
    """Write dataclass ``obj`` to ``folder``/``name``; returns the path."""
    path = Path(folder) / name
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(asdict(obj), indent=indent))
    tmp.replace(path)
    return path


def load(cls, folder: str | Path, name: str, what: str):
    """The ``cls`` saved in ``folder``/``name``, or None where there is no such file; a ValueError
    naming the file and ``what`` it should be where it does not fit."""
    path = Path(folder) / name
    if not path.exists():
        return None
    try:
        return cls(**json.loads(path.read_text()))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path}: not {what} ({e})") from None
