"""Scoring rules, robustness to bad responses, structure and latency metrics, the CLI, plots."""

import json

import pytest
from click.testing import CliRunner

pytest.importorskip("bfcl_eval")

from edgeagent.cli import main  # noqa: E402
from edgeagent.evals import bfcl, evaluate, get_predictor  # noqa: E402
from edgeagent.evals.harness import latency_metrics, run_items, structure_metrics  # noqa: E402
from edgeagent.evals.predictors import UnknownPredictor  # noqa: E402
from edgeagent.evals.scoring import score  # noqa: E402


@pytest.fixture(scope="module")
def oracle():
    return get_predictor("oracle", quiet=True)


def _item(category, index=0):
    return bfcl.load_category(category)[index]


def _call(name, args):
    return {"function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}


def _resp(item_id, calls, **timings):
    return {"id": item_id, "mode": "tool", "content": "", "tool_calls": calls, "timings": timings}


def _gold_call(oracle, item):
    return oracle([item.request])[0]["tool_calls"]


def test_gold_call_is_correct(oracle):
    item = _item("simple_python")  # calculate_triangle_area(base=10, height=5)
    assert score(item, _resp(item.id, _gold_call(oracle, item))).correct


def test_a_wrong_value_is_wrong(oracle):
    item = _item("simple_python")
    call = _gold_call(oracle, item)[0]
    args = json.loads(call["function"]["arguments"])
    args["base"] = args["base"] + 1
    res = score(item, _resp(item.id, [_call(call["function"]["name"], args)]))
    assert not res.correct and res.error_type.startswith("value_error")
    assert res.calls[0].valid  # structurally fine: wrong only in value


def test_an_invented_function_name_is_wrong_and_counted(oracle):
    item = _item("simple_python")
    args = json.loads(_gold_call(oracle, item)[0]["function"]["arguments"])
    res = score(item, _resp(item.id, [_call("triangle_area_v2", args)]))
    assert not res.correct and res.error_type == "simple_function_checker:wrong_func_name"
    st = structure_metrics([res])
    assert st["invented_function_calls"] == 1 and st["invented_function_names"] == ["triangle_area_v2"]
    assert st["valid_rate"] == 0.0 and st["parse_rate"] == 1.0


def test_an_invented_parameter_is_wrong_and_counted(oracle):
    item = _item("simple_python")
    call = _gold_call(oracle, item)[0]
    args = {**json.loads(call["function"]["arguments"]), "colour": "red"}
    res = score(item, _resp(item.id, [_call(call["function"]["name"], args)]))
    assert not res.correct and res.error_type == "simple_function_checker:unexpected_param"
    assert res.calls[0].invented_params == ["colour"]
    st = structure_metrics([res])
    assert st["calls_with_invented_params"] == st["invented_param_count"] == 1
    assert st["top_invented_params"] == [("colour", 1)]


def test_parallel_calls_score_in_any_order_but_simple_wants_one_call(oracle):
    item = _item("parallel")
    calls = _gold_call(oracle, item)
    assert len(calls) > 1
    assert score(item, _resp(item.id, calls[::-1])).correct
    simple = _item("simple_python")
    twice = _gold_call(oracle, simple) * 2
    res = score(simple, _resp(simple.id, twice))
    assert not res.correct and res.error_type == "simple_function_checker:wrong_count"


def test_irrelevance_is_correct_only_without_a_call():
    item = _item("irrelevance")
    name = item.request["tools"][0]["function"]["name"]
    assert score(item, _resp(item.id, [])).correct
    assert score(item, {"id": item.id, "content": "no tool fits"}).correct  # tool_calls absent
    res = score(item, _resp(item.id, [_call(name, {})]))
    assert not res.correct and res.error_type == "irrelevance_error:decoder_success"


@pytest.mark.parametrize("bad", [
    None, "text", {"id": "x", "tool_calls": "not a list"}, {"id": "x", "tool_calls": [{"function": {}}]},
    {"id": "x", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]},  # dict, not JSON text
])
def test_a_malformed_response_is_wrong_not_a_crash(bad):
    for category in ("simple_python", "irrelevance"):
        res = score(_item(category), bad)
        assert not res.correct and res.error_type == "response_error" and res.error


def test_arguments_that_are_not_json_fail_ast_and_count_as_no_call_for_irrelevance(oracle):
    item = _item("simple_python")
    name = item.request["tools"][0]["function"]["name"]
    res = score(item, _resp(item.id, [_call(name, '{"base": 10, "height": ')]))
    assert not res.correct and res.error_type == "ast_decoder:decoder_failed"
    assert structure_metrics([res])["parse_rate"] == 0.0
    irr = _item("irrelevance")
    # BFCL: output that does not decode holds no function call, so irrelevance counts it correct
    res = score(irr, _resp(irr.id, [_call(irr.request["tools"][0]["function"]["name"], "{oops")]))
    assert res.correct and res.calls[0].parsed is False
    res = score(item, _resp(item.id, [_call(name, "[1, 2]")]))  # JSON, but not an object
    assert not res.correct and res.error_type == "ast_decoder:decoder_wrong_output_format"


