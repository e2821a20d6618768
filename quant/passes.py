"""Quantization passes over an fp32 trunk graph: each reads one ONNX file and writes a new one.

Never in place (gpt-fast's habit: quantization makes a new file). Every pass quantizes only the
MatMuls whose second input is a constant weight (projections, MLP, lm_head): the attention
MatMuls (q·kᵀ, probs·v) multiply two activations, and quantizing those is what tends to make
dynamic INT8 collapse on LMs (onnxruntime #18430). The graph's inputs and outputs are untouched,
so a quantized file keeps the trunk's I/O contract and the runtime loads it unchanged.

    pass            ORT API                                   weights        activations
    int8-nbits      MatMulNBitsQuantizer(bits=8)              8-bit blocks   fp32 (acc. level 0)
    int8-dynamic    quantize_dynamic (QOperator)              int8/channel   uint8, per call
    int8-static     quantize_static (QDQ, MinMax calibration) int8/channel   int8, calibrated
    int4            MatMulNBitsQuantizer(bits=4)              4-bit blocks   fp32 or int8 (acc. 4)
    fp8             quantize_static (QDQ, FLOAT8E4M3FN)       e4m3           e4m3, calibrated
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np

# Bump when a pass's output changes for the same inputs, so quantized artifacts are redone.
PASSES_VERSION = 4  # 2: FP8 leaves MatMul outputs unquantized; 3, 4: FP8 activation, then weight scales from max|x|


def _check_paths(src: str | Path, dst: str | Path) -> tuple[Path, Path]:
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise FileNotFoundError(f"{src}: no such ONNX file to quantize")
    if src.resolve() == dst.resolve():
        raise ValueError(f"{dst}: a pass writes a new file; it must not overwrite its input {src}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    return src, dst


def _external(src: Path) -> bool:
    """Weights beside the graph (`trunk.onnx.data`, SmolLM3-3B): the output keeps them external too."""
    return src.with_name(src.name + ".data").is_file()


def weight_matmuls(path: str | Path) -> list[str]:
    """Names of the MatMul nodes whose second input is an initializer (a constant weight)."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    inits = {t.name for t in proto.graph.initializer}
    consts = {o for n in proto.graph.node if n.op_type == "Constant" for o in n.output}
    names = [n.name for n in proto.graph.node
             if n.op_type == "MatMul" and len(n.input) == 2 and (n.input[1] in inits or n.input[1] in consts)]
    unnamed = [n for n in proto.graph.node if n.op_type == "MatMul" and not n.name]
    if unnamed:
        raise ValueError(f"{path}: {len(unnamed)} MatMul nodes have no name; the passes select nodes by name")
    return names


FIRST_LAST_MIN_LAYERS = 4


def edge_matmuls(nodes: list[str], num_layers: int, lm_head: bool = True, first_last: bool = False) -> list[str]:
    """The weight MatMuls to keep in fp32: the output projection (the last weight MatMul in graph
    order, i.e. the folded tied lm_head) and, with `first_last`, every weight MatMul of the first and
    the last decoder layer (the rest split evenly into `num_layers` groups in graph order). With
    fewer than FIRST_LAST_MIN_LAYERS layers first/last stay quantized: they would be half the model."""
    if not nodes:
        return []
    out = [nodes[-1]] if lm_head else []
    if first_last and num_layers >= FIRST_LAST_MIN_LAYERS:
        body = nodes[:-1]
        if num_layers < 1 or len(body) % num_layers:
            raise ValueError(f"{len(body)} weight MatMuls before the lm_head do not split into {num_layers} layers")
        per = len(body) // num_layers
        out = body[:per] + body[-per:] + out
    return out


