"""The tool gate (runtime/gate.py, train/gate.py): its features, its training, its file, and the
pipeline obeying it (tool_choice still first)."""

import json

import numpy as np
import pytest

from edgeagent.runtime.gate import GATE_FEATURES, GATE_FILE, ToolGate, first_request, gate_features
from edgeagent.runtime.select import MATCH_FEATURES, N_MATCH, match_features
from edgeagent.train.gate import gate_report, train_gate

BOOK = ("book_table", "Book a table at a restaurant", {"type": "object", "properties": {"people": {}}})
WEATHER = ("get_weather", "Current weather for a city", {"type": "object", "properties": {"city": {}}})


def test_features_take_the_best_tool_per_feature_and_the_earliest_mention():
    match = match_features("Book a table for 4 at Chez Panisse", [WEATHER, BOOK])
    f = gate_features([1.0, -2.0, 0.5], match)
    assert f.shape == (len(GATE_FEATURES),) == (1 + N_MATCH,)
    assert f[0] == pytest.approx(-0.5)                        # tool minus the best of chat and think
    name_cover = 1 + MATCH_FEATURES.index("name_cover")
    mention = 1 + MATCH_FEATURES.index("mention")
    assert f[name_cover] == pytest.approx(1.0)                 # book_table: both words in the request
    assert f[mention] == pytest.approx(match[:, MATCH_FEATURES.index("mention")].min())
    assert f[mention] < 1.0                                    # mentioned: a position, not the "none" 1


def test_only_a_first_request_is_gated():
    assert first_request([("system", "be brief", []), ("user", "hi", [])])
    assert not first_request([("user", "a table", []), ("assistant", "for when?", []), ("user", "at 7", [])])
    assert not first_request([("user", "a table", []), ("assistant", "", ["book_table"]), ("tool", "ok", [])])
    assert not first_request([])


