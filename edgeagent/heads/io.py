"""Reading and locating trained heads (float16 safetensors shards + JSON configs)."""

from __future__ import annotations

import json
from pathlib import Path

SHIPPED = Path(__file__).resolve().parents[1] / "weights"


def heads_dir(model: str, heads: str | Path | None = None) -> Path:
    """The heads of ``model``: an explicit dir, else the ones shipped in the package for a known id."""
    if heads is not None:
        path = Path(heads)
    else:
        path = SHIPPED / str(model)
    if not (path / "heads.json").exists():
        shipped = sorted(p.name for p in SHIPPED.glob("*") if (p / "heads.json").exists()) if SHIPPED.exists() else []
        raise FileNotFoundError(
            f"no trained heads at {path} (heads.json missing). Shipped heads exist for: {shipped or 'none'}; "
            "train some with `edgeagent train --model ...` and pass --heads DIR")
    return path


def heads_listing(path: Path) -> str:
    """How the prompts the heads were trained on listed the tools (formats/hermes.py tool_lines):
    heads.json's run_config.listing; "json" for heads trained before prompts could list otherwise."""
    meta = json.loads((Path(path) / "heads.json").read_text())
    return (meta.get("run_config") or {}).get("listing", "json")


def load_heads(path: Path, embedding, device: str = "cpu"):
    """(slot_filler, mode_head, another_head) in eval mode, float32, on ``device``.

    ``embedding`` [V, H] is the trunk's input embedding matrix (the slot filler's tied output).
    """
    from safetensors.torch import load_file

    from .router import Router, RouterConfig
    from .slot_filler import SlotFiller, SlotFillerConfig

    path = Path(path)
    meta = json.loads((path / "heads.json").read_text())
    tensors = {}
    for f in meta["files"]:
        tensors.update(load_file(str(path / f)))
    sf = SlotFiller(SlotFillerConfig.load(path / "slot_filler.json"), embedding)
    mode = Router(RouterConfig.load(path / "mode_head.json"))
    another = Router(RouterConfig.load(path / "another_head.json"))
    for prefix, module in (("slot_filler.", sf), ("mode.", mode), ("another.", another)):
        state = {k[len(prefix):]: v.float() for k, v in tensors.items() if k.startswith(prefix)}
        missing, unexpected = module.load_state_dict(state, strict=False)
        missing = [m for m in missing if m != "embedding"]
        if missing or unexpected:
            raise ValueError(f"{path}: heads do not match their config ({prefix[:-1]}: missing {missing[:5]}, "
                             f"unexpected {unexpected[:5]})")
    return tuple(m.to(device).eval() for m in (sf, mode, another))


def load_router(path: Path, which: str, device: str = "cpu"):
    """One router head of a heads folder, "mode" or "another" (eval mode, float32): no slot
    filler, so no trunk embedding needed."""
    from safetensors.torch import load_file

    from .router import Router, RouterConfig

    if which not in ("mode", "another"):
        raise ValueError(f"expected a router head, mode or another, got {which!r}")
    path = Path(path)
    meta = json.loads((path / "heads.json").read_text())
    head = Router(RouterConfig.load(path / f"{which}_head.json"))
    state = {}
    for f in meta["files"]:
        state.update({k[len(which) + 1:]: v.float() for k, v in load_file(str(path / f)).items()
                      if k.startswith(which + ".")})
    missing, unexpected = head.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"{path}: the {which} head does not match {which}_head.json (missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]})")
    return head.to(device).eval()


SELECT_FILE, SELECT_CONFIG = "select_head.safetensors", "select_head.json"


def has_select_head(path: Path) -> bool:
    return (Path(path) / SELECT_CONFIG).exists()


def load_select_head(path: Path, device: str = "cpu"):
    """The tool-selection head of a heads folder (eval mode, float32), or None if it has none."""
    from safetensors.torch import load_file

    from edgeagent.runtime.select import check_feature_count

    from .select import SelectConfig, SelectHead

    path = Path(path)
    if not has_select_head(path):
        return None
    cfg = SelectConfig.load(path / SELECT_CONFIG)
    check_feature_count(cfg.n_features, str(path))
    head = SelectHead(cfg)
    state = {k: v.float() for k, v in load_file(str(path / SELECT_FILE)).items()}
    missing, unexpected = head.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"{path / SELECT_FILE}: does not match {SELECT_CONFIG} (missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]})")
    return head.to(device).eval()


def save_select_head(out_dir: Path, head, meta: dict) -> None:
    """float16 safetensors + config; ``meta`` (how it was trained, its dev report) goes beside them."""
    import torch
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to(torch.float16).contiguous().cpu() for k, v in head.state_dict().items()}
    tmp = out_dir / (SELECT_FILE + ".tmp")
    save_file(tensors, str(tmp))
    tmp.replace(out_dir / SELECT_FILE)
    head.cfg.save(out_dir / SELECT_CONFIG)
    (out_dir / "select_head_report.json").write_text(json.dumps(meta, indent=2))
