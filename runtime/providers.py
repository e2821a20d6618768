"""Choose the ONNX Runtime execution provider once, in one place (STYLE 11).

Order of preference: TensorRT, CUDA, CPU, among `onnxruntime.get_available_providers()`.
Override with the `provider` argument or the EDGEAGENT_PROVIDER environment variable
("cpu", "cuda", "tensorrt" or a full provider name); tests use it to pin the CPU.
"""

from __future__ import annotations

import os

import onnxruntime as ort

ENV_VAR = "EDGEAGENT_PROVIDER"
PREFERENCE = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
ALIASES = {"tensorrt": "TensorrtExecutionProvider", "trt": "TensorrtExecutionProvider",
           "cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}


def _canonical(name: str) -> str:
    return ALIASES.get(name.strip().lower(), name.strip())


def choose_providers(provider: str | None = None, available: list[str] | None = None) -> list[str]:
    """The provider list to pass to InferenceSession: the chosen one, then the CPU as fallback.

    `provider` (or $EDGEAGENT_PROVIDER) forces one; asking for one that is not installed is an error
    rather than a silent fallback, so a test that pins a provider really runs on it.
    """
    available = list(ort.get_available_providers() if available is None else available)
    wanted = provider or os.environ.get(ENV_VAR)
    if wanted:
        name = _canonical(wanted)
        if name not in available:
            source = "provider argument" if provider else f"${ENV_VAR}"
            raise ValueError(f"{source} asks for {wanted!r} ({name}), but this onnxruntime offers {available}")
        chosen = name
    else:
        chosen = next((p for p in PREFERENCE if p in available), "CPUExecutionProvider")
    return [chosen] if chosen == "CPUExecutionProvider" else [chosen, "CPUExecutionProvider"]
