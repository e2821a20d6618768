"""Shared test fixtures: a tiny random trunk with random heads, built once per session."""

import pytest

# Two small tools with every scalar kind, an enum, an array and optional fields.
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]},
                                         "days": {"type": "integer"}, "lat": {"type": "number"},
                                         "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["city", "days", "lat"]}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {
        "type": "object", "properties": {"tz": {"type": "string"}, "exact": {"type": "boolean"}}, "required": ["tz"]}}},
]


def make_tiny_heads(out_dir, trunk, seed: int = 0, n_layers: int = 1, select: bool = False, gate: bool = False):
    """Random slot filler + routers (+ a tool-selection head with ``select``, a tool gate with
    ``gate``) sized for ``trunk``, saved like trained heads; returns out_dir."""
    import torch

    from edgeagent.heads.router import Router, RouterConfig
    from edgeagent.heads.slot_filler import SlotFiller, SlotFillerConfig
    from edgeagent.train.heads_train import save_heads

    V, H = trunk.get_input_embeddings().weight.shape
    torch.manual_seed(seed)
    sf_cfg = SlotFillerConfig(vocab_size=V, trunk_hidden=H, d_model=H, n_layers=n_layers, n_heads=4, ffn=128)
    sf = SlotFiller(sf_cfg, trunk.get_input_embeddings().weight)
    mcfg = RouterConfig(trunk_hidden=H, hidden=32, n_classes=3)
    acfg = RouterConfig(trunk_hidden=H, hidden=32, n_classes=2)
    save_heads(out_dir, sf, sf_cfg, Router(mcfg), mcfg, Router(acfg), acfg, meta={"model": "tiny"})
    if select:
        from edgeagent.heads.io import save_select_head
        from edgeagent.heads.select import SelectConfig, SelectHead

        save_select_head(out_dir, SelectHead(SelectConfig()), meta={"model": "tiny"})
    if gate:
        import numpy as np

        from edgeagent.runtime.gate import GATE_FEATURES, ToolGate

        n = len(GATE_FEATURES)
        w = np.random.default_rng(seed).normal(0, 1, n).tolist()
        ToolGate(weights=w, bias=0.1, mean=[0.0] * n, scale=[1.0] * n).save(out_dir)
    return out_dir


@pytest.fixture(scope="session")
def tiny_backend(tmp_path_factory):
    """A TorchBackend on a tiny random Llama, the tiny byte-level tokenizer and random heads."""
    pytest.importorskip("torch")
    from edgeagent.export.torch_backend import TorchBackend
    from edgeagent.models.tiny import tiny_model
    from edgeagent.scaffold.testing import tiny_tokenizer

    tok = tiny_tokenizer()
    trunk = tiny_model("llama", vocab_size=tok.get_vocab_size(), max_position_embeddings=4096)
    heads = make_tiny_heads(tmp_path_factory.mktemp("heads"), trunk)
    return TorchBackend(model="tiny", heads=heads, trunk=trunk, tokenizer=tok, family="smollm2")
