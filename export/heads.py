"""Export the trained heads (slot filler, mode head, another-call head) to ONNX graphs.

The contract (see `heads_io_spec`), batch 1 as the runtime runs them:

    slot_filler.onnx   ids        int64   [1, L]      scaffold ids in [0, V+2): NULL = V, MASK = V + 1
                       kinds      int64   [1, L]      position kinds (edgeagent.heads.spec.KINDS)
                       slot_pos   int64   [1, L]      position inside its slot
                       ctx        float32 [1, T, H]   the trunk's last-layer states of the context
                       token_rows int64   [N]         the positions whose token logits are wanted
                    -> token_logits  float32 [1, N, V + 1]   at token_rows; last column = NULL
                       action_logits float32 [1, L, 3]       spec.ACTIONS
                       start_logits  float32 [1, L, T]
                       end_logits    float32 [1, L, T]
    mode_head.onnx     state float32 [1, H] -> logits float32 [1, 3]   spec.MODES
    another_head.onnx  state float32 [1, H] -> logits float32 [1, 2]   spec.CONTINUE
    select_head.onnx   features float32 [1, K, F] -> logits float32 [1, K]   runtime/select.FEATURES
                       (only when the heads folder has a tool-selection head)

L, T and N are symbolic. The projection onto the vocabulary is most of the graph's compute, and
decoding needs it only at choice positions and at the positions it generates: ``token_rows``
names them (graph version 1 had no such input and projected all L).

The slot filler's tied embedding matrix (the trunk's input embedding, [V, H]) is an initializer
of slot_filler.onnx: one Gather reads it for the input tokens and one MatMul against it
(transposed once, at export) gives the token logits. Sharing it with the trunk graph instead
would save its bytes on disk (V * H * 4: 113 MB for SmolLM2-135M) but not in memory unless the
runtime hands both sessions one buffer; see export_heads' log for the sizes.

nn.MultiheadAttention exports through its math path (MatMul, Softmax, Reshape, Transpose): no
custom or contrib ops, so TensorRT's ONNX parser takes it.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from pathlib import Path

import torch
from torch import nn

from edgeagent.runtime.gate import GATE_FILE
from edgeagent.runtime.span_prior import PRIOR_FILE

SLOT_FILLER_FILE = "slot_filler.onnx"
MODE_HEAD_FILE = "mode_head.onnx"
ANOTHER_HEAD_FILE = "another_head.onnx"
SELECT_HEAD_FILE = "select_head.onnx"  # optional: heads folders with a tool-selection head

# Bump when the heads' graph contract or numerics change, so old artifacts are re-exported.
HEADS_GRAPH_VERSION = 2


def heads_io_spec(vocab: int, hidden: int, n_actions: int, n_modes: int, n_continue: int) -> dict:
    """name -> (inputs, outputs) specs [{"name", "dtype", "shape"}] of the three head graphs."""
    def t(name, dtype, shape):
        return {"name": name, "dtype": dtype, "shape": shape}

    def router(n):
        return [t("state", "float32", [1, hidden])], [t("logits", "float32", [1, n])]

    return {
        "slot_filler": (
            [t("ids", "int64", [1, "L"]), t("kinds", "int64", [1, "L"]), t("slot_pos", "int64", [1, "L"]),
             t("ctx", "float32", [1, "T", hidden]), t("token_rows", "int64", ["N"])],
            [t("token_logits", "float32", [1, "N", vocab + 1]), t("action_logits", "float32", [1, "L", n_actions]),
             t("start_logits", "float32", [1, "L", "T"]), t("end_logits", "float32", [1, "L", "T"])],
        ),
        "mode_head": router(n_modes),
        "another_head": router(n_continue),
    }


class _SlotFillerGraph(nn.Module):
    """(ids, kinds, slot_pos, ctx, token_rows) -> the four logits; no padding masks (batch 1)."""

    def __init__(self, sf):
        super().__init__()
        self.sf = sf

    def forward(self, ids, kinds, slot_pos, ctx, token_rows):
        return self.sf(ids, kinds, slot_pos, ctx, token_rows=token_rows)


def heads_source_hash(heads_dir: str | Path, opset: int) -> str:
    """sha256 over the heads folder's configs and weight files, the opset and the graph version."""
    folder = Path(heads_dir)
    meta = json.loads((folder / "heads.json").read_text())
    h = hashlib.sha256(json.dumps({"heads_graph_version": HEADS_GRAPH_VERSION, "opset": opset}).encode())
    names = ["heads.json", "slot_filler.json", "mode_head.json", "another_head.json", *meta.get("files", [])]
    names += [n for n in ("select_head.json", "select_head.safetensors", GATE_FILE, PRIOR_FILE)
              if (folder / n).exists()]
    for name in names:
        h.update(name.encode())
        h.update(hashlib.sha256((folder / name).read_bytes()).hexdigest().encode())
    return h.hexdigest()


def _export(module, args, path: Path, inputs, outputs, dynamic_shapes, opset: int) -> None:
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="# The axis name")
        program = torch.onnx.export(
            module, args, dynamo=True, opset_version=opset,
            input_names=[i["name"] for i in inputs], output_names=[o["name"] for o in outputs],
            dynamic_shapes=dynamic_shapes, external_data=False, optimize=True, verbose=False,
        )
    program.save(str(path), external_data=False)
    _finalize(path, inputs, outputs)


