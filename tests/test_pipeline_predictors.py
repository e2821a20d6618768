"""BFCL predictors on the routed pipeline (edgeagent/evals/pipeline_predictors.py).

Tiny random trunk and heads: every response is well formed (id, mode, tool_calls with JSON string
arguments that validate), bad requests become call-less responses with an error, lora-ar without
weights names the training command. The real-model CLI run is marked model + slow.
"""

import json
import os
from pathlib import Path

import jsonschema
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from edgeagent.evals import pipeline_predictors as pp  # noqa: E402
from edgeagent.evals.predictors import PREDICTORS, get_predictor  # noqa: E402

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]},
                                         "days": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["city", "days"]}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {
        "type": "object", "properties": {"tz": {"type": "string"}, "exact": {"type": "boolean"}}, "required": ["tz"]}}},
]
USER = [{"role": "user", "content": "Weather in Tokyo for 3 days?"}]
GOOD = [{"id": "a", "messages": USER, "tools": TOOLS, "tool_choice": "required"},
        {"id": "b", "messages": USER, "tools": TOOLS},
        {"id": "c", "messages": USER, "tools": TOOLS, "tool_choice": "none"}]
BAD = [{"id": "d", "messages": []},
       {"id": "e", "messages": USER, "tool_choice": "required", "tools": [{"function": {"name": "f", "parameters": {
           "type": "object", "properties": {"a": {"allOf": [{"type": "string"}]}}}}}]},
       "not a request"]


@pytest.fixture(scope="module")
def backend(tiny_backend):
    return tiny_backend


def _well_formed(resp, rid):
    assert resp["id"] == rid and isinstance(resp["content"], str) and "total_s" in resp["timings"]
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}
    for call in resp["tool_calls"]:
        assert call["type"] == "function" and isinstance(call["function"]["arguments"], str)
        jsonschema.validate(json.loads(call["function"]["arguments"]), schemas[call["function"]["name"]])


@pytest.mark.parametrize("factory", [pp.diffusion, pp.diffusion_nospan, pp.ar_constrained])
def test_predictors_answer_good_and_bad_requests(backend, factory):
    predict = factory(backend=backend, heads="unused", max_new_tokens=4)
    out = predict(GOOD + BAD)
    assert len(out) == len(GOOD + BAD)
    for req, resp in zip(GOOD, out):
        _well_formed(resp, req["id"])
        assert "error" not in resp
    assert out[0]["tool_calls"] or out[0].get("errors")       # required: a call (or a reported failure)
    assert out[2]["tool_calls"] == []                          # none: never a call
    for req, resp in zip(BAD, out[len(GOOD):]):
        assert resp["tool_calls"] == [] and resp["mode"] == "error" and resp["error"]
    assert out[3]["error"].startswith("messages") and "allOf" in out[4]["error"]
    assert out[5]["id"] is None and "request" in out[5]["error"]
    info = predict.info
    assert info["backend"] == "torch" and info["name"] in PREDICTORS and info["heads"]
    assert info["use_span"] == (factory is not pp.diffusion_nospan)
    assert info["args_decoder"] == ("ar" if factory is pp.ar_constrained else "diffusion")


def test_registry_and_steps_sweep():
    assert PREDICTORS["diffusion"].sweeps_steps
    assert not PREDICTORS["ar-constrained"].sweeps_steps and not PREDICTORS["lora-ar"].sweeps_steps
    assert PREDICTORS["diffusion-noanchor"].sweeps_steps
    for name in ("diffusion", "diffusion-noanchor", "diffusion-norules", "diffusion-nospan", "ar-constrained",
                 "lora-ar"):
        module, _, attr = PREDICTORS[name].target.partition(":")
        assert callable(getattr(__import__(module, fromlist=[attr]), attr))


def test_the_anchor_ablation_turns_only_the_anchors_off(backend):
    from edgeagent.runtime.pipeline import PipelineConfig

    on, off = pp.diffusion(backend=backend, steps=1).pipeline.cfg, pp.diffusion_noanchor(backend=backend).pipeline.cfg
    assert on.anchor_weight == PipelineConfig().anchor_weight and on.end_weight == PipelineConfig().end_weight
    assert {**vars(on), "anchor_weight": 0.0, "anchor_route": None, "end_weight": 0.0} == vars(off)


