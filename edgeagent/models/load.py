"""Load a trunk (frozen causal LM + tokenizer) from local files only.

`HF_HUB_OFFLINE=1` and `local_files_only=True`: loading never reaches the network, whatever the
name. A model id resolves through the registry; any local Hugging Face checkpoint folder of a
causal LM (SmolLM3 first) loads by path.
"""

from __future__ import annotations

import os

from edgeagent.models.registry import DEFAULT_MODEL, resolve

_DTYPES = ("float32", "bfloat16", "float16", "auto")


def torch_dtype(dtype):
    """A torch dtype from a name ("float32", "bf16", …) or a torch.dtype; "auto" = the checkpoint's."""
    import torch

    if isinstance(dtype, torch.dtype) or dtype == "auto":
        return dtype
    aliases = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16", "half": "float16"}
    name = aliases.get(dtype, dtype)
    if name not in _DTYPES:
        raise ValueError(f"dtype: expected one of {list(_DTYPES)} (or fp32/bf16/fp16), got {dtype!r}")
    return getattr(torch, name)


def load_tokenizer(model=DEFAULT_MODEL):
    """The tokenizer of a model id or checkpoint folder, from local files only."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve(model), local_files_only=True)


def load_trunk(model=DEFAULT_MODEL, dtype="float32", device="cpu"):
    """(model, tokenizer) of a trunk: frozen (no grad), in eval mode, on `device`.

    model: a known id (see `edgeagent models`) or a local checkpoint folder.
    dtype: "float32" (default, the reference), "bfloat16", "float16", "auto" or a torch.dtype.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve(model)
    lm = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype(dtype), local_files_only=True)
    lm.requires_grad_(False)
    lm.eval().to(device)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    return lm, tokenizer
