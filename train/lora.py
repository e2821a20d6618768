"""LoRA on the trunk: the honest AR competitor (baseline b) — same data, same trunk, AR decoding.

A dependency-free LoRA (no peft): selected nn.Linear layers get a trainable low-rank update
W x + (alpha / r) B A x. ``merge_lora`` folds it into the weights for inference and export,
so the merged trunk is an ordinary checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from edgeagent.heads.config import JsonConfig


@dataclass
class LoraConfig(JsonConfig):
    r: int = 16
    alpha: float = 32.0
    dropout: float = 0.05
    targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj",
                                                        "gate_proj", "up_proj", "down_proj"])


class LoraLinear(nn.Module):
    def __init__(self, base: nn.Linear, cfg: LoraConfig):
        super().__init__()
        self.base = base
        self.scale = cfg.alpha / cfg.r
        self.lora_a = nn.Parameter(torch.empty(cfg.r, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, cfg.r))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x):
        a = self.lora_a.to(x.dtype)
        b = self.lora_b.to(x.dtype)
        return self.base(x) + (self.drop(x) @ a.T @ b.T) * self.scale


def add_lora(model: nn.Module, cfg: LoraConfig) -> list[str]:
    """Freeze ``model`` and wrap every Linear whose name ends in one of ``cfg.targets``."""
    for p in model.parameters():
        p.requires_grad_(False)
    wrapped = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.Linear) and child_name in cfg.targets:
                setattr(module, child_name, LoraLinear(child, cfg))
                wrapped.append(f"{name}.{child_name}" if name else child_name)
    if not wrapped:
        raise ValueError(f"no Linear layer named one of {cfg.targets} in the model")
    return wrapped


def lora_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in model.state_dict().items() if ".lora_" in k}


def merge_lora(model: nn.Module, state: dict[str, torch.Tensor], cfg: LoraConfig) -> int:
    """Fold LoRA weights ``state`` (from lora_state_dict) into a plain model's Linear layers."""
    merged = 0
    modules = dict(model.named_modules())
    for key in state:
        if not key.endswith(".lora_a"):
            continue
        prefix = key[: -len(".lora_a")]
        a, b = state[key].float(), state[prefix + ".lora_b"].float()
        target = modules.get(prefix) or modules.get(prefix.replace(".base", ""))
        if target is None:
            raise KeyError(f"LoRA weight {key} names no module of this model")
        if isinstance(target, LoraLinear):
            target = target.base
        with torch.no_grad():
            target.weight += ((b @ a) * (cfg.alpha / cfg.r)).to(target.weight.dtype)
        merged += 1
    return merged


def load_lora_trunk(model: str, lora_dir: Path, dtype: str = "fp32"):
    """(trunk with the LoRA weights of ``lora_dir`` merged, tokenizer); a clear error if none exist."""
    lora_dir = Path(lora_dir)
    if not (lora_dir / "lora.safetensors").exists() or not (lora_dir / "lora.json").exists():
        raise FileNotFoundError(
            f"no trained LoRA weights at {lora_dir} (lora.safetensors and lora.json). Train them with "
            f"`edgeagent train --stage lora --model {model} --out DIR` (they land in DIR/lora) and pass DIR/lora")
    from safetensors.torch import load_file

    from edgeagent.models.load import load_trunk

    trunk, tokenizer = load_trunk(model, dtype=dtype)
    merged = merge_lora(trunk, load_file(str(lora_dir / "lora.safetensors")), LoraConfig.load(lora_dir / "lora.json"))
    if merged == 0:
        raise ValueError(f"{lora_dir / 'lora.safetensors'} holds no LoRA weights (no *.lora_a tensors)")
    return trunk, tokenizer
