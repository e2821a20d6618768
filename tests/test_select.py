"""The tool-selection head: its match features, the head's properties, its training, and the
pipeline choosing by it (tiny trunk and random or toy weights; seconds on CPU)."""

import numpy as np
import pytest

from edgeagent.formats import render_prompt
from edgeagent.runtime.select import (DIALOG_FEATURES, FEATURES, N_DIALOG, N_MATCH, call_features, dialog_features,
                                      last_user_text, match_features, message_turns, name_words)
from edgeagent.scaffold.testing import tiny_tokenizer
from conftest import TOOLS

def _params(**props):
    return {"type": "object", "properties": {k: {"type": "string", "description": d} for k, d in props.items()}}


LISTED = [("findLiteraryAgent", "Find a literary agent for a book",
           _params(book_title="Title of the book", genre="Its genre")),
          ("updateEbookPrice", "Change the price of an e-book", _params(ebook_id="Which e-book", new_price="In dollars")),
          ("getDigitalPRMetrics", "Retrieve digital PR metrics of a campaign", _params(campaign_id="The campaign"))]
REQUEST = ("Please update the price of the e-book '1984' to 28.4, then find a literary agent for my "
           "book 'Clouds'.")


def test_name_words_split_camel_snake_and_digits():
    assert name_words("getDigitalPRMetrics") == ["get", "digi", "pr", "metr"]
    assert name_words("get_weather_v2") == ["get", "weat", "v", "2"]


def test_match_features_follow_the_request():
    m = match_features(REQUEST, LISTED)
    assert m.shape == (3, N_MATCH) == (3, len(FEATURES) - N_DIALOG - 2)
    # find / literary / agent all appear; update and price but not "ebook" (the request says e-book)
    assert m[0, 0] == 1.0 and m[1, 0] == pytest.approx(2 / 3) and m[2, 0] == 0.0
    assert m[1, 2] < m[0, 2] < 1.0 == m[2, 2]                     # "update ... price" comes before "find"
    assert m[0, 1] > m[2, 1]
    assert m[0, 3] < 1.0 and m[1, 3] < m[0, 3]             # descriptions are named in the same order
    assert m[:, 4].tolist() == pytest.approx([1.0, 2 / 3, 0.0])  # words of 4+ letters: no "get"
    f = {name: FEATURES.index(name) for name in ("param_cover", "param_desc", "desc_own")}
    # parameter words of 3+ letters: book / titl / genr, eboo / new / pric ("id" is too short), camp
    assert m[:, f["param_cover"]].tolist() == pytest.approx([1 / 3, 1 / 3, 0.0])
    assert m[:, f["param_desc"]].tolist() == pytest.approx([1 / 3, 1 / 3, 0.0])  # titl / book / genr, whic / book / doll
    # "book" is in two descriptions, so it tells neither apart: find / lite / agen, chan / pric
    assert m[:, f["desc_own"]].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert match_features(REQUEST, [(n, d, "not a schema") for n, d, _ in LISTED])[:, f["param_cover"]].tolist() == [0, 0, 0]
    called, nxt = FEATURES.index("called"), FEATURES.index("next_named")
    x = call_features(m, set())
    assert x.shape == (3, len(FEATURES)) and x[:, nxt].tolist() == [0, 1, 0]  # the next one named: update
    x = call_features(m, {1})
    assert x[:, called].tolist() == [0, 1, 0] and x[:, nxt].tolist() == [1, 0, 0]  # then find
    x = call_features(m, {0, 1})
    assert x[:, nxt].tolist() == [0, 0, 0]                                          # nothing named is left
    # a single request has no dialog before it: those columns are 0; given, they go in as they are
    dialog = slice(N_MATCH, N_MATCH + N_DIALOG)
    assert not x[:, dialog].any()
    d = np.arange(3 * N_DIALOG, dtype=np.float32).reshape(3, N_DIALOG)
    assert call_features(m, set(), d)[:, dialog].tolist() == d.tolist()


