"""Export the frozen trunk (a Hugging Face causal LM) to one ONNX graph with an explicit KV cache.

One graph serves prefill and decode: prefill passes an empty past (past_seq = 0) and the whole
prompt; decode passes the cache and one token. The contract (see `trunk_io_spec`):

    inputs   input_ids                    int64   [batch, seq]
             position_ids                 int64   [batch, seq]   absolute positions (RoPE)
             logits_index                 int64   [n_logits]     which of the seq positions get logits
             past_key_values.%d.key       float32 [batch, kv_heads, past_seq, head_dim]
             past_key_values.%d.value     float32 [batch, kv_heads, past_seq, head_dim]
    outputs  logits                       float32 [batch, n_logits, vocab]
             hidden_states                float32 [batch, seq, hidden]   last layer, after the final norm
             present.%d.key               float32 [batch, kv_heads, past_seq + seq, head_dim]
             present.%d.value             float32 [batch, kv_heads, past_seq + seq, head_dim]

Why logits_index: the LM head is a quarter of a 135M trunk's prefill FLOPs when every position
gets logits; a prompt needs only its last ([seq - 1]), a teacher-forced score all (0..seq-1).

Why position_ids and no attention_mask: the causal mask is derived from the shapes (query i sits
at cache slot past_seq + i), so every row of a batch must be unpadded and of equal length. The
runtime decodes one sequence at a time, so this costs nothing today and keeps the graph free of
mask plumbing; position_ids still let a caller place tokens at any absolute position.

`TrunkGraph` is the PyTorch side: a pure module over the HF model's own submodules (weights are
shared, nothing is copied) that takes and returns plain tensors. It reimplements only the
attention block (explicit past tensors instead of the HF Cache object, GQA by broadcasting
instead of repeat_kv); projections, norms, MLP and rotary tables are the HF modules themselves.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

KEY_NAME = "past_key_values.%d.key"
VALUE_NAME = "past_key_values.%d.value"
PRESENT_KEY_NAME = "present.%d.key"
PRESENT_VALUE_NAME = "present.%d.value"

SUPPORTED_MODEL_TYPES = ("llama", "smollm3")


@dataclass(frozen=True)
class TrunkShape:
    """The dimensions of the trunk that the graph contract and the KV cache depend on."""

    num_layers: int
    num_heads: int
    kv_heads: int
    head_dim: int
    hidden: int
    vocab: int

    @classmethod
    def from_config(cls, config) -> "TrunkShape":
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        return cls(
            num_layers=config.num_hidden_layers, num_heads=config.num_attention_heads,
            kv_heads=config.num_key_value_heads, head_dim=head_dim,
            hidden=config.hidden_size, vocab=config.vocab_size,
        )


def trunk_io_spec(shape: TrunkShape) -> tuple[list[dict], list[dict]]:
    """Input and output specs of the trunk graph: [{"name", "dtype", "shape"}], symbolic dims as str."""
    kv = ["batch", shape.kv_heads, "past_seq", shape.head_dim]
    present = ["batch", shape.kv_heads, "total_seq", shape.head_dim]
    inputs = [
        {"name": "input_ids", "dtype": "int64", "shape": ["batch", "seq"]},
        {"name": "position_ids", "dtype": "int64", "shape": ["batch", "seq"]},
        {"name": "logits_index", "dtype": "int64", "shape": ["n_logits"]},
    ]
    outputs = [
        {"name": "logits", "dtype": "float32", "shape": ["batch", "n_logits", shape.vocab]},
        {"name": "hidden_states", "dtype": "float32", "shape": ["batch", "seq", shape.hidden]},
    ]
    for i in range(shape.num_layers):
        inputs += [{"name": KEY_NAME % i, "dtype": "float32", "shape": kv},
                   {"name": VALUE_NAME % i, "dtype": "float32", "shape": kv}]
        outputs += [{"name": PRESENT_KEY_NAME % i, "dtype": "float32", "shape": present},
                    {"name": PRESENT_VALUE_NAME % i, "dtype": "float32", "shape": present}]
    return inputs, outputs


def _rope_layers(config) -> list[bool]:
    """Per layer: does it apply rotary embeddings? SmolLM3 marks NoPE layers with 0 in no_rope_layers."""
    flags = getattr(config, "no_rope_layers", None)
    if flags is None:
        return [True] * config.num_hidden_layers
    return [bool(f) for f in flags]


def _check_supported(model) -> None:
    config = model.config
    if config.model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(
            f"trunk export supports model_type {SUPPORTED_MODEL_TYPES}, got {config.model_type!r}; "
            "add its attention variant to export/trunk.py (and a tiny config test) first"
        )
    if getattr(config, "use_sliding_window", False):
        raise ValueError("trunk export does not support sliding-window attention (config.use_sliding_window)")
    attn = model.model.layers[0].self_attn
    for name in ("q_norm", "k_norm"):
        if hasattr(attn, name):
            raise ValueError(f"trunk export does not support per-head {name} in attention")


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class TrunkGraph(nn.Module):
    """Tensors in, tensors out: (input_ids, position_ids, logits_index, *past) -> (logits, hidden, *present).

    `past` is flat: key 0, value 0, key 1, value 1, ... each [batch, kv_heads, past_seq, head_dim].
    """

    def __init__(self, model):
        super().__init__()
        _check_supported(model)
        self.model = model
        self.shape = TrunkShape.from_config(model.config)
        self.rope = _rope_layers(model.config)

    def _attention(self, layer_idx: int, attn, x, cos, sin, past_k, past_v, mask):
        # x [b, s, H]; q [b, kv, rep, s, hd]; k, v [b, kv, 1, s, hd] broadcast over rep (GQA).
        sh = self.shape
        b, s = x.shape[0], x.shape[1]
        rep = sh.num_heads // sh.kv_heads
        q = attn.q_proj(x).view(b, s, sh.num_heads, sh.head_dim).transpose(1, 2)
        k = attn.k_proj(x).view(b, s, sh.kv_heads, sh.head_dim).transpose(1, 2)
        v = attn.v_proj(x).view(b, s, sh.kv_heads, sh.head_dim).transpose(1, 2)
        if self.rope[layer_idx]:
            c, si = cos.unsqueeze(1), sin.unsqueeze(1)  # [b, 1, s, hd]
            q = q * c + _rotate_half(q) * si
            k = k * c + _rotate_half(k) * si
        k = torch.cat([past_k, k], dim=2)  # [b, kv, past + s, hd]
        v = torch.cat([past_v, v], dim=2)
        qg = q.view(b, sh.kv_heads, rep, s, sh.head_dim)
        scale = getattr(attn, "scaling", 1.0 / math.sqrt(sh.head_dim))
        scores = torch.matmul(qg, k.unsqueeze(2).transpose(-1, -2)) * scale
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)  # [b, kv, rep, s, total]
        probs = torch.softmax(scores.float(), dim=-1).to(q.dtype)
        out = torch.matmul(probs, v.unsqueeze(2))  # [b, kv, rep, s, hd]
        out = out.reshape(b, sh.num_heads, s, sh.head_dim).transpose(1, 2).reshape(b, s, -1)
        return attn.o_proj(out), k, v

    def forward(self, input_ids, position_ids, logits_index, *past):
        inner = self.model.model
        x = inner.embed_tokens(input_ids)  # [b, s, H]
        cos, sin = inner.rotary_emb(x, position_ids)  # [b, s, hd]
        s = input_ids.shape[1]
        past_len = past[0].shape[2]
        # Causal mask from shapes: query i is cache slot past_len + i and sees slots <= that.
        q_slot = torch.arange(s, device=x.device) + past_len
        k_slot = torch.arange(past_len + s, device=x.device)
        mask = k_slot[None, :] <= q_slot[:, None]  # [s, total]
        presents = []
        for i, layer in enumerate(inner.layers):
            h = layer.input_layernorm(x)
            h, k, v = self._attention(i, layer.self_attn, h, cos, sin, past[2 * i], past[2 * i + 1], mask)
            x = x + h
            x = x + layer.mlp(layer.post_attention_layernorm(x))
            presents += [k, v]
        hidden = inner.norm(x)
        logits = self.model.lm_head(hidden.index_select(1, logits_index))
        return (logits, hidden, *presents)


def empty_past(shape: TrunkShape, batch: int = 1, past_seq: int = 0, dtype=torch.float32) -> list[torch.Tensor]:
    """A flat list of zero past tensors (key 0, value 0, ...) of [batch, kv_heads, past_seq, head_dim]."""
    t = (batch, shape.kv_heads, past_seq, shape.head_dim)
    return [torch.zeros(t, dtype=dtype) for _ in range(2 * shape.num_layers)]


@dataclass
class ExportOptions:
    """What changes the exported graph; part of the artifact's source hash."""

    opset: int = 18


