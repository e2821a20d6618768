"""The dev-split evaluator (`edgeagent eval dev`): items, scoring, and a run that survives errors."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgeagent.evals import dev

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def item(kind="tool", calls=()):
    return {"id": "x", "kind": kind, "source": "glaive_en", "calls": list(calls),
            "request": {"id": "x", "messages": [{"role": "user", "content": "hi"}], "tools": []}}


def response(*calls, seconds=0.5):
    return {"mode": "tool" if calls else "chat", "content": "" if calls else "Hello.",
            "tool_calls": [{"id": f"c{i}", "type": "function",
                            "function": {"name": n, "arguments": a if isinstance(a, str) else json.dumps(a)}}
                           for i, (n, a) in enumerate(calls)],
            "timings": {"total_s": seconds}}


LOAN = {"name": "loan", "arguments": {"amount": 200000, "rate": 5, "term": 30}}
AVG = {"name": "avg", "arguments": {"numbers": [8, 80]}}


def test_numbers_compare_by_value_and_call_order_does_not_matter():
    row = dev.score_item(item(calls=[LOAN, AVG]),
                         response(("avg", {"numbers": [8.0, 80]}), ("loan", {"term": 30, "rate": 5.0, "amount": 200000})))
    assert row["correct"] and row["values_right"] == row["values"] == 4


def test_a_wrong_value_fails_the_call_and_counts_per_value():
    row = dev.score_item(item(calls=[LOAN]), response(("loan", {"amount": 200000, "rate": 7, "term": 30})))
    assert not row["correct"] and (row["values_right"], row["values"]) == (2, 3) and row["first_function_right"]
    assert not dev.score_item(item(calls=[LOAN]), response(("avg", LOAN["arguments"])))["first_function_right"]
    # a string is not the number it spells, and a missing call scores nothing
    assert not dev.score_item(item(calls=[LOAN]), response(("loan", {"amount": "200000", "rate": 5,
                                                                     "term": 30})))["correct"]
    extra = dev.score_item(item(calls=[LOAN]), response(("loan", LOAN["arguments"]), ("loan", LOAN["arguments"])))
    assert not extra["correct"] and extra["values_right"] == 3 and extra["values_said"] == 6


def test_unparseable_arguments_and_prose_score_as_wrong_without_raising():
    row = dev.score_item(item(calls=[LOAN]), response(("loan", "{not json")))
    assert not row["correct"] and row["values_right"] == 0
    assert not dev.score_item(item(calls=[LOAN]), response())["called"]
    assert dev.score_item(item("no_call"), response())["correct"]
    assert not dev.score_item(item("no_call"), response(("loan", LOAN["arguments"])))["correct"]


def test_a_failing_predictor_is_recorded_and_the_run_goes_on():
    items = [item(calls=[LOAN]), item(calls=[AVG]), item("no_call")]

    def predict(requests):
        if predict.n == 1:
            predict.n += 1
            raise RuntimeError("boom")
        predict.n += 1
        return [response(("loan", LOAN["arguments"]), seconds=2.0)]

    predict.n = 0
    rep = dev.evaluate(predict, items, progress=False)
    s = rep["summary"]
    assert s["errors"] == 1 and [r["correct"] for r in rep["items"]] == [True, False, False]
    assert (s["calls_exact"], s["values_exact"], s["no_call_correct"]) == (0.5, 0.75, 0.0)
    assert s["values_precise"] == 1.0       # the failed item said nothing; the no-call item does not count
    assert s["call_latency"]["n"] == 1 and s["call_latency"]["median_s"] == 2.0
    assert "| 50.0% | 75.0% | 100.0% |" in dev.markdown({"x": rep})


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data is not present")
def test_dev_items_are_held_out_requests_without_tool_choice():
    items = dev.dev_items("cpu", n_tool=6, n_no_call=4)
    kinds = [it["kind"] for it in items]
    assert kinds.count("tool") == 6 and kinds.count("no_call") == 4
    assert len({it["id"] for it in items}) == len(items)
    for it in items:
        assert "tool_choice" not in it["request"] and it["request"]["tools"]
        assert bool(it["calls"]) == (it["kind"] == "tool")
        assert all(isinstance(c["arguments"], dict) for c in it["calls"])
    # the reference calls themselves score full marks
    oracle = {it["id"]: response(*[(c["name"], c["arguments"]) for c in it["calls"]]) for it in items}
    rep = dev.evaluate(lambda reqs: [oracle[reqs[0]["id"]]], items, progress=False)
    assert rep["summary"]["calls_exact"] == rep["summary"]["values_exact"] == rep["summary"]["no_call_correct"] == 1.0
    assert rep["summary"]["values_precise"] == 1.0


def test_dev_splits_are_single_requests_whose_call_the_request_writes():
    from edgeagent.data.augment import _leaves, _states

    items = dev.dev_items("cpu", n_tool=None, n_no_call=None, splits="only")
    tool = [it for it in items if it["kind"] == "tool"]
    assert tool and len(tool) < len(items)            # calls, and their negatives
    for it in tool:
        (user,) = [m for m in it["request"]["messages"] if m["role"] == "user"]
        (call,) = it["calls"]
        assert call["name"] in {t["function"]["name"] for t in it["request"]["tools"]}
        assert all(_states(user["content"], v) for v in _leaves(call["arguments"]))
    default = {it["id"] for it in dev.dev_items("cpu", n_tool=None, n_no_call=None)}
    assert not default & {it["id"] for it in items}


def test_cli_names_an_unknown_predictor():
    from edgeagent.commands.eval import eval_group

    res = CliRunner().invoke(eval_group, ["dev", "--baseline", "diffusion,nope"])
    assert res.exit_code != 0 and "nope" in res.output and "--baseline" in res.output


def test_set_reads_pipeline_fields_as_json_and_names_a_bad_key():
    from edgeagent.commands.eval import eval_group

    res = CliRunner().invoke(eval_group, ["dev", "--baseline", "diffusion", "--set", "end_wieght=4"])
    assert res.exit_code != 0 and "end_wieght" in res.output and "end_weight" in res.output
    res = CliRunner().invoke(eval_group, ["dev", "--baseline", "diffusion", "--set", "end_weight"])
    assert res.exit_code != 0 and "KEY=VALUE" in res.output
    from edgeagent.commands.eval import _pipeline_overrides

    got = _pipeline_overrides(None, None, ("end_weight=4", "anchor_route=null", "select=trunk", "prefix_cache=false"))
    assert got == {"end_weight": 4, "anchor_route": None, "select": "trunk", "prefix_cache": False}
    from edgeagent.commands.eval import _with_overrides
    from edgeagent.runtime.pipeline import PipelineConfig

    got = _pipeline_overrides(None, None, ("end_weight=4", "rules.list_goes_on=false", "rules.absent_bias=1.5"))
    cfg = _with_overrides(PipelineConfig(), got)
    assert cfg.end_weight == 4 and not cfg.rules.list_goes_on and cfg.rules.absent_bias == 1.5
    assert cfg.rules.length_penalty == PipelineConfig().rules.length_penalty           # the others kept
    res = CliRunner().invoke(eval_group, ["dev", "--baseline", "diffusion", "--set", "rules.nope=1"])
    assert res.exit_code != 0 and "rules.list_goes_on" in res.output