# an SGD-like dialog: the first request was searched, the assistant offers the next step
DIALOG_TOOLS = [("FindRestaurants", "Find restaurants by location and cuisine", _params(city="City")),
                ("ReserveRestaurant", "Reserve a table at a restaurant", _params(restaurant_name="Where")),
                ("GetWeather", "Get the weather of a city", _params(city="City"))]
DIALOG = [{"role": "user", "content": "Find me an Italian place in Oakland"},
          {"role": "assistant", "content": "", "tool_calls": [
              {"type": "function", "function": {"name": "FindRestaurants", "arguments": "{\"city\": \"Oakland\"}"}}]},
          {"role": "tool", "content": "[{\"restaurant_name\": \"Acme\"}]"},
          {"role": "assistant", "content": "Acme is nice. Shall I reserve a table there?"},
          {"role": "user", "content": "Yes please, at 7 pm"}]


def test_dialog_features_read_the_conversation_before_the_request():
    d = dialog_features(message_turns(DIALOG), DIALOG_TOOLS)
    assert d.shape == (3, N_DIALOG)
    col = {name: DIALOG_FEATURES.index(name) for name in DIALOG_FEATURES}
    assert d[:, col["called_before"]].tolist() == [1, 0, 0]
    assert d[:, col["last_called"]].tolist() == [1, 0, 0]
    # "Shall I reserve a table there?": reserve of reserve / restaurant; reserve and table of the
    # description's words of 4+ letters reserve / table / restaurant
    assert d[:, col["prev_name_cover"]].tolist() == pytest.approx([0.0, 0.5, 0.0])
    assert d[:, col["prev_desc_cover"]].tolist() == pytest.approx([0.0, 2 / 3, 0.0])
    # a single request, or one whose history holds no call and no prose, has none
    assert not dialog_features(message_turns(DIALOG[:1]), DIALOG_TOOLS).any()
    assert not dialog_features(message_turns([{"role": "system", "content": "reserve"}, DIALOG[-1]]),
                               DIALOG_TOOLS).any()
    # odd messages are read as the prompt renders them, never raise: skipped where they have no role,
    # a non-list tool_calls calls nothing, a non-string content is its JSON
    odd = [None, {"role": 3}, {"role": "assistant", "content": None, "tool_calls": "get"},
           {"role": "assistant", "content": [{"type": "text", "text": "reserve"}]}, DIALOG[-1]]
    assert message_turns(odd)[0] == ("assistant", "", [])
    assert dialog_features(message_turns(odd), DIALOG_TOOLS)[:, col["prev_name_cover"]].tolist() == [0, 0.5, 0]
    # a later call moves last_called; the earlier one stays called_before
    later = DIALOG + [{"role": "assistant", "tool_calls": [{"function": {"name": "GetWeather", "arguments": "{}"}}]},
                      {"role": "user", "content": "and book it"}]
    d = dialog_features(message_turns(later), DIALOG_TOOLS)
    assert d[:, col["called_before"]].tolist() == [1, 0, 1] and d[:, col["last_called"]].tolist() == [0, 0, 1]


def test_the_request_is_the_last_user_message():
    msgs = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
            {"role": "user", "content": "find a literary agent"}, {"role": "tool", "content": "{}"}]
    assert last_user_text(msgs) == "find a literary agent"
    assert last_user_text([{"role": "system", "content": "x"}]) == ""