# protobuf cannot hold a message over 2 GiB: bigger models keep their weights in `<file>.data`.
EXTERNAL_DATA_BYTES = 1 << 30


def export_trunk(model, path: str | Path, options: ExportOptions | None = None, log=print,
                 external_data: bool | None = None) -> dict:
    """Write the trunk graph of `model` (an HF causal LM, eval mode, fp32) to `path`.

    Uses the torch.export-based exporter with symbolic batch/seq/past_seq dims. Weights go into
    `path` itself, or into `path.name + ".data"` beside it when `external_data` (default: when the
    weights exceed 1 GiB, e.g. SmolLM3-3B). Returns {"inputs", "outputs", "files", "seconds"}.
    """
    options = options or ExportOptions()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if any(t.dtype != torch.float32 for t in model.parameters()):
        raise ValueError("export_trunk expects a float32 model; load the checkpoint with dtype=torch.float32")
    graph = TrunkGraph(model.eval()).eval()
    shape = graph.shape
    if external_data is None:
        external_data = sum(t.numel() * t.element_size() for t in model.parameters()) > EXTERNAL_DATA_BYTES
    inputs_spec, outputs_spec = trunk_io_spec(shape)

    # Example sizes avoid 0 and 1 (torch.export specializes those) and differ from each other so
    # that no two symbolic dims are unified by accident.
    batch, seq, past_seq, n_logits = 2, 3, 5, 4
    gen = torch.Generator().manual_seed(0)  # keep the caller's RNG untouched
    ids = torch.randint(0, shape.vocab, (batch, seq), generator=gen)
    pos = (torch.arange(seq) + past_seq).expand(batch, seq).contiguous()
    index = torch.tensor([2, 0, 1, 2])[:n_logits]
    past = [torch.randn(batch, shape.kv_heads, past_seq, shape.head_dim, generator=gen)
            for _ in range(2 * shape.num_layers)]

    b = torch.export.Dim("batch", min=1, max=1024)
    s = torch.export.Dim("seq", min=1, max=1 << 16)
    p = torch.export.Dim("past_seq", min=0, max=1 << 16)
    n = torch.export.Dim("n_logits", min=1, max=1 << 16)
    dynamic_shapes = ({0: b, 1: s}, {0: b, 1: s}, {0: n}, tuple({0: b, 2: p} for _ in past))

    t0 = time.perf_counter()
    log(f"exporting trunk: {shape.num_layers} layers, hidden {shape.hidden}, opset {options.opset}")
    with torch.no_grad(), warnings.catch_warnings():
        # Shared Dim objects make the exporter say each name "will not be used"; it is used.
        warnings.filterwarnings("ignore", message="# The axis name")
        program = torch.onnx.export(
            graph, (ids, pos, index, *past), dynamo=True, opset_version=options.opset,
            input_names=[i["name"] for i in inputs_spec], output_names=[o["name"] for o in outputs_spec],
            dynamic_shapes=dynamic_shapes,
            external_data=False, optimize=True, verbose=False,
        )
    data = path.with_name(path.name + ".data")
    data.unlink(missing_ok=True)  # a stale weights file from an earlier external export
    program.save(str(path), external_data=external_data)
    _finalize(path, outputs_spec)
    files = [path.name] + ([data.name] if external_data else [])
    if external_data and not data.is_file():
        raise RuntimeError(f"{data}: the exporter did not write the expected external weights file")
    seconds = time.perf_counter() - t0
    size = sum((path.parent / f).stat().st_size for f in files)
    log(f"wrote {', '.join(files)} ({size / 1e6:.1f} MB) in {seconds:.1f}s")
    return {"inputs": inputs_spec, "outputs": outputs_spec, "files": files, "seconds": seconds}


def _finalize(path: Path, outputs_spec: list[dict]) -> None:
    """Name the exporter's derived dims after the contract and check the graph.

    The exporter names present's length "past_seq + seq"; the contract calls it "total_seq".
    `full_check` runs strict shape inference, which TensorRT's parser also relies on.
    """
    import onnx

    proto = onnx.load(str(path), load_external_data=False)  # external weights stay where they are
    specs = {o["name"]: o["shape"] for o in outputs_spec}
    for out in proto.graph.output:
        want = specs.get(out.name)
        if want is None:
            raise RuntimeError(f"{path}: exporter produced an output {out.name!r} that is not in the contract")
        for dim, w in zip(out.type.tensor_type.shape.dim, want):
            if isinstance(w, str):
                dim.dim_param = w
    onnx.save(proto, str(path))
    onnx.checker.check_model(str(path), full_check=True)  # by path: works past 2 GiB