def _finalize(path: Path, inputs, outputs) -> None:
    """Name the symbolic dims after the contract, then check the graph with strict shape inference."""
    import onnx

    proto = onnx.load(str(path))
    for values, specs in ((proto.graph.input, inputs), (proto.graph.output, outputs)):
        want = {s["name"]: s["shape"] for s in specs}
        for v in values:
            if v.name not in want:
                raise RuntimeError(f"{path}: the exporter produced {v.name!r}, which is not in the contract")
            for dim, w in zip(v.type.tensor_type.shape.dim, want[v.name]):
                if isinstance(w, str):
                    dim.dim_param = w
                elif dim.HasField("dim_param") or dim.dim_value != w:
                    raise RuntimeError(f"{path}: {v.name} has dim {dim} where the contract says {w}")
    onnx.save(proto, str(path))
    onnx.checker.check_model(str(path), full_check=True)


def export_heads(slot_filler, mode_head, another_head, out_dir: str | Path, opset: int = 18, log=print) -> dict:
    """Write the three head graphs into `out_dir`. Modules in eval mode, float32.

    Returns {"graphs": {name: {"file", "inputs", "outputs"}}, "files": [...], "seconds"}.
    """
    from edgeagent.heads.spec import ACTIONS, CONTINUE, MODES

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sf_cfg = slot_filler.cfg
    V, H = sf_cfg.vocab_size, sf_cfg.trunk_hidden
    if mode_head.cfg.trunk_hidden != H or another_head.cfg.trunk_hidden != H:
        raise ValueError(f"the routers read states of width {mode_head.cfg.trunk_hidden}/"
                         f"{another_head.cfg.trunk_hidden}, the slot filler {H}; train them on the same trunk")
    spec = heads_io_spec(V, H, len(ACTIONS), mode_head.cfg.n_classes, another_head.cfg.n_classes)
    if mode_head.cfg.n_classes != len(MODES) or another_head.cfg.n_classes != len(CONTINUE):
        raise ValueError(f"mode head has {mode_head.cfg.n_classes} classes (want {len(MODES)}: {MODES}), "
                         f"another head {another_head.cfg.n_classes} (want {len(CONTINUE)}: {CONTINUE})")
    t0 = time.perf_counter()
    log(f"exporting heads: slot filler {sf_cfg.n_layers} layers d={sf_cfg.d_model}, routers, opset {opset}")

    # Example sizes: L != T, neither 0 nor 1 (torch.export specializes those).
    gen = torch.Generator().manual_seed(0)
    L, T = 7, 11
    ids = torch.randint(0, V + 2, (1, L), generator=gen)
    kinds = torch.zeros(1, L, dtype=torch.long)
    spos = torch.arange(L).unsqueeze(0)
    ctx = torch.randn(1, T, H, generator=gen)
    rows = torch.tensor([0, 2, 3, 5, 6])                # N = 5: neither 0, 1, L nor T
    dl = torch.export.Dim("L", min=1, max=sf_cfg.max_len)
    dt = torch.export.Dim("T", min=1, max=1 << 16)
    dn = torch.export.Dim("N", min=1, max=sf_cfg.max_len)   # the backend asks for one row at least
    graphs = {}
    files = {"slot_filler": SLOT_FILLER_FILE, "mode_head": MODE_HEAD_FILE, "another_head": ANOTHER_HEAD_FILE}
    sf_in, sf_out = spec["slot_filler"]
    _export(_SlotFillerGraph(slot_filler.eval()).eval(), (ids, kinds, spos, ctx, rows), out / SLOT_FILLER_FILE,
            sf_in, sf_out, ({1: dl}, {1: dl}, {1: dl}, {1: dt}, {0: dn}), opset)
    state = torch.randn(1, H, generator=gen)
    for name, module in (("mode_head", mode_head), ("another_head", another_head)):
        r_in, r_out = spec[name]
        _export(module.eval(), (state,), out / files[name], r_in, r_out, None, opset)
    for name, (inputs, outputs) in spec.items():
        graphs[name] = {"file": files[name], "inputs": inputs, "outputs": outputs}
    seconds = time.perf_counter() - t0
    sizes = ", ".join(f"{f} {(out / f).stat().st_size / 1e6:.1f} MB" for f in files.values())
    log(f"wrote {sizes} in {seconds:.1f}s")
    return {"graphs": graphs, "files": list(files.values()), "seconds": seconds}


def select_io_spec(n_features: int) -> tuple[list, list]:
    return ([{"name": "features", "dtype": "float32", "shape": [1, "K", n_features]}],
            [{"name": "logits", "dtype": "float32", "shape": [1, "K"]}])


def export_select_head(head, out_dir: str | Path, opset: int = 18) -> dict:
    """Write select_head.onnx; returns {"graph": {"file", "inputs", "outputs"}, "file"}."""
    out = Path(out_dir)
    F = head.cfg.n_features
    inputs, outputs = select_io_spec(F)
    example = (torch.randn(1, 5, F, generator=torch.Generator().manual_seed(0)),)
    dk = torch.export.Dim("K", min=1, max=1 << 12)
    _export(head.eval(), example, out / SELECT_HEAD_FILE, inputs, outputs, ({1: dk},), opset)
    return {"graph": {"file": SELECT_HEAD_FILE, "inputs": inputs, "outputs": outputs}, "file": SELECT_HEAD_FILE}
