"""BFCL predictors on the routed pipeline: the system and its AR baselines, on the same trunk.

    diffusion         the routed pipeline (mode head, tool-selection head, span/diffusion slot filler), T steps
    diffusion-trunknames  the same with names written by the trunk under the trie (no selection head)
    diffusion-noanchor  the same with spans from the slot filler alone (no trunk anchors)
    diffusion-norules  the same without the decoding rules over the slot filler (SpanRules.off())
    diffusion-nospan  the same without the span path (every value generated): the ablation
    ar-constrained    baseline (a): same trunk, same mode head, trie names; the arguments decoded token by token by
                      the trunk itself under the scaffold's JSON-schema constraint (runtime/ar_decode.py)
    lora-ar           baseline (b): the trunk with LoRA weights merged, decoded like ar-constrained;
                      its mode and another-call decisions are the LoRA trunk's own next token

Each factory takes model=, artifacts= (an ONNX artifact folder: run on ONNX Runtime), steps=,
heads=, and returns a callable ``predict(requests) -> responses`` with an ``info`` dict. A request
the pipeline cannot serve (RequestError: a bad request or an unsupported schema) gets a response
without calls and an ``error`` field; the run goes on.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "smollm2-135m"
LORA_SHIPPED = Path(__file__).resolve().parents[1] / "weights"


def _torch_backend(model, heads, trunk=None, tokenizer=None, family=None):
    try:
        from edgeagent.export.torch_backend import TorchBackend
    except ImportError as e:
        raise RuntimeError(f"the PyTorch backend needs the train extra (pip install 'edgeagent[train]'): {e}") from None
    return TorchBackend(model, heads, trunk=trunk, tokenizer=tokenizer, family=family)


def _ort_backend(artifacts):
    try:
        from edgeagent.runtime.ort_backend import OrtBackend
    except ImportError as e:
        raise RuntimeError(f"--artifacts needs the ONNX Runtime backend (edgeagent.runtime.ort_backend), "
                           f"which is not available here: {e}") from None
    return OrtBackend(artifacts)


class PipelinePredictor:
    """``predict(requests)`` on a Pipeline; per-request errors become call-less responses."""

    def __init__(self, backend, config, info: dict):
        from edgeagent.runtime.pipeline import Pipeline

        self.pipeline = Pipeline(backend, config)
        self.info = {**info, "listing": self.pipeline.listing}

    def respond(self, request: dict) -> dict:
        from edgeagent.runtime.pipeline import RequestError

        t0 = time.perf_counter()
        try:
            return self.pipeline.respond(request)
        except RequestError as e:
            error = str(e)
        except Exception as e:  # a bug on one request must not end a long run; it is reported per item
            error = f"internal error: {type(e).__name__}: {e}"
        rid = request.get("id") if isinstance(request, dict) else None
        return {"id": rid, "mode": "error", "content": "", "tool_calls": [], "error": error,
                "timings": {"total_s": time.perf_counter() - t0}}

    def __call__(self, requests: list[dict]) -> list[dict]:
        return [self.respond(r) for r in requests]


def _build(name, model, artifacts, heads, config, backend=None, extra=None) -> PipelinePredictor:
    heads_path = heads
    if backend is None:
        if artifacts is not None:
            backend = _ort_backend(artifacts)
            heads_path = getattr(backend, "heads_path", artifacts)
        else:
            from edgeagent.heads.io import heads_dir

            backend = _torch_backend(model or DEFAULT_MODEL, heads)
            heads_path = heads_dir(model or DEFAULT_MODEL, heads)
    kind = "onnx" if artifacts is not None else "torch"
    info = {"name": name, "oracle": False, "backend": kind, "model": str(model or DEFAULT_MODEL),
            "artifacts": None if artifacts is None else str(artifacts), "heads": str(heads_path),
            "steps": config.steps, "use_span": config.use_span, "args_decoder": config.args_decoder,
            "names": "selection head" if config.select == "head" and getattr(backend, "has_select", False)
            else "trunk under the trie",
            "max_new_tokens": config.max_new_tokens, **(extra or {})}
    return PipelinePredictor(backend, config, info)


def _ar_rules():
    """The baselines decode as the issue defines them: constrained AR, no value rewritten afterwards
    (SpanRules.stated_values, percent_fractions, canonical_case, iso_dates and count_words, the rules
    that rewrite a written call, are off; --set turns them on)."""
    from edgeagent.runtime.rules import SpanRules

    return SpanRules(stated_values=False, percent_fractions=False, canonical_case=False, iso_dates=False,
                     count_words=False)


def _config(**kw):
    from edgeagent.runtime.pipeline import PipelineConfig

    return PipelineConfig(**kw)


def diffusion(model=None, artifacts=None, steps: int = 2, heads=None, max_new_tokens: int = 32, backend=None,
              **_):
    """The routed pipeline with T = ``steps`` diffusion steps (chat answers capped at max_new_tokens:
    BFCL scores only the calls)."""
    cfg = _config(steps=int(steps), max_new_tokens=max_new_tokens)
    return _build("diffusion", model, artifacts, heads, cfg, backend)


def diffusion_noanchor(model=None, artifacts=None, steps: int = 1, heads=None, max_new_tokens: int = 32,
                       backend=None, **_):
    """The ablation: spans chosen by the slot filler alone (no trunk anchors for their start, end or route)."""
    cfg = _config(steps=int(steps), max_new_tokens=max_new_tokens, anchor_weight=0.0, anchor_route=None,
                  end_weight=0.0)
    return _build("diffusion-noanchor", model, artifacts, heads, cfg, backend)


def diffusion_trunknames(model=None, artifacts=None, steps: int = 1, heads=None, max_new_tokens: int = 32,
                         backend=None, **_):
    """The ablation: function names written by the trunk under the trie, not chosen by the selection head."""
    cfg = _config(steps=int(steps), max_new_tokens=max_new_tokens, select="trunk")
    return _build("diffusion-trunknames", model, artifacts, heads, cfg, backend)


def diffusion_norules(model=None, artifacts=None, steps: int = 1, heads=None, max_new_tokens: int = 32,
                      backend=None, **_):
    """The ablation: spans and optional values as the slot filler scores them, without SpanRules."""
    from edgeagent.runtime.rules import SpanRules

    cfg = _config(steps=int(steps), max_new_tokens=max_new_tokens, rules=SpanRules.off())
    return _build("diffusion-norules", model, artifacts, heads, cfg, backend)


def diffusion_nospan(model=None, artifacts=None, steps: int = 2, heads=None, max_new_tokens: int = 32,
                     backend=None, **_):
    """The ablation: the routed pipeline without the span path."""
    cfg = _config(steps=int(steps), max_new_tokens=max_new_tokens, use_span=False)
    return _build("diffusion-nospan", model, artifacts, heads, cfg, backend)


def ar_constrained(model=None, artifacts=None, heads=None, max_new_tokens: int = 32, backend=None, **_):
    """Baseline (a): the pipeline's trunk and mode head; arguments decoded AR under the schema."""
    cfg = _config(max_new_tokens=max_new_tokens, args_decoder="ar", select="trunk", rules=_ar_rules())
    return _build("ar-constrained", model, artifacts, heads, cfg, backend,
                  {"steps": None, "mode_decision": "mode head"})