def test_training_reads_what_the_runtime_reads():
    """listed_tools / prompt_user_text on a rendered prompt give the runtime's inputs."""
    from edgeagent.train.select import listed_tools, prompt_turns, prompt_user_text

    tools = [{"type": "function", "function": {"name": n, "description": d, "parameters": p}} for n, d, p in LISTED]
    messages = [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "ok"},
                {"role": "user", "content": REQUEST}]
    prompt = render_prompt(messages, tools, "smollm2")
    assert listed_tools(prompt) == LISTED
    assert prompt_user_text(prompt) == last_user_text(messages)
    assert listed_tools(render_prompt(messages, None, "smollm2")) is None
    with pytest.raises(ValueError, match="json listing"):     # a signature line holds no parameters to read
        listed_tools(render_prompt(messages, tools, "smollm2", listing="signature"))
    # the dialog features: from the rendered prompt (training) as from the messages (the runtime)
    for family in ("smollm2", "smollm3"):
        tools = [{"type": "function", "function": {"name": n, "description": d, "parameters": p}}
                 for n, d, p in DIALOG_TOOLS]
        prompt = render_prompt(DIALOG, tools, family)
        want = dialog_features(message_turns(DIALOG), DIALOG_TOOLS)
        assert want.any()
        np.testing.assert_array_equal(dialog_features(prompt_turns(prompt, family), DIALOG_TOOLS), want)


def test_head_scores_follow_the_tools_whatever_their_order():
    torch = pytest.importorskip("torch")
    from edgeagent.heads.select import SelectConfig, SelectHead

    torch.manual_seed(0)
    head = SelectHead(SelectConfig()).eval()
    x = torch.rand(1, 6, len(FEATURES))
    perm = torch.tensor([3, 0, 5, 4, 1, 2])
    with torch.no_grad():
        a, b = head(x)[0], head(x[:, perm])[0]
    torch.testing.assert_close(b, a[perm])
    assert len(set(a.tolist())) == 6  # not a constant


def test_training_learns_to_pick_the_named_tool():
    """Toy calls: the gold tool is the one whose name the request covers most; chance is about 1/3."""
    pytest.importorskip("torch")
    from edgeagent.train.select import predict, train_select

    rng = np.random.default_rng(0)

    def data(n):
        feats, gold = [], []
        for _ in range(n):
            k = int(rng.integers(2, 6))
            m = np.column_stack([rng.uniform(0, 0.6, k)] + [rng.uniform(0, 1, k) for _ in range(N_MATCH - 1)])
            g = int(rng.integers(k))
            m[g, 0] = rng.uniform(0.7, 1.0)
            feats.append(call_features(m.astype(np.float32), set()))
            gold.append(g)
        return {"features": feats, "gold": np.asarray(gold), "source": ["toy"] * n}

    train, dev = data(600), data(200)
    log = []
    head, _ = train_select(train, epochs=15, lr=3e-3, log=log, dev=dev)
    assert (predict(head, dev) == dev["gold"]).mean() > 0.9
    assert log[-1]["loss"] < log[0]["loss"]


def test_the_pipeline_calls_the_tool_the_head_picks(tiny_backend, monkeypatch):
    pytest.importorskip("torch")
    from edgeagent.runtime.pipeline import Pipeline, PipelineConfig

    seen = []

    def select_logits(features):
        seen.append(np.asarray(features).copy())
        return np.array([-1.0, 2.0])  # the second listed tool

    monkeypatch.setattr(tiny_backend, "has_select", True, raising=False)
    monkeypatch.setattr(tiny_backend, "select_logits", select_logits, raising=False)
    request = {"messages": [{"role": "user", "content": "what time is it"}], "tools": TOOLS,
               "tool_choice": "required"}
    for order in (TOOLS, TOOLS[::-1]):
        seen.clear()
        resp = Pipeline(tiny_backend, PipelineConfig(max_calls=2)).respond({**request, "tools": order})
        assert [c["function"]["name"] for c in resp["tool_calls"]][:1] == [order[1]["function"]["name"]]
        called = FEATURES.index("called")
        assert seen[0].shape == (2, len(FEATURES)) and seen[0][:, called].tolist() == [0, 0]
        if len(seen) > 1:  # a second call knows which tool the first one used
            assert seen[1][:, called].tolist() == [0, 1]
    # the conversation before the request reaches the head: the earlier call and the offer to go on
    seen.clear()
    history = [{"role": "user", "content": "weather in Oslo"},
               {"role": "assistant", "tool_calls": [{"function": {"name": "get_weather", "arguments": "{}"}}]},
               {"role": "tool", "content": "{}"}, {"role": "assistant", "content": "Shall I get the time too?"},
               {"role": "user", "content": "yes"}]
    Pipeline(tiny_backend, PipelineConfig(max_calls=1)).respond({**request, "messages": history})
    col = {name: FEATURES.index(name) for name in ("called_before", "prev_name_cover")}
    assert seen[0][:, col["called_before"]].tolist() == [1, 0]
    assert seen[0][:, col["prev_name_cover"]].tolist() == [0.5, 1.0]  # "Shall I get the time": get; get, time
    # select="trunk" (the ablation), a single tool and a named tool never ask the head
    seen.clear()
    Pipeline(tiny_backend, PipelineConfig(max_calls=1, select="trunk")).respond(request)
    Pipeline(tiny_backend, PipelineConfig(max_calls=1)).respond({**request, "tools": TOOLS[:1]})
    Pipeline(tiny_backend, PipelineConfig(max_calls=1)).respond(
        {**request, "tool_choice": {"type": "function", "function": {"name": "get_time"}}})
    assert seen == []