def test_the_rules_ablation_turns_only_the_rules_off(backend):
    from edgeagent.runtime.rules import SpanRules

    on, off = pp.diffusion(backend=backend, steps=1).pipeline.cfg, pp.diffusion_norules(backend=backend).pipeline.cfg
    assert on.rules == SpanRules() and off.rules == SpanRules.off() != SpanRules()
    assert {**vars(on), "rules": off.rules} == vars(off)


def test_the_ar_baseline_rewrites_no_value(backend):
    """(a) decodes as the issue defines it: no value of a written call is restated afterwards
    (SpanRules.stated_values and percent_fractions off), while the diffusion path restates."""
    ar = pp.ar_constrained(backend=backend).pipeline.cfg.rules
    ours = pp.diffusion(backend=backend, steps=1).pipeline.cfg.rules
    assert not ar.stated_values and not ar.percent_fractions
    assert ours.stated_values and ours.percent_fractions


def test_steps_reach_the_pipeline(backend):
    assert pp.diffusion(backend=backend, steps=4).pipeline.cfg.steps == 4
    assert pp.diffusion(backend=backend, steps=4).info["steps"] == 4


def test_lora_ar_without_weights_names_the_training_command(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        get_predictor("lora-ar", lora=tmp_path / "nope")
    assert "edgeagent train --stage lora" in str(e.value) and "nope" in str(e.value)


def test_artifacts_without_the_ort_backend_is_a_clear_error(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_ort(name, *a, **k):
        if name == "edgeagent.runtime.ort_backend":
            raise ImportError("missing for the test")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_ort)
    with pytest.raises(RuntimeError, match="ONNX Runtime backend"):
        pp.diffusion(artifacts=tmp_path)


def test_decision_token_backend_decides_by_the_trunks_next_token(backend):
    """lora-ar: tool iff the trunk's best next token starts the call header; the same for another call."""
    db = pp.DecisionTokenBackend(backend)
    cache = db.new_cache()
    db.prefill(np.asarray(backend.tokenizer.encode("hello", add_special_tokens=False).ids, np.int64), cache)
    best = int(np.argmax(db._last))
    mode = db.mode_logits(None)
    assert (int(np.argmax(mode)) == 2) == (best == db.tool_token) and mode[1] == -np.inf
    db._last[:] = 0.0
    db._last[db.tool_token] = 5.0
    assert int(np.argmax(db.mode_logits(None))) == 2
    db._last[db.another_token] = 9.0
    assert int(np.argmax(db.another_logits(None))) == 1
    predict = pp.lora_ar(backend=backend, max_new_tokens=4)
    for req, resp in zip(GOOD, predict(GOOD)):
        _well_formed(resp, req["id"])
    assert predict.info["mode_decision"].startswith("decision token")


def _model_cache_present() -> bool:
    try:
        from edgeagent.models.registry import resolve

        return Path(resolve("smollm2-135m")).exists()
    except Exception:
        return False


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(not _model_cache_present(), reason="the SmolLM2-135M checkpoint is not in the model cache")
def test_eval_bfcl_diffusion_end_to_end_on_the_shipped_heads(tmp_path):
    from click.testing import CliRunner

    from edgeagent.cli import main

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    res = CliRunner().invoke(main, ["eval", "bfcl", "--baseline", "diffusion", "--steps", "2", "--limit", "2", "--categories",
                                    "simple_python", "--out", str(tmp_path), "--quiet"])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "diffusion-T2" / "report.json").read_text())
    assert report["categories"]["simple_python"]["total"] == 2
    assert report["predictor"]["heads"].endswith("smollm2-135m") and report["predictor"]["backend"] == "torch"
    assert report["structure"]["invented_function_calls"] == 0
    assert report["structure"]["valid_rate"] in (None, 1.0)