class DecisionTokenBackend:
    """A backend whose mode and another-call decisions are the trunk's own next token.

    mode: after the prompt, the trunk's best token is the first token of the call header
    (``<tool_call>``) -> tool, anything else -> chat (think is never chosen). another: after a
    call's footer, the first token of separator + header -> another call, anything else -> end.
    Reads the logits of the latest prefill, which the pipeline runs right before asking.
    """

    def __init__(self, backend):
        from edgeagent.formats import call_syntax

        self.b = backend
        self.tokenizer, self.family, self.max_len = backend.tokenizer, backend.family, backend.max_len
        syntax = call_syntax(backend.family)
        enc = lambda s: self.tokenizer.encode(s, add_special_tokens=False).ids  # noqa: E731
        self.tool_token = enc(syntax.header)[0]
        self.another_token = enc(syntax.separator + syntax.header)[0]
        self._last = None

    def new_cache(self):
        return self.b.new_cache()

    def truncate(self, cache, length):
        return self.b.truncate(cache, length)

    def branch(self, ids, cache, all_logits: bool = False):
        return self.b.branch(ids, cache, all_logits)

    def branches(self, rows, cache, all_logits: bool = False):
        return self.b.branches(rows, cache, all_logits)

    def prefill(self, ids, cache, all_logits: bool = False):
        logits, hidden, cache = self.b.prefill(ids, cache, all_logits)
        self._last = np.asarray(logits[-1] if all_logits else logits, dtype=np.float64)
        return logits, hidden, cache

    def _split(self, token):
        other = self._last.copy()
        other[token] = -np.inf
        return float(other.max()), float(self._last[token])

    def mode_logits(self, state):
        prose, tool = self._split(self.tool_token)
        return np.array([prose, -np.inf, tool])     # chat | think | tool

    def another_logits(self, state):
        end, another = self._split(self.another_token)
        return np.array([end, another])             # end | another call

    def fill_step(self, *args):
        return self.b.fill_step(*args)


def default_lora_dir(model: str) -> Path:
    return LORA_SHIPPED / f"{Path(str(model)).name}-lora"


def lora_ar(model=None, artifacts=None, heads=None, lora=None, max_new_tokens: int = 32, backend=None, **_):
    """Baseline (b): the LoRA-merged trunk decides mode and calls by its own next token and decodes the
    arguments AR under the schema (no heads are used; they are loaded only to satisfy the backend).

    ``lora``: LoRA weights (lora.safetensors + lora.json: merged here, run on PyTorch) or an artifact
    folder exported with `edgeagent export --lora` (run on ONNX Runtime)."""
    model = model or DEFAULT_MODEL
    lora_dir = Path(lora) if lora is not None else default_lora_dir(model)
    on_ort = (lora_dir / "manifest.json").exists()
    if backend is None and on_ort:
        backend = _ort_backend(lora_dir)
        if "+lora" not in backend.manifest.model_id:
            raise ValueError(f"{lora_dir}: this artifact has no LoRA weights merged (model {backend.manifest.model_id!r}); "
                             "export one with `edgeagent export --lora DIR`")
    elif backend is None:
        if artifacts is not None:
            raise ValueError("lora-ar on ONNX Runtime reads the LoRA-merged trunk's own artifact: pass --lora with a "
                             "folder written by `edgeagent export --lora DIR`, or drop --artifacts")
        from edgeagent.models.registry import describe, resolve
        from edgeagent.train.lora import load_lora_trunk

        trunk, tokenizer = load_lora_trunk(model, lora_dir)
        backend = _torch_backend(model, heads, trunk=trunk, tokenizer=tokenizer,
                                 family=describe(resolve(model)).family)
    # the LoRA trunk was trained on prompts with the Hermes JSON listing (`--stage lora` trains on no other)
    cfg = _config(max_new_tokens=max_new_tokens, args_decoder="ar", select="trunk", listing="json",
                  rules=_ar_rules())
    return _build("lora-ar", model, lora_dir if on_ort else None, heads, cfg, DecisionTokenBackend(backend),
                  {"steps": None, "lora": str(lora_dir), "mode_decision": "decision token (LoRA trunk)"})