def nbits(src, dst, bits: int, block_size: int = 32, accuracy_level: int = 0, symmetric: bool = True,
          exclude: Iterable[str] = ()) -> dict:
    """Weight-only blockwise quantization to the MatMulNBits contrib op (ORT CPU/CUDA kernels).

    accuracy_level 0 computes in fp32 after dequantizing; 4 quantizes activations to int8 on the
    fly (faster on CPU, and it can flip greedy tokens: onnxruntime #29849), so callers measure both.
    """
    from onnxruntime.quantization import QuantFormat
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    src, dst = _check_paths(src, dst)
    fp32_nodes = sorted(set(exclude))
    keep = set(weight_matmuls(src)) - set(fp32_nodes)
    import onnx

    proto = onnx.load(str(src))
    not_quantized = [n.name for n in proto.graph.node if n.op_type == "MatMul" and n.name not in keep]
    quantizer = MatMulNBitsQuantizer(
        proto, bits=bits, block_size=block_size, is_symmetric=symmetric, accuracy_level=accuracy_level,
        nodes_to_exclude=not_quantized, quant_format=QuantFormat.QOperator, op_types_to_quantize=("MatMul",),
    )
    with _quiet():
        quantizer.process()
    quantizer.model.save_model_to_file(str(dst), use_external_data_format=_external(src))
    return {"api": "MatMulNBitsQuantizer", "bits": bits, "block_size": block_size,
            "accuracy_level": accuracy_level, "symmetric": symmetric, "nodes": len(keep),
            "fp32_nodes": fp32_nodes}


def int8_dynamic(src, dst, per_channel: bool = True, exclude: Iterable[str] = ()) -> dict:
    """Dynamic INT8 (QOperator: DynamicQuantizeLinear + MatMulInteger); no calibration data.
    `exclude`: weight MatMuls left in fp32 (see edge_matmuls)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src, dst = _check_paths(src, dst)
    skip = set(exclude)
    nodes = [n for n in weight_matmuls(src) if n not in skip]
    with _quiet():
        quantize_dynamic(src, dst, op_types_to_quantize=["MatMul"], nodes_to_quantize=nodes,
                         per_channel=per_channel, weight_type=QuantType.QInt8,
                         use_external_data_format=_external(src))
    return {"api": "quantize_dynamic", "format": "QOperator", "weight_type": "QInt8",
            "per_channel": per_channel, "nodes": len(nodes), "fp32_nodes": sorted(skip)}


class TrunkCalibrationReader:
    """A CalibrationDataReader over real prompts fed through the KV-cache graph with an empty past.

    Each item is one prompt [1, T] at positions 0..T-1, logits at all of them, with every past_key_values.* of
    [1, kv_heads, 0, head_dim], i.e. exactly the runtime's prefill call. `same_length` cuts every
    prompt to the shortest one's length (a prefix of a real prompt is still a real prefill).
    """

    def __init__(self, prompts: Iterable[list[int]], num_layers: int, kv_heads: int, head_dim: int,
                 past_key: str = "past_key_values.%d.key", past_value: str = "past_key_values.%d.value",
                 same_length: bool = False, logits_index: bool = True):
        self._prompts = [list(p) for p in prompts]
        self._logits_index = logits_index  # graphs of version 1 lack the input
        if same_length:
            # ORT's Distribution calibrator stacks every item's tensors into one array (fp8 needs it).
            n = min(len(p) for p in self._prompts)
            self._prompts = [p[:n] for p in self._prompts]
        self._empty = np.zeros((1, kv_heads, 0, head_dim), np.float32)
        self._names = [n % i for i in range(num_layers) for n in (past_key, past_value)]
        self._i = 0

    def get_next(self) -> dict | None:
        if self._i >= len(self._prompts):
            return None
        ids = np.asarray(self._prompts[self._i], np.int64)[None]
        self._i += 1
        feed = {"input_ids": ids, "position_ids": np.arange(ids.shape[1], dtype=np.int64)[None]}
        if self._logits_index:  # every position: the LM head's input range is calibrated on all of them
            feed["logits_index"] = np.arange(ids.shape[1], dtype=np.int64)
        feed.update({n: self._empty for n in self._names})
        return feed

    def rewind(self) -> None:
        self._i = 0

    def __len__(self) -> int:
        return len(self._prompts)


def _as_reader(reader):
    """Wrap our reader in ORT's CalibrationDataReader base class (quantize_static checks isinstance)."""
    from onnxruntime.quantization import CalibrationDataReader

    class _Reader(CalibrationDataReader):
        def get_next(self):
            return reader.get_next()

        def rewind(self):
            reader.rewind()

        def __len__(self):
            return len(reader)

    return _Reader()