def _data(n=400, seed=0):
    """Calls where the margin or the name cover is high; 1 in 4 of them with a wrong-sign margin."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 1, (n, len(GATE_FEATURES)))
    x[:, 0] = np.where(y == 1, 2.0, -2.0) * np.where(rng.random(n) < 0.25, -1, 1) + rng.normal(0, 0.5, n)
    x[:, 1] = np.where(y == 1, 0.9, 0.1) + rng.normal(0, 0.1, n)
    return {"x": x, "y": y, "mode": np.where(x[:, 0] > 0, 2, 0), "source": ["s"] * n}


def test_training_learns_what_separates_and_beats_the_margin_alone():
    data = _data()
    gate = train_gate(data)
    assert gate.weights[0] > 0 and gate.weights[1] > 0
    assert train_gate(data).weights == gate.weights          # Newton's method: no seed, same weights
    alone, gated = gate_report(None, data), gate_report(gate, data)
    assert alone["right"] < 0.8 < gated["right"]
    assert set(gated) >= {"calls_right", "prose_right", "balanced", "by_source"}


def test_a_gate_reads_only_the_features_it_is_given():
    gate = train_gate(_data(), features=["tool_margin"])
    assert gate.weights[0] > 0 and not any(gate.weights[1:])
    with pytest.raises(ValueError, match="none of"):
        train_gate(_data(), features=["tool_margin", "loudness"])


def test_groups_weigh_the_same_in_the_fit():
    """Two groups that disagree about the margin: the bigger one wins unless each weighs the same."""
    a, b = _data(600, seed=0), _data(200, seed=1)
    b["x"][:, 0] *= -1                                          # the small group's calls have low margins
    data = {k: np.concatenate([a[k], b[k]]) for k in ("x", "y", "mode")} | {"source": ["s"] * 800}
    items = train_gate(data, features=["tool_margin"]).weights[0]
    groups = train_gate(data, features=["tool_margin"], groups=["a"] * 600 + ["b"] * 200).weights[0]
    assert 0 < groups < items


def test_training_needs_both_kinds():
    data = _data()
    data["y"][:] = 1
    with pytest.raises(ValueError, match="both kinds"):
        train_gate(data)


def test_the_gate_file_round_trips_and_a_stale_one_is_refused(tmp_path):
    gate = train_gate(_data())
    gate.report = {"dev": {"right": 0.5}}
    gate.save(tmp_path)
    back = ToolGate.load(tmp_path)
    f = _data(5, seed=1)["x"]
    assert [back.prob(r) for r in f] == [gate.prob(r) for r in f] and back.report == gate.report
    assert ToolGate.load(tmp_path / "nowhere") is None
    stale = json.loads((tmp_path / GATE_FILE).read_text())
    stale["features"] = stale["features"][:-1]
    (tmp_path / GATE_FILE).write_text(json.dumps(stale))
    with pytest.raises(ValueError, match="retrain"):
        ToolGate.load(tmp_path)


def _fixed_gate(call: bool) -> ToolGate:
    """A gate that says ``call`` whatever it reads."""
    n = len(GATE_FEATURES)
    return ToolGate(weights=[0.0] * n, bias=5.0 if call else -5.0, mean=[0.0] * n, scale=[1.0] * n)


def test_the_pipeline_obeys_the_gate_and_tool_choice_overrides_it(tiny_backend, monkeypatch):
    pytest.importorskip("torch")
    from conftest import TOOLS
    from edgeagent.runtime.pipeline import Pipeline, PipelineConfig

    user = [{"role": "user", "content": "Weather in Tokyo?"}]
    pipe = Pipeline(tiny_backend, PipelineConfig(max_new_tokens=2, max_calls=1))
    monkeypatch.setattr(tiny_backend, "mode_logits", lambda state: np.array([0.0, -1.0, 3.0]))  # the head: tool
    monkeypatch.setattr(tiny_backend, "tool_gate", _fixed_gate(False), raising=False)
    assert pipe.respond({"messages": user, "tools": TOOLS})["mode"] == "chat"
    assert pipe.respond({"messages": user, "tools": TOOLS, "tool_choice": "required"})["mode"] == "tool"
    pipe.cfg.gate = False
    assert pipe.respond({"messages": user, "tools": TOOLS})["mode"] == "tool"
    pipe.cfg.gate = True
    monkeypatch.setattr(tiny_backend, "mode_logits", lambda state: np.array([3.0, -1.0, 0.0]))  # the head: chat
    monkeypatch.setattr(tiny_backend, "tool_gate", _fixed_gate(True))
    assert pipe.respond({"messages": user, "tools": TOOLS})["mode"] == "tool"
    assert pipe.respond({"messages": user, "tools": TOOLS, "tool_choice": "none"})["mode"] == "chat"
    assert pipe.respond({"messages": user})["mode"] == "chat"          # no tools listed: nothing to gate
    later = user + [{"role": "assistant", "content": "Which day?"}, {"role": "user", "content": "Today."}]
    assert pipe.respond({"messages": later, "tools": TOOLS})["mode"] == "chat"   # a dialog: the head decides


def test_gate_data_reads_the_first_requests_that_list_tools():
    pytest.importorskip("torch")
    from test_train import WEATHER, examples

    from edgeagent.data.examples import Example
    from edgeagent.scaffold.testing import tiny_tokenizer
    from edgeagent.train.gate import gate_data
    from edgeagent.train.prepare import Preparer

    ask = [{"role": "user", "content": "Weather please"}]
    negative = Example("n", "synthetic", 1, "chat", [{"role": "user", "content": "Tell me a joke"}], [WEATHER],
                       {"role": "assistant", "content": "No tool for that."}, ["n"])
    dialog = Example("d", "synthetic", 1, "chat", ask + [{"role": "assistant", "content": "Where?"},
                                                         {"role": "user", "content": "Oslo"}], [WEATHER],
                     {"role": "assistant", "content": "For how many days?"}, ["d"])
    tok = tiny_tokenizer()
    prep = Preparer(tok, "smollm2", max_len=2048)
    items = [prep(ex) for ex in examples(2) + [negative, dialog]]   # 2 calls, 2 chats without tools
    logits = np.tile([0.0, -1.0, 1.0], (len(items), 1))
    data = gate_data(items, logits, tok)
    assert data["y"].tolist() == [1, 1, 0]          # the chats list no tools; the dialog is no first request
    assert data["x"].shape == (3, len(GATE_FEATURES)) and (data["x"][:, 0] == 1.0).all()
    name_cover = 1 + MATCH_FEATURES.index("name_cover")
    assert data["x"][0, name_cover] > data["x"][2, name_cover]     # "weather" is in the request, not the joke


def test_gate_items_are_capped_per_kind_before_any_trunk_pass():
    pytest.importorskip("torch")
    from test_train import WEATHER, examples

    from edgeagent.data.examples import Example
    from edgeagent.scaffold.testing import tiny_tokenizer
    from edgeagent.train.gate import gate_data, gate_group, pick_gate_items
    from edgeagent.train.prepare import Preparer

    def negative(i, source):
        ex = Example(f"n{i}", "sgd", 1, "chat", [{"role": "user", "content": f"Tell me joke {i}"}], [WEATHER],
                     {"role": "assistant", "content": "No tool for that."}, [f"n{i}"])
        item = prep(ex)
        item.source = source                            # as train/run.py prepare names it
        return item

    tok = tiny_tokenizer()
    prep = Preparer(tok, "smollm2", max_len=2048)
    calls = [prep(ex) for ex in examples(2)]
    shuffled = [negative(i, "sgd/negative+shuffle") for i in range(5)]
    plain = [negative(9, "sgd/negative")]
    items = calls + shuffled + plain
    assert {gate_group(it) for it in shuffled + plain} == {"sgd/negative:chat"}   # shuffles are no kind of their own
    everything = pick_gate_items(items, tok)
    assert everything == [0, 2] + list(range(4, 10))        # the two chats without tools are no gate items
    capped = pick_gate_items(items, tok, per_group=2, seed=3)
    assert capped == sorted(capped) and len([i for i in capped if i >= 4]) == 2
    assert capped == pick_gate_items(items, tok, per_group=2, seed=3)              # seeded
    data = gate_data([items[i] for i in capped], np.zeros((len(capped), 3)), tok)
    assert data["source"].count("sgd/negative") == 2 and set(data["group"]) >= {"sgd/negative:chat"}


def test_a_threshold_set_in_the_config_replaces_the_gates_own():
    n = len(GATE_FEATURES)
    gate = ToolGate(weights=[1.0] + [0.0] * (n - 1), bias=0.0, mean=[0.0] * n, scale=[1.0] * n, threshold=0.5)
    match = np.zeros((1, N_MATCH))
    logits = [0.0, 0.0, -0.5]                                   # tool 0.5 below chat: p(call) = 0.38
    assert gate.prob(gate_features(logits, match)) == pytest.approx(1 / (1 + np.exp(0.5)))
    assert not gate.calls(logits, match) and not gate.calls(logits, match, None)
    assert gate.calls(logits, match, 0.3) and not gate.calls(logits, match, 0.4)


def test_the_config_refuses_a_threshold_that_is_no_probability():
    from edgeagent.runtime.pipeline import PipelineConfig

    assert PipelineConfig(gate_threshold=0.3).gate_threshold == 0.3
    with pytest.raises(ValueError, match="gate_threshold"):
        PipelineConfig(gate_threshold=1.5)
