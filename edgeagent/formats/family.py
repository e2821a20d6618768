"""Which chat-template family a checkpoint or tokenizer speaks: "smollm2", "smollm3", "chatml".

Read from files only (config.json, tokenizer_config.json, chat_template.jinja, edgeagent.json),
so the registry and the runtime can ask without loading a tokenizer or torch.
"""

from __future__ import annotations

import json
from pathlib import Path

FAMILIES = ("smollm2", "smollm3", "chatml")
UNKNOWN = "unknown"


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def chat_template_of(checkpoint: str | Path) -> str | None:
    """The chat template stored in a checkpoint folder (chat_template.jinja, then tokenizer_config.json)."""
    folder = Path(checkpoint)
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    template = _read_json(folder / "tokenizer_config.json").get("chat_template")
    if isinstance(template, list):  # named templates: [{"name": "default", "template": ...}, ...]
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default") or next(iter(named.values()), None)
    return template if isinstance(template, str) else None


def family_from(template: str | None, model_type: str | None = None) -> str:
    """Classify a chat template (and the config's model_type) into a family, or "unknown"."""
    template = template or ""
    if model_type == "smollm3" or "xml_tools" in template or "Reasoning Mode" in template:
        return "smollm3"
    if "<|im_start|>" in template:
        return "smollm2" if "SmolLM" in template else "chatml"
    return UNKNOWN


def family_of(source) -> str:
    """The family of a checkpoint folder (str or Path) or of a loaded tokenizer.

    A folder's `edgeagent.json` ("family") wins; otherwise the chat template and config decide.
    Returns "unknown" when nothing matches; rendering then asks for an explicit family.
    """
    if isinstance(source, (str, Path)):
        folder = Path(source).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: not a checkpoint folder")
        meta = _read_json(folder / "edgeagent.json").get("family")
        if meta in FAMILIES:
            return meta
        model_type = _read_json(folder / "config.json").get("model_type")
        return family_from(chat_template_of(folder), model_type)
    template = getattr(source, "chat_template", None)
    if isinstance(template, dict):
        template = template.get("default")
    family = family_from(template if isinstance(template, str) else None)
    if family == UNKNOWN and getattr(source, "name_or_path", None):
        folder = Path(str(source.name_or_path))
        if folder.is_dir():
            return family_of(folder)
    return family