def int8_static(src, dst, reader: TrunkCalibrationReader, per_channel: bool = True,
                symmetric_activations: bool = True, exclude: Iterable[str] = ()) -> dict:
    """Static INT8 QDQ: activation ranges by MinMax over the calibration prompts; activations int8
    symmetric (zero point 0) or uint8 asymmetric; weights int8 symmetric."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    src, dst = _check_paths(src, dst)
    skip = set(exclude)
    nodes = [n for n in weight_matmuls(src) if n not in skip]
    act = QuantType.QInt8 if symmetric_activations else QuantType.QUInt8
    with _quiet():
        quantize_static(
            src, dst, _as_reader(reader), quant_format=QuantFormat.QDQ, op_types_to_quantize=["MatMul"],
            nodes_to_quantize=nodes, per_channel=per_channel, activation_type=act,
            weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
            use_external_data_format=_external(src),
            extra_options={"ActivationSymmetric": symmetric_activations, "WeightSymmetric": True},
        )
    return {"api": "quantize_static", "format": "QDQ", "activation_type": act.name, "weight_type": "QInt8",
            "activation_symmetric": symmetric_activations, "calibrate_method": "MinMax",
            "per_channel": per_channel, "calibration_prompts": len(reader), "nodes": len(nodes),
            "fp32_nodes": sorted(skip)}


FP8_OPSET = 19  # QuantizeLinear/DequantizeLinear take float8 types from opset 19
FP8_E4M3_MAX = 448.0


def fp8(src, dst, reader: TrunkCalibrationReader) -> dict:
    """FP8 E4M3 QDQ (weights and activations) for TensorRT on Hopper/Ada. The input is raised to
    opset 19 first (a new temp file). ORT takes only its Distribution calibration for float8, whose
    activation (and weight) scales put a few standard deviations at FP8's largest value: an LLM's
    outliers are clipped and the model collapses (1% greedy-token agreement on SmolLM2-135M). So
    every activation scale is then set to max|x| / 448 over the same calibration prompts and every
    weight is requantized with max|w| / 448: nothing calibrated saturates."""
    import tempfile

    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    src, dst = _check_paths(src, dst)
    nodes = weight_matmuls(src)
    with tempfile.TemporaryDirectory(dir=dst.parent) as tmp:
        proto = onnx.load(str(src))
        for imp in proto.opset_import:
            if imp.domain in ("", "ai.onnx") and imp.version < FP8_OPSET:
                # Ops whose schema changed between 18 and 19 only gained types; the numbers stay valid.
                imp.version = FP8_OPSET
        staged = Path(tmp) / "fp32-opset19.onnx"
        onnx.save(proto, str(staged), save_as_external_data=_external(src))
        with _quiet():
            quantize_static(
                staged, dst, _as_reader(reader), quant_format=QuantFormat.QDQ, op_types_to_quantize=["MatMul"],
                nodes_to_quantize=nodes, activation_type=QuantType.QFLOAT8E4M3FN,
                weight_type=QuantType.QFLOAT8E4M3FN, calibrate_method=CalibrationMethod.Distribution,
                use_external_data_format=_external(src),
                # Q/DQ on each MatMul's inputs only: an FP8 GEMM (TensorRT) reads FP8 and writes
                # wider. A Q/DQ on its output would round the logits themselves to 3 mantissa bits
                # (2% greedy-token agreement on SmolLM2-135M with it).
                extra_options={"OpTypesToExcludeOutputQuantization": ["MatMul"]},
            )
        rescaled = _fp8_max_scales(staged, dst, reader, Path(tmp))
    return {"api": "quantize_static", "format": "QDQ", "activation_type": "QFLOAT8E4M3FN",
            "weight_type": "QFLOAT8E4M3FN", "calibrate_method": "Distribution, then scales max|x|/448 (activations), max|w|/448 (weights)",
            "activation_scales_rescaled": rescaled, "opset": FP8_OPSET, "output_quantized": False,
            "calibration_prompts": len(reader), "nodes": len(nodes)}


def _fp8_max_scales(fp32_model: Path, quantized: Path, reader: TrunkCalibrationReader, work: Path) -> int:
    """Set each activation QuantizeLinear's scale in `quantized` to max|x| / FP8_E4M3_MAX, x its
    input in `fp32_model` over the reader's prompts, and requantize each weight with the scale
    max|w| / FP8_E4M3_MAX. The probe model (every activation an output) goes to `work` as a file,
    external weights and all, so models past protobuf's 2 GiB load too. Returns how many
    activation scales were set. ORT accepts only its Distribution calibration for float8, so the
    calibration prompts run twice; writing the Q/DQ graph here instead would save that."""
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    proto = onnx.load(str(quantized))
    g = proto.graph
    inits = {t.name: t for t in g.initializer}
    acts = {n.input[0]: n.input[1] for n in g.node
            if n.op_type == "QuantizeLinear" and n.input[0] not in inits and n.input[1] in inits}
    if not acts:
        return 0
    src = onnx.load(str(fp32_model))
    known = {o.name for o in src.graph.output}
    for name in acts:
        if name not in known:
            src.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep every tensor as named
    probe = work / "fp8-probe.onnx"
    onnx.save(src, str(probe), save_as_external_data=_external(fp32_model))
    sess = ort.InferenceSession(str(probe), opts, providers=["CPUExecutionProvider"])
    names = list(acts)
    peak = dict.fromkeys(names, 0.0)
    reader.rewind()
    while (feed := reader.get_next()) is not None:
        for name, x in zip(names, sess.run(names, feed)):
            peak[name] = max(peak[name], float(np.abs(x).max()))
    reader.rewind()
    for name, scale_name in acts.items():
        old = numpy_helper.to_array(inits[scale_name])
        new = np.full_like(old, max(peak[name], 1e-6) / FP8_E4M3_MAX)
        inits[scale_name].CopyFrom(numpy_helper.from_array(new, scale_name))
    # Weights too: ORT's float8 weight scales clip them as well (layer 0's q_proj came out 23% off).
    import ml_dtypes

    fp32_weights = {t.name: t for t in src.graph.initializer}
    for n in g.node:
        if n.op_type != "DequantizeLinear" or n.input[0] not in inits or not n.input[0].endswith("_quantized"):
            continue
        q_name, scale_name = n.input[0], n.input[1]
        w = fp32_weights.get(q_name[: -len("_quantized")])
        if w is None:
            continue
        w = numpy_helper.to_array(w).astype(np.float32)
        scale = np.full_like(numpy_helper.to_array(inits[scale_name]), max(float(np.abs(w).max()), 1e-12) / FP8_E4M3_MAX)
        q = np.clip(w / scale, -FP8_E4M3_MAX, FP8_E4M3_MAX).astype(ml_dtypes.float8_e4m3fn)
        inits[q_name].CopyFrom(numpy_helper.from_array(q, q_name))
        inits[scale_name].CopyFrom(numpy_helper.from_array(scale, scale_name))
    onnx.save(proto, str(quantized), save_as_external_data=_external(quantized))
    return len(acts)


class _quiet:
    """Silence the quantizers' INFO/WARNING chatter (pre-processing advice, per-node notes)."""

    def __enter__(self):
        self._level = logging.getLogger().level
        logging.getLogger().setLevel(logging.ERROR)

    def __exit__(self, *exc):
        logging.getLogger().setLevel(self._level)
