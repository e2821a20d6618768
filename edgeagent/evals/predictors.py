"""Predictors: ``predict(requests: list[dict]) -> list[dict]``, found by name.

A predictor is a callable that takes a batch of requests (``{"id", "messages", "tools"}``) and
returns one response per request (``{"id", "mode", "content", "tool_calls", "timings"}``, see
:mod:`edgeagent.evals.scoring`). It may carry an ``info`` dict that goes into the report
(``name``, ``oracle``, and whatever settings identify the run, e.g. ``steps``).

Register a predictor by adding a line to :data:`PREDICTORS`; its module is imported only when the
predictor is asked for, so the eval command never loads torch for ``no-call``.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from dataclasses import dataclass

from .bfcl import KNOWN_CATEGORIES, load_category, sanitize_names


class UnknownPredictor(ValueError):
    pass


@dataclass(frozen=True)
class PredictorSpec:
    target: str                 # "module:factory"; factory(**opts) -> predictor
    doc: str
    sweeps_steps: bool = False  # True: the eval command runs it once per --steps value


PREDICTORS: dict[str, PredictorSpec] = {
    "oracle": PredictorSpec("edgeagent.evals.predictors:OraclePredictor",
                            "gold answers from BFCL's possible_answer; tests the harness only"),
    "no-call": PredictorSpec("edgeagent.evals.predictors:NoCallPredictor",
                             "never calls a tool (floor for AST, ceiling for irrelevance)"),
    "diffusion": PredictorSpec("edgeagent.evals.pipeline_predictors:diffusion",
                               "the routed pipeline: mode head, tool-selection head (trie names without one), "
                               "span/diffusion slot filler (T steps)", sweeps_steps=True),
    "diffusion-trunknames": PredictorSpec("edgeagent.evals.pipeline_predictors:diffusion_trunknames",
                                          "ablation: the routed pipeline with names written by the trunk under the "
                                          "trie (no tool-selection head; T steps)", sweeps_steps=True),
    "diffusion-noanchor": PredictorSpec("edgeagent.evals.pipeline_predictors:diffusion_noanchor",
                                        "ablation: the routed pipeline with spans from the slot filler alone "
                                        "(no trunk anchors for start, end or route; T steps)", sweeps_steps=True),
    "diffusion-norules": PredictorSpec("edgeagent.evals.pipeline_predictors:diffusion_norules",
                                       "ablation: the routed pipeline without the decoding rules over the slot "
                                       "filler's scores (span length, sentence ends, optional values, lists)",
                                       sweeps_steps=True),
    "diffusion-nospan": PredictorSpec("edgeagent.evals.pipeline_predictors:diffusion_nospan",
                                      "ablation: the routed pipeline without the span path (T = 2)"),
    "ar-constrained": PredictorSpec("edgeagent.evals.pipeline_predictors:ar_constrained",
                                    "baseline a: same trunk and mode head, trie names, arguments decoded AR by "
                                    "the trunk under the schema's scaffold"),
    "lora-ar": PredictorSpec("edgeagent.evals.pipeline_predictors:lora_ar",
                             "baseline b: LoRA-merged trunk, its own decision token, arguments AR under "
                             "the schema (needs `edgeagent train --stage lora`)"),
}


def get_predictor(name: str, **opts):
    """The predictor registered as ``name``, built with ``opts`` (model, artifacts, steps, ...)."""
    spec = PREDICTORS.get(name)
    if spec is None:
        raise UnknownPredictor(
            f"unknown predictor {name!r}. Available: {', '.join(sorted(PREDICTORS))}. "
            f"A new predictor is registered in PREDICTORS in {__name__.replace('.', '/')}.py")
    module, _, attr = spec.target.partition(":")
    return getattr(importlib.import_module(module), attr)(**opts)


def _response(request_id: str, content: str, calls: list[dict], t0: float) -> dict:
    return {"id": request_id, "mode": "tool" if calls else "chat", "content": content,
            "tool_calls": calls, "timings": {"total_s": time.perf_counter() - t0}}


class NoCallPredictor:
    """Answers every request in prose, without a tool call."""

    def __init__(self, **opts):
        self.info = {"name": "no-call", "oracle": False}

    def __call__(self, requests: list[dict]) -> list[dict]:
        t0 = time.perf_counter()
        return [_response(r["id"], "I can't help with that using the available tools.", [], t0)
                for r in requests]


def _first(options: list, required: bool):
    """(present, value): the value the oracle gives for one parameter's options.

    ``""`` among the options means "may be omitted": an optional parameter is then left out.
    BFCL marks a few *required* parameters that way too, and its checker still rejects a call
    without them, so a required one gets its first real option, or ``""`` when that is the only
    one (the checker compares strings after stripping, so ``""`` matches).
    """
    values = [o for o in options if o != ""]
    if "" in options and not required:
        return False, None
    if values:
        return True, values[0]
    return (True, "") if required else (False, None)


def _gold_value(option, schema: dict):
    """A concrete value from a BFCL option; nested dicts hold option lists one level down."""
    t = schema.get("type")
    if t == "dict" and isinstance(option, dict):
        return {k: v for k, (ok, v) in ((k, _first(opts, False)) for k, opts in option.items()) if ok}
    if t == "array" and (schema.get("items") or {}).get("type") == "dict" and isinstance(option, list):
        return [_gold_value(d, {"type": "dict"}) for d in option]
    return option


class OraclePredictor:
    """Returns BFCL's gold answer. For testing the harness ONLY: its score means nothing."""

    def __init__(self, quiet: bool = False, **opts):
        self.info = {"name": "oracle", "oracle": True}
        if not quiet:
            print("WARNING: the 'oracle' predictor answers from BFCL's possible_answer files. "
                  "It tests the harness; its scores are NOT model results.", file=sys.stderr)
        self._items = {}
        for category in KNOWN_CATEGORIES:
            for item in load_category(category):
                self._items[item.id] = item

    def _calls(self, request: dict) -> list[dict]:
        item = self._items[request["id"]]
        if item.ground_truth is None:
            return []
        request_names = {t["function"]["name"] for t in request["tools"]}
        sanitized = sanitize_names([f["name"] for f in item.functions])
        to_request_name = {orig: new for new, orig in sanitized.items()}
        docs = {f["name"]: f for f in item.functions}
        calls = []
        for gold in item.ground_truth:
            (name, params), = gold.items()
            props = docs[name]["parameters"].get("properties", {})
            required = set(docs[name]["parameters"].get("required", []))
            args = {}
            for p, options in params.items():
                ok, value = _first(options, p in required)
                if ok and p in props:  # a few answers name parameters the function lacks
                    args[p] = _gold_value(value, props[p])
            out_name = name if name in request_names else to_request_name[name]
            arguments = json.dumps(args, ensure_ascii=False)
            calls.append({"type": "function", "function": {"name": out_name, "arguments": arguments}})
        return calls

    def __call__(self, requests: list[dict]) -> list[dict]:
        t0 = time.perf_counter()
        return [_response(r["id"], "", self._calls(r), t0) for r in requests]
