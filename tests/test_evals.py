"""BFCL data, schema conversion and the official AST checker's wiring (no model needed)."""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

pytest.importorskip("bfcl_eval")

from edgeagent.evals import bfcl, evaluate, get_predictor  # noqa: E402
from edgeagent.evals.harness import sample  # noqa: E402
from edgeagent.evals.schema import _bfcl_pre, bfcl_tool, params_schema  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BFCL_TYPES = {"dict", "float", "tuple", "any"}
META = Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def oracle():
    return get_predictor("oracle", quiet=True)


def _types(schema):
    """Every "type" value in a schema, however nested."""
    if isinstance(schema, dict):
        for k, v in schema.items():
            if k == "type":
                yield from (v if isinstance(v, list) else [v])
            elif k == "properties":  # a parameter may be called "type"
                for sub in v.values():
                    yield from _types(sub)
            elif k not in ("enum", "default", "const", "examples", "example"):
                yield from _types(v)
    elif isinstance(schema, list):
        for v in schema:
            yield from _types(v)


@pytest.mark.parametrize("category", bfcl.DEFAULT_CATEGORIES)
def test_every_function_becomes_a_valid_json_schema(category):
    items = bfcl.load_category(category)
    assert len(items) == bfcl.category_size(category) > 0
    seen = set()  # live categories repeat the same functions many times; check each once
    for item in items:
        assert [t["function"]["name"] for t in item.request["tools"]] == [f["name"] for f in item.functions]
        for tool in item.request["tools"]:
            params = tool["function"]["parameters"]
            key = json.dumps(params, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            META.validate(params)  # what Draft202012Validator.check_schema does, built once
            assert params["type"] == "object" and isinstance(params["properties"], dict)
            assert not BFCL_TYPES & set(_types(params)), (item.id, tool["function"]["name"])
        assert item.request["messages"] and all(m["role"] in ("system", "user", "assistant")
                                                for m in item.request["messages"])
        assert (item.ground_truth is None) == bfcl.is_irrelevance(category)


def test_bfcl_types_map_to_json_schema():
    fn = {"name": "geo.dist", "description": "Distance.", "parameters": {
        "type": "dict", "required": ["a", "b"],
        "properties": {
            "a": {"type": "tuple", "items": {"type": "float"}, "description": "point"},
            "b": {"type": "dict", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
            "c": {"type": "any", "description": "anything", "optional": True},
            "d": {"type": "integer", "default": "none", "description": "n"},
        }}}
    tool = bfcl_tool(fn)
    p = tool["function"]["parameters"]
    assert tool["function"]["name"] == "geo.dist"
    assert tool["function"]["description"].endswith("Python 3 syntax.")
    assert p["type"] == "object" and p["required"] == ["a", "b"]
    assert p["properties"]["a"] == {"type": "array", "items": {"type": "number"}, "description": "point"}
    assert p["properties"]["b"]["type"] == "object" and p["properties"]["b"]["required"] == ["x"]
    assert p["properties"]["c"] == {"type": "string", "description": "anything"}  # "optional" dropped
    # a default of the wrong type moves into the description (convert.py's rule)
    assert p["properties"]["d"] == {"type": "integer", "description": 'n (default: "none")'}


def _convert_py():
    for path in (ROOT / "shared" / "data" / "convert.py", ROOT.parent / "shared" / "data" / "convert.py"):
        if path.exists():
            spec = importlib.util.spec_from_file_location("shared_convert", path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            return mod
    pytest.skip("shared/data/convert.py (the training-data normaliser) is not in this checkout")


def test_conversion_uses_the_training_data_rules():
    convert = _convert_py()
    n = 0
    for category in bfcl.DEFAULT_CATEGORIES:
        for item in bfcl.load_category(category):
            for f in item.functions:
                pre = _bfcl_pre(f["parameters"])
                assert params_schema(pre) == convert.params_schema(pre), (item.id, f["name"])
                n += 1
    assert n > 8000


def test_sanitized_names_are_reversible_and_unique():
    m = bfcl.sanitize_names(["a.b", "a_b", "math.factorial", "ok-name"])
    assert sorted(m.values()) == ["a.b", "a_b", "math.factorial", "ok-name"]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", k) for k in m)
    assert len(m) == 4


def test_sample_is_seeded_and_deterministic():
    items = bfcl.load_category("simple_python")
    a, b, c = (sample(items, 20, s) for s in (0, 0, 1))
    assert [i.id for i in a] == [i.id for i in b] != [i.id for i in c]
    assert len(a) == 20 and sample(items, None, 0) == items


@pytest.mark.parametrize("category", bfcl.DEFAULT_CATEGORIES)
def test_oracle_scores_full_marks_on_a_sample(oracle, category):
    items = [it for it in sample(bfcl.load_category(category), 25, seed=3) if it.id not in bfcl.UNSOLVABLE]
    responses = oracle([it.request for it in items])
    from edgeagent.evals.scoring import score

    results = [score(it, r) for it, r in zip(items, responses)]
    assert [r.error for r in results if not r.correct] == []
    assert all(c.parsed and c.known_name for r in results for c in r.calls)


def test_oracle_fails_exactly_the_known_unsolvable_items(oracle):
    """Runs the whole of every known category: the checker wiring must pass every gold answer
    except the few BFCL items no output can pass (so the list in bfcl.UNSOLVABLE stays true)."""
    report = evaluate(oracle, categories=bfcl.KNOWN_CATEGORIES, progress=False, batch_size=256)
    wrong = {it["id"] for it in report["items"] if not it["correct"]}
    assert wrong == set(bfcl.UNSOLVABLE)
    assert report["oracle"] is True and report["summary"]["non_live_ast"] == 1.0


def test_oracle_with_sanitized_names_still_scores(oracle):
    items = sample(bfcl.load_category("parallel_multiple", sanitize=True), 30, seed=0)
    names = [t["function"]["name"] for it in items for t in it.request["tools"]]
    assert any("." in f["name"] for it in items for f in it.functions)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", n) for n in names)
    from edgeagent.evals.scoring import score

    assert all(score(it, r).correct for it, r in zip(items, oracle([it.request for it in items])))


def test_no_call_aces_irrelevance_and_fails_simple():
    report = evaluate(get_predictor("no-call"), categories=["irrelevance", "live_irrelevance", "simple_python"],
                      limit=30, progress=False)
    cats = report["categories"]
    assert cats["irrelevance"]["accuracy"] == cats["live_irrelevance"]["accuracy"] == 1.0
    assert cats["simple_python"]["accuracy"] == 0.0
    assert cats["irrelevance"]["modes"] == {"chat": 30}
    assert report["summary"]["irrelevance"] == 1.0
    assert report["summary"]["non_live_ast"] is None  # multiple/parallel were not run
    assert report["oracle"] is False and report["structure"]["calls"] == 0


def test_checker_import_needs_no_model_registry():
    code = ("import sys\n"
            "from edgeagent.evals.bfcl import load_ast_checker\n"
            "c = load_ast_checker()\n"
            "assert 'bfcl_eval.constants.model_config' not in sys.modules\n"
            "heavy = [m for m in ('openai', 'anthropic', 'torch', 'bfcl_eval.model_handler') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "assert c.MODEL_CONFIG_MAPPING['edgeagent'].underscore_to_dot is False\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_nothing_under_train_reads_bfcl():
    """BFCL is the benchmark only: no training code may import the harness or touch BFCL files."""
    banned = ("bfcl_eval", "edgeagent.evals", "BFCL_v4", "possible_answer")
    hits = [f"{p.relative_to(ROOT)}: {b}" for p in sorted((ROOT / "train").rglob("*.py"))
            for b in banned if b in p.read_text(encoding="utf-8")]
    assert hits == []


def test_paired_latency_compares_runs_item_by_item_on_the_items_both_called():
    from edgeagent.evals.harness import paired_latency, paired_markdown

    def item(i, n_calls, total, prefill=0.5):
        return {"id": f"x{i}", "n_calls": n_calls, "timings": {"total_s": total, "prefill_s": prefill}}

    reports = {"fast": {"items": [item(0, 1, 1.0), item(1, 1, 2.0), item(2, 0, 0.1), item(3, 1, 9.0)]},
               "ref": {"items": [item(0, 1, 2.0), item(1, 1, 4.0), item(2, 1, 3.0), item(3, 0, 0.2)]}}
    p = paired_latency(reports, "ref")
    run = p["runs"]["fast"]
    assert p["reference"] == "ref" and run["items"] == 2                    # x2 and x3: one side made no call
    assert run["run"]["p50"] == 1.5 and run["reference"]["p50"] == 3.0 and run["ratio_of_p50"] == 0.5
    assert run["median_item_ratio"] == 0.5 and run["run"]["after_prefill_p50"] == 1.0
    assert "| fast | 2 |" in paired_markdown(p) and "0.50x" in paired_markdown(p)
    assert paired_latency({**reports, "none": {"items": [item(0, 0, 1.0)]}}, "ref")["runs"].keys() == {"fast"}