def test_a_failing_predictor_never_ends_the_run(oracle):
    items = bfcl.load_category("simple_python")[:6]
    calls = {"n": 0}

    def flaky(requests):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("CUDA out of memory")
        out = oracle(requests)
        return out[:-1] + ["garbage"]  # last one malformed

    results = run_items(flaky, items, batch_size=3, progress=False)
    assert [r.correct for r in results] == [False, False, False, True, True, False]
    assert results[0].error_type == "predictor_error" and "out of memory" in results[0].error
    assert results[-1].error_type == "response_error"


def test_missing_and_reordered_responses_are_matched_by_id(oracle):
    items = bfcl.load_category("multiple")[:3]
    responses = oracle([it.request for it in items])
    results = run_items(lambda reqs: responses[::-1][:2], items, batch_size=3, progress=False)
    assert [r.correct for r in results] == [False, True, True]
    assert results[0].error_type == "missing_response"


def test_latency_stats_come_from_the_timings(oracle):
    items = bfcl.load_category("simple_python")[:10]

    def timed(requests):
        return [{**r, "timings": {"call_s": 0.1 * (i + 1), "total_s": 1.0}}
                for i, r in enumerate(oracle(requests))]

    lat = latency_metrics(run_items(timed, items, batch_size=10, progress=False))
    assert lat["call_s"]["n"] == 10
    assert lat["call_s"]["median"] == pytest.approx(0.55)
    assert lat["call_s"]["p90"] == pytest.approx(0.91)
    assert lat["total_s"]["median"] == 1.0 and "harness_s" in lat


def test_unknown_predictor_names_what_exists():
    with pytest.raises(UnknownPredictor, match="Available: .*diffusion.*no-call, oracle") as e:
        get_predictor("no-such-predictor")
    assert "no-such-predictor" in str(e.value)


def test_cli_runs_end_to_end_and_writes_reports(tmp_path):
    out = tmp_path / "ev"
    r = CliRunner().invoke(main, ["eval", "bfcl", "--baseline", "no-call,oracle", "--categories",
                                  "simple_python,irrelevance", "--limit", "4", "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    for run in ("no-call", "oracle"):
        rep = json.loads((out / run / "report.json").read_text())
        assert rep["categories"]["simple_python"]["total"] == 4 and "items" not in rep
        assert len((out / run / "results.jsonl").read_text().splitlines()) == 8
    assert json.loads((out / "oracle" / "report.json").read_text())["oracle"] is True
    assert "(ORACLE)" in (out / "summary.md").read_text()


def test_cli_rejects_unknown_predictors_and_categories(tmp_path):
    r = CliRunner().invoke(main, ["eval", "bfcl", "--baseline", "no-such-predictor", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "unknown predictor(s) no-such-predictor" in r.output
    assert "diffusion" in r.output and "no-call, oracle" in r.output
    r = CliRunner().invoke(main, ["eval", "bfcl", "--baseline", "no-call", "--categories", "simple_java"])
    assert r.exit_code == 2 and "unknown categories simple_java" in r.output
    r = CliRunner().invoke(main, ["eval", "bfcl", "--baseline", "no-call", "--steps", "1,x"])
    assert r.exit_code == 2


def test_plot_writes_a_png(tmp_path, oracle):
    pytest.importorskip("matplotlib")
    from edgeagent.evals import plot

    class Stepped:
        def __init__(self, t):
            self.info = {"name": "fake-diffusion", "steps": t}

        def __call__(self, requests):
            return [{**r, "timings": {"call_s": 0.01 * self.info["steps"]}} for r in oracle(requests)]

    cats = ["simple_python", "irrelevance"]
    reports = {f"T{t}": evaluate(Stepped(t), categories=cats, limit=3, progress=False) for t in (1, 2, 4)}
    reports["no-call"] = evaluate(get_predictor("no-call"), categories=cats, limit=3, progress=False)
    path = plot(reports, tmp_path / "p.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_says_that_artifacts_bring_their_own_heads(tmp_path):
    (tmp_path / "art").mkdir()
    (tmp_path / "heads").mkdir()
    r = CliRunner().invoke(main, ["eval", "bfcl", "--baseline", "no-call", "--categories", "irrelevance", "--limit", "1",
                                  "--artifacts", str(tmp_path / "art"), "--heads", str(tmp_path / "heads"),
                                  "--out", str(tmp_path / "ev"), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "not --heads" in r.output and "edgeagent export --heads" in r.output


def test_cli_loads_every_run_before_scoring_any(tmp_path):
    """A run that cannot load stops the command before the runs ahead of it are scored."""
    (tmp_path / "art").mkdir()
    (tmp_path / "lora").mkdir()
    out = tmp_path / "ev"
    r = CliRunner().invoke(main, ["eval", "bfcl", "--baseline", "no-call,lora-ar", "--categories", "irrelevance",
                                  "--limit", "1", "--artifacts", str(tmp_path / "art"),
                                  "--lora", str(tmp_path / "lora"), "--out", str(out), "--quiet"])
    assert r.exit_code == 1 and "lora-ar: " in r.output and "edgeagent export --lora" in r.output
    assert not (out / "no-call").exists()
