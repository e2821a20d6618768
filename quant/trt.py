"""TensorRT engines from an artifact's trunk ONNX: one engine, two optimization profiles.

Profile 0 is prefill (seq 1..max_seq, empty or short past), profile 1 is decode (seq 1, past up
to max_past). Precision follows the artifact: fp32 artifacts build with FP16 enabled; int8/fp8 QDQ
graphs are built strongly typed, so TensorRT keeps the Q/DQ precisions the graph states (FP8 needs
Hopper/Ada; Jetson Orin has no FP8). MatMulNBits (int4 / weight-only int8) is an ONNX Runtime
contrib op that TensorRT's parser does not take: those artifacts are refused with that reason.
The engine file and its sha256 join the artifact's manifest.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

from edgeagent.runtime.manifest import MANIFEST_NAME, ArtifactError, load_manifest, sha256_file

ENGINE_FILE = "trunk.plan"


class TensorRTMissing(RuntimeError):
    """`tensorrt` is not importable."""


@dataclass
class EngineConfig:
    max_seq: int = 2048  # prefill tokens
    opt_seq: int = 256
    max_past: int = 4096  # cache positions
    workspace_gb: float = 4.0


def require_tensorrt():
    try:
        import tensorrt
    except ImportError:
        raise TensorRTMissing(
            "--trt needs TensorRT's Python package, which is not installed: "
            "pip install 'edgeagent[trt]' (the `tensorrt` wheel; needs an NVIDIA GPU and driver)"
        ) from None
    return tensorrt


def _profiles(builder, manifest, cfg: EngineConfig) -> list:
    kv = manifest.kv
    past_names = [n % i for i in range(kv.num_layers) for n in (kv.past_key, kv.past_value)]
    shapes = {
        # (min, opt, max) of (seq, past)
        "prefill": ((1, 0), (cfg.opt_seq, 0), (cfg.max_seq, cfg.max_past - cfg.max_seq)),
        "decode": ((1, 1), (1, cfg.max_past // 2), (1, cfg.max_past - 1)),
    }
    out = []
    for (s0, p0), (s1, p1), (s2, p2) in shapes.values():
        prof = builder.create_optimization_profile()
        for name in ("input_ids", "position_ids"):
            prof.set_shape(name, (1, s0), (1, s1), (1, s2))
        if manifest.graphs["trunk"].has_input("logits_index"):
            prof.set_shape("logits_index", (1,), (1,), (s2,))  # the runtime asks for the last position
        for name in past_names:
            prof.set_shape(name, (1, kv.kv_heads, p0, kv.head_dim), (1, kv.kv_heads, p1, kv.head_dim),
                           (1, kv.kv_heads, p2, kv.head_dim))
        out.append(prof)
    return out


def build_engines(artifact_dir: str | Path, cfg: EngineConfig | None = None, log=print) -> Path:
    """Build `trunk.plan` in `artifact_dir` and record it (file, sha256, precision) in the manifest."""
    trt = require_tensorrt()
    cfg = cfg or EngineConfig()
    folder = Path(artifact_dir)
    manifest = load_manifest(folder, verify=True)
    info = manifest.quantization_info
    if "MatMulNBits" in str(info.get("params", {}).get("api", "")) or info.get("params", {}).get("bits"):
        raise ArtifactError(f"{folder}: {info.get('method')} uses ORT's MatMulNBits contrib op, which TensorRT "
                            "cannot parse; build engines from the fp32, int8-static/dynamic or fp8 artifact")
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    qdq = manifest.quantization in ("int8", "fp8")
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED) if qdq else 0
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    onnx_path = folder / manifest.graphs["trunk"].file
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ArtifactError(f"{onnx_path}: TensorRT's ONNX parser failed: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(cfg.workspace_gb * (1 << 30)))
    precision = manifest.quantization if qdq else "fp16"
    if not qdq:
        config.set_flag(trt.BuilderFlag.FP16)
    for prof in _profiles(builder, manifest, cfg):
        config.add_optimization_profile(prof)
    log(f"building TensorRT engine ({precision}, profiles prefill/decode) from {onnx_path.name}")
    blob = builder.build_serialized_network(network, config)
    if blob is None:
        raise ArtifactError(f"{onnx_path}: TensorRT could not build an engine (see the log above)")
    engine = folder / ENGINE_FILE
    engine.write_bytes(bytes(blob))
    files = dict(manifest.files, **{ENGINE_FILE: sha256_file(engine)})
    info = dict(info, tensorrt={"file": ENGINE_FILE, "precision": precision, "profiles": ["prefill", "decode"],
                                "config": asdict(cfg), "version": trt.__version__})
    (folder / MANIFEST_NAME).write_text(replace(manifest, files=files, quantization_info=info).to_json(),
                                        encoding="utf-8")
    log(f"wrote {engine} ({engine.stat().st_size / 1e6:.0f} MB)")
    return engine
