"""Saving a head's (or an adapter's) dataclass config as JSON beside its weights."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path


class JsonConfig:
    """``save`` / ``load`` for a dataclass config: indented JSON, every field by name."""

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path):
        return cls(**json.loads(Path(path).read_text()))