def test_select_data_reads_prepared_items():
    """From prepared items: one row per call of a turn listing two or more tools, the gold index in
    the listing's order, the called flag set for the tools earlier calls used; one-tool turns skipped."""
    pytest.importorskip("torch")
    from edgeagent.data.examples import Example
    from edgeagent.train.prepare import Preparer
    from edgeagent.train.select import select_data

    tok = tiny_tokenizer()
    tools = [{"type": "function", "function": {"name": n, "description": d, "parameters": p}} for n, d, p in LISTED]
    user = [{"role": "user", "content": REQUEST}]
    params = {n: p for n, _, p in LISTED}

    def call(*names):
        return {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": n, "arguments": {next(iter(params[n]["properties"])): "a"}}}
            for n in names]}

    prep = Preparer(tok, "smollm2", max_len=4096)
    items = [prep(Example("a", "synthetic", 1, "tool", user, tools, call("updateEbookPrice", "findLiteraryAgent"), ["a"])),
             prep(Example("b", "synthetic", 1, "tool", user, tools[:1], call("findLiteraryAgent"), ["b"]))]
    data = select_data(items, tok)
    assert data["gold"].tolist() == [1, 0]
    np.testing.assert_array_equal(data["features"][0], call_features(match_features(REQUEST, LISTED), set()))
    np.testing.assert_array_equal(data["features"][1], call_features(match_features(REQUEST, LISTED), {1}))


def test_named_properties_reads_the_last_key_words_of_four_or_more_letters():
    from edgeagent.runtime.select import named_properties

    ptrs = ["/number_of_rooms", "/genre", "/end_date", "/stops/0/city", "/has_live_music", "/id"]
    named = named_properties(ptrs, "a flat with 2 rooms and live music in Paris, any genre")
    assert named == {"/number_of_rooms", "/has_live_music", "/genre"}
    assert named_properties(ptrs, "") == set()
    assert named_properties(["/stops/0/city"], "stop in the city of Paris") == {"/stops/0/city"}
    # the name's head word, not any of its words: a year is not years of experience
    assert named_properties(["/years_of_experience"], "banking data for the year 2021") == set()
    assert named_properties(["/years_of_experience"], "a mentor with 5 years of experience") == {"/years_of_experience"}


def test_a_shipped_report_names_its_work_dir_without_this_machines_absolute_path(tmp_path, monkeypatch):
    from edgeagent.train.run import _portable

    monkeypatch.chdir(tmp_path)
    assert _portable(tmp_path / "runs" / "train-cpu") == "runs/train-cpu"
    assert _portable(tmp_path.parent / "elsewhere" / "work") == "work"
