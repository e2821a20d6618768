"""edgeagent.data: loading and validation, the split, modes, examples, augmentations, mix, stats."""

import copy
import gzip
import json

import pytest
from click.testing import CliRunner

from edgeagent.data import augment, records
import edgeagent.data.split as split
from edgeagent.data.examples import expand, record_mode
from edgeagent.data.mix import MixConfig, build_mix
from edgeagent.data.records import Loaded, RecordError, Validator, iter_file, load
from edgeagent.data.stats import compute_stats


def tool(name, props, required=(), description=""):
    return {"type": "function", "function": {"name": name, "description": description,
                                             "parameters": {"type": "object", "properties": props,
                                                            "required": list(required)}}}


def call(name, **args):
    return {"type": "function", "function": {"name": name, "arguments": args}}


WEATHER = tool("get_weather", {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}}, ["city"])
FORECAST = tool("WeatherForecast", {"city": {"type": "string"}, "days": {"type": "integer"}}, ["city"])
EMAIL = tool("send_email", {"to": {"type": "string"}, "subject": {"type": "string"}}, ["to"])
STOCK = tool("get_stock_price", {"symbol": {"type": "string"}}, ["symbol"])
TIMER = tool("set_timer", {"minutes": {"type": "integer"}, "loud": {"type": "boolean"}}, ["minutes"])


def rec(rid, messages, tools, dataset):
    return {"id": rid, "source": f"synthetic {dataset}", "messages": messages, "tools": copy.deepcopy(tools),
            "meta": {"dataset": dataset}}


def weather_rec(i=0, dataset="glaive_en"):
    return rec(f"w{i}", [{"role": "user", "content": f"What's the weather in Paris {i}?"},
                         {"role": "assistant", "content": "", "tool_calls": [call("get_weather", city="Paris", unit="c")]},
                         {"role": "tool", "content": "{\"t\": 20}"},
                         {"role": "assistant", "content": "It is 20 degrees."}],
               [WEATHER, FORECAST, STOCK], dataset)


def email_rec(i=0, dataset="sealtools"):
    return rec(f"e{i}", [{"role": "user", "content": f"Email bob@x.org about lunch {i}."},
                         {"role": "assistant", "content": "", "tool_calls": [call("send_email", to="bob@x.org", subject="lunch")]}],
               [EMAIL, TIMER], dataset)


def multi_turn_rec(i=0):
    return rec(f"m{i}", [{"role": "user", "content": "Set a timer please."},
                         {"role": "assistant", "content": "For how many minutes?"},
                         {"role": "user", "content": "Ten."},
                         {"role": "assistant", "content": "", "tool_calls": [call("set_timer", minutes=10)]},
                         {"role": "tool", "content": "ok"},
                         {"role": "assistant", "content": "Your timer is set."}],
               [TIMER], "glaive_en")


def replay_rec(i, dataset):
    return rec(f"{dataset}_{i}", [{"role": "user", "content": f"Question {i}?"},
                                  {"role": "assistant", "content": f"Answer {i}."}], [], dataset)


def sgd_rec(did, irrel=False):
    svc = tool("FindBus", {"to": {"type": "string"}}, ["to"], "Find a bus [service: Buses_1 - buses]")
    other = tool("FindRestaurants", {"city": {"type": "string"}}, ["city"], "Find food [service: Restaurants_1 - food]")
    if irrel:
        return rec(f"sgd_irrel_{did}", [{"role": "user", "content": "Find me a bus to LA."},
                                        {"role": "assistant", "content": augment.REFUSALS[0]}], [other], "sgd_irrel")
    return rec(f"sgd_train_{did}", [{"role": "user", "content": "Find me a bus to LA."},
                                    {"role": "assistant", "content": "", "tool_calls": [call("FindBus", to="LA")]},
                                    {"role": "tool", "content": "[]"},
                                    {"role": "assistant", "content": "None found."}], [svc, other], "sgd")


VALIDATOR = Validator()


def calls_valid(r):
    """Every call names a tool of r and its arguments pass that tool's schema."""
    VALIDATOR.check(r)
    names = {t["function"]["name"] for t in r["tools"]}
    return all(c["function"]["name"] in names for m in r["messages"] for c in m.get("tool_calls") or [])


def write_jsonl_gz(path, lines):
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for line in lines:
            f.write((line if isinstance(line, str) else json.dumps(line)) + "\n")


# --- loading and validation ---------------------------------------------------------------

def test_bad_records_are_skipped_with_file_line_and_field(tmp_path):
    good = weather_rec()
    unknown = copy.deepcopy(good)
    unknown["messages"][1]["tool_calls"][0]["function"]["name"] = "get_wether"
    bad_args = copy.deepcopy(good)
    bad_args["messages"][1]["tool_calls"][0]["function"]["arguments"]["unit"] = "kelvin"
    orphan_tool = copy.deepcopy(good)
    orphan_tool["messages"].insert(1, {"role": "tool", "content": "x"})
    ends_on_user = copy.deepcopy(good)
    ends_on_user["messages"].append({"role": "user", "content": "thanks"})
    path = tmp_path / "fc_glaive_lf_en.jsonl.gz"
    write_jsonl_gz(path, [good, unknown, "{not json", bad_args, orphan_tool, ends_on_user])

    skips = []
    got = list(iter_file(path, skips=skips))
    assert [r["id"] for r in got] == ["w0"] and got[0]["meta"]["dataset"] == "glaive_en"
    assert [s.line for s in skips] == [2, 3, 4, 5, 6]
    by_line = {s.line: s for s in skips}
    assert by_line[2].field == "messages[1].tool_calls[0].function.name" and "get_wether" in by_line[2].reason
    assert by_line[4].field == "messages[1].tool_calls[0].function.arguments.unit" and "kelvin" in by_line[4].reason
    assert "without a preceding call" in by_line[5].reason
    assert "end on an assistant turn" in by_line[6].reason
    assert str(by_line[2]).startswith("fc_glaive_lf_en.jsonl.gz:2 (id w0): ")

    loaded = load(tmp_path)
    assert len(loaded.records["glaive_en"]) == 1 and len(loaded.skipped) == 5


def test_invalid_tool_schema_is_rejected():
    r = weather_rec()
    r["tools"][0]["function"]["parameters"]["properties"]["city"]["type"] = "text"
    with pytest.raises(RecordError) as e:
        Validator().check(r)
    assert e.value.field.startswith("tools[0].function.parameters")


def test_data_dir_from_env(tmp_path, monkeypatch):
    write_jsonl_gz(tmp_path / "replay_chat.jsonl.gz", [replay_rec(0, "chat")])
    monkeypatch.setenv("EDGEAGENT_DATA", str(tmp_path))
    assert records.find_data_dir() == tmp_path
    assert list(records.data_files()) == ["chat"]


# --- split -----------------------------------------------------------------------------------

def test_split_is_deterministic_disjoint_and_stable_under_additions():
    recs = [replay_rec(i, "chat") for i in range(3000)]
    train, dev = split.split_records(recs)
    assert split.split_records(recs) == (train, dev)
    assert {r["id"] for r in train}.isdisjoint(r["id"] for r in dev)
    assert len(train) + len(dev) == len(recs)
    assert 0.03 < len(dev) / len(recs) < 0.07
    more = [replay_rec(i, "gsm8k") for i in range(1000)] + list(reversed(recs))
    dev_after = {r["id"] for r in split.split_records(more)[1]}
    assert {r["id"] for r in dev} == dev_after & {r["id"] for r in recs}


def test_sgd_dialogue_and_its_derived_negative_land_on_the_same_side():
    sides = [(split.split_of(sgd_rec(f"{f}_{i:05d}")), split.split_of(sgd_rec(f"{f}_{i:05d}", irrel=True)))
             for f in range(1, 5) for i in range(200)]
    assert all(a == b for a, b in sides)
    assert {a for a, _ in sides} == {"train", "dev"}


def test_derived_record_is_dev_if_any_parent_is_dev():
    recs = [email_rec(i) for i in range(400)]
    dev = next(r for r in recs if split.split_of(r) == "dev")
    train = next(r for r in recs if split.split_of(r) == "train")
    weather = weather_rec()
    weather["meta"]["split_keys"] = split.split_keys(train)  # a train-side parent
    assert split.split_of(augment.merge_parallel(weather, train)) == "train"
    assert split.split_of(augment.merge_parallel(weather, dev)) == "dev"
    assert split.split_of(augment.shuffle_tools(dev, 0)) == "dev"
    assert split.split_of(augment.make_negative(dev, 0)) == "dev"


# --- modes and examples ----------------------------------------------------------------------

def test_one_example_per_assistant_turn_with_modes():
    r = multi_turn_rec()
    exs = expand(r)
    assert [e.turn for e in exs] == [1, 3, 5]
    assert [e.mode for e in exs] == ["chat", "tool", "chat"]
    for e in exs:
        assert e.messages == r["messages"][:e.turn] and e.target == r["messages"][e.turn]
        assert e.record_id == "m0" and e.dataset == "glaive_en" and e.tools == r["tools"]
    assert record_mode(r) == "tool"
    assert [e.mode for e in expand(replay_rec(0, "gsm8k"))] == ["think"]
    assert [e.mode for e in expand(replay_rec(0, "chat"))] == ["chat"]
    assert record_mode(sgd_rec("1_00001", irrel=True)) == "chat"  # tools offered, none called


# --- augmentations ---------------------------------------------------------------------------

def test_negative_removes_every_called_and_related_function():
    r = weather_rec()
    before = copy.deepcopy(r)
    neg = augment.make_negative(r, seed=3)
    assert r == before  # pure
    names = {t["function"]["name"] for t in neg["tools"]}
    assert "get_weather" not in names and "WeatherForecast" not in names  # called + related
    assert names == {"get_stock_price"}
    assert neg["messages"][:-1] == r["messages"][:1]
    target = neg["messages"][-1]
    assert target["role"] == "assistant" and not target.get("tool_calls")
    assert target["content"] in augment.REFUSALS
    assert [e.mode for e in expand(neg)] == ["chat"]
    assert calls_valid(neg)
    assert augment.make_negative(multi_turn_rec(), seed=0) is None  # the assistant had asked for slots


def test_negative_with_nothing_left_gets_unrelated_pool_tools():
    r = rec("t", [{"role": "user", "content": "Timer for 5 minutes"},
                  {"role": "assistant", "content": "", "tool_calls": [call("set_timer", minutes=5)]}], [TIMER], "glaive_en")
    assert augment.make_negative(r, seed=0) is None
    pool = augment.tool_pool([email_rec(), weather_rec(), sgd_rec("1_00001")])
    neg = augment.make_negative(r, seed=0, pool=pool)
    names = {t["function"]["name"] for t in neg["tools"]}
    assert names and "set_timer" not in names


@pytest.mark.parametrize("seed", range(5))
def test_augmentations_keep_every_call_valid_and_present(seed):
    pool = augment.tool_pool([weather_rec(dataset="glaive_en"), email_rec(), sgd_rec("1_00001"),
                              rec("dup", [], [tool("send_email", {"x": {"type": "integer"}})], "glaive_zh")])
    for r in [weather_rec(), email_rec(), multi_turn_rec(), sgd_rec("2_00002")]:
        before = copy.deepcopy(r)
        shuffled = augment.shuffle_tools(r, seed)
        assert calls_valid(shuffled) and sorted(map(json.dumps, shuffled["tools"])) == sorted(map(json.dumps, r["tools"]))
        dis = augment.add_distractors(r, pool, seed, k=3)
        assert r == before  # pure
        if dis is None:
            continue
        assert calls_valid(dis)
        added = [t for t in dis["tools"] if t not in r["tools"]]
        assert added
        own = {t["function"]["name"] for t in r["tools"]}
        for t in added:
            assert t["function"]["name"] not in own
            # never related to an existing tool: other domain and no shared name word
            for o in r["tools"]:
                assert not augment.related(t, augment.tool_domain(t, "?"), o, augment.tool_domain(o, records.dataset_of(r)))


def test_distractors_skip_same_domain_and_same_name():
    r = email_rec()
    same_source = rec("s", [], [tool("translate_text", {"t": {"type": "string"}})], "sealtools")
    same_name = rec("n", [], [tool("send_email", {"to": {"type": "string"}})], "glaive_en")
    same_word = rec("v", [], [tool("EmailLookup", {"q": {"type": "string"}})], "glaive_en")
    pool = augment.tool_pool([same_source, same_name, same_word])
    assert augment.add_distractors(r, pool, seed=0) is None


def test_merge_gives_one_parallel_request_with_two_valid_calls():
    a, b = weather_rec(), email_rec()
    m = augment.merge_parallel(a, b)
    user, target = m["messages"]
    assert user["role"] == "user" and user["content"].startswith(a["messages"][0]["content"])
    assert "Also, email bob@x.org" in user["content"]
    assert [c["function"]["name"] for c in target["tool_calls"]] == ["get_weather", "send_email"]
    assert calls_valid(m)
    assert len({t["function"]["name"] for t in m["tools"]}) == len(m["tools"])
    assert [e.mode for e in expand(m)] == ["tool"] and len(expand(m)) == 1
    assert augment.merge_reason(a, weather_rec(1)) == "both call get_weather"
    assert augment.merge_reason(a, multi_turn_rec()) is not None
    parallel = copy.deepcopy(b)
    parallel["messages"][1]["tool_calls"].append(call("set_timer", minutes=1))
    assert augment.merge_reason(a, parallel) is not None
    with pytest.raises(ValueError):
        augment.merge_parallel(a, parallel)


# --- mix -------------------------------------------------------------------------------------

@pytest.fixture
def data_dir(tmp_path):
    files = {
        "fc_glaive_lf_en": [weather_rec(i) for i in range(30)] + [multi_turn_rec(i) for i in range(30)],
        "fc_sealtools_dev": [email_rec(i) for i in range(60)],
        "fc_sgd_train": [sgd_rec(f"1_{i:05d}") for i in range(120)],
        "neg_sgd_irrelevance_derived": [sgd_rec(f"1_{i:05d}", irrel=True) for i in range(0, 120, 2)],
        "replay_chat": [replay_rec(i, "chat") for i in range(200)],
        "replay_gsm8k_train": [replay_rec(i, "gsm8k") for i in range(200)],
    }
    for stem, recs in files.items():
        for r in recs:
            r.pop("meta")
        write_jsonl_gz(tmp_path / f"{stem}.jsonl.gz", recs)
    return tmp_path


def test_build_mix_is_deterministic_and_never_trains_on_dev(data_dir):
    cfg = MixConfig(seed=1, sgd_dialogues=50, merges=10)
    loaded = load(data_dir)
    mix = build_mix(loaded, cfg)
    again = build_mix(loaded, cfg)
    assert [e.to_dict() for e in mix.train] == [e.to_dict() for e in again.train]
    assert [e.record_id for e in build_mix(loaded, MixConfig(seed=2, sgd_dialogues=50, merges=10)).train] != \
        [e.record_id for e in mix.train]

    dev_keys = {k for e in mix.dev for k in e.split_keys}
    assert dev_keys and all(dev_keys.isdisjoint(e.split_keys) for e in mix.train)
    assert len({e.record_id for e in mix.train if e.dataset == "sgd" and not e.augment or e.augment == ["shuffle"]
                and e.dataset == "sgd"}) <= 50

    for e in mix.train:
        r = {"id": e.record_id, "source": "x", "messages": e.messages + [e.target], "tools": e.tools}
        assert calls_valid(r)
    merges = [e for e in mix.train if "merge" in e.augment]
    assert merges and all(len(e.target["tool_calls"]) == 2 for e in merges)
    assert any("negative" in e.augment for e in mix.train)

    rep = mix.report["train"]
    assert sum(s["examples"] for s in rep["by_source"].values()) == rep["examples"] == len(mix.train)
    assert sum(rep["by_mode"].values()) == len(mix.train)
    replay = rep["by_source"]["chat"]["examples"] + rep["by_source"]["gsm8k"]["examples"]
    assert abs(replay / len(mix.train) - cfg.replay_share) < 0.02


def test_mix_without_sgd_has_no_sgd(data_dir):
    mix = build_mix(data_dir, MixConfig(include_sgd=False))
    assert mix.train and not any(e.dataset.startswith("sgd") for e in mix.train + mix.dev)
    assert not any("Buses" in t["function"]["description"] for e in mix.train for t in e.tools)


# --- stats -----------------------------------------------------------------------------------

class WordTokenizer:
    class _Enc:
        def __init__(self, text):
            self.ids = list(range(len(text.split())))

    def encode_batch(self, texts, add_special_tokens=False):
        return [self._Enc(t) for t in texts]


def test_stats_counts_add_up(data_dir):
    loaded = load(data_dir)
    s = compute_stats(loaded.records, WordTokenizer())
    for name, recs in loaded.records.items():
        c = s["counts"][name]
        assert c["train"]["records"] + c["dev"]["records"] == len(recs)
        assert sum(c["train"]["records_by_mode"].values()) == c["train"]["records"]
        n_examples = sum(len(expand(r)) for r in recs)
        assert c["train"]["examples"] + c["dev"]["examples"] == n_examples
        assert sum(c["dev"]["examples_by_mode"].values()) == c["dev"]["examples"]
    n_args = sum(len(c["function"]["arguments"]) for recs in loaded.records.values() for r in recs
                 for m in r["messages"] for c in m.get("tool_calls") or [])
    types = s["argument_types"]["values"]
    assert sum(types.values()) == n_args and types["integer"] == 30 and types["string"] > 0
    assert s["value_tokens"]["string"]["n"] == types["string"]
    assert s["calls_per_tool_turn"]["all"]["max"] == 1
    assert s["counts"]["gsm8k"]["train"]["examples_by_mode"]["think"] + s["counts"]["gsm8k"]["dev"]["examples_by_mode"]["think"] == 200


def test_cli_stats_json(data_dir):
    from edgeagent.cli import main

    out = CliRunner().invoke(main, ["data", "stats", "--data-dir", str(data_dir), "--dataset", "sealtools",
                                    "--tokenizer", str(data_dir / "missing.json"), "--json"])
    assert out.exit_code != 0 and "--tokenizer" in out.output
    out = CliRunner().invoke(main, ["data", "stats", "--data-dir", str(data_dir), "--dataset", "sealtools", "--json"])
    assert out.exit_code == 0, out.output
    s = json.loads(out.output)
    assert s["total"]["train"]["records"] + s["total"]["dev"]["records"] == 60
    assert s["skipped"] == []


# --- the real shared data (when present) ------------------------------------------------------

def test_real_small_files_load_clean():
    try:
        loaded = load(None, datasets=["glaive_en", "sealtools"])
    except FileNotFoundError:
        pytest.skip("shared/data not found")
    assert loaded.skipped == []
    assert len(loaded.records["glaive_en"]) == 261 and len(loaded.records["sealtools"]) == 617
    assert isinstance(loaded, Loaded)


# --- counterfactual values and repeated calls ---------------------------------------------------

AREA = tool("triangle_area", {"base": {"type": "number"}, "height": {"type": "integer", "maximum": 99},
                              "unit": {"type": "string"}}, ["base", "height"])
DICE = tool("roll", {"sides": {"type": "integer", "enum": [6, 20]}, "times": {"type": "integer"}}, ["sides"])


def area_rec(i=0, base=10.5, height=4, unit="cm", text=None):
    text = text or f"Find the area of a triangle with base {base} {unit} and height {height}."
    return rec(f"a{i}", [{"role": "user", "content": text},
                         {"role": "assistant", "content": "", "tool_calls": [call("triangle_area", base=base, height=height, unit=unit)]},
                         {"role": "tool", "content": "21"},
                         {"role": "assistant", "content": "It is 21 cm2."}],
               [AREA, DICE], "glaive_en")


@pytest.mark.parametrize("seed", range(8))
def test_counterfactual_changes_the_number_in_request_and_call_alike(seed):
    r = area_rec()
    before = copy.deepcopy(r)
    cf = augment.resample_numbers(r, seed)
    assert r == before  # pure
    assert augment.resample_numbers(r, seed) == cf  # seeded
    user, target = cf["messages"]
    args = target["tool_calls"][0]["function"]["arguments"]
    assert calls_valid(cf) and [e.mode for e in expand(cf)] == ["tool"]
    assert args["unit"] == "cm" and "cm" in user["content"]
    for key, old in (("base", 10.5), ("height", 4)):
        new = args[key]
        assert type(new) is type(old) and new != old
        written = lambda v: augment._number_re(json.dumps(v)).search(user["content"])
        assert written(new) and not written(old)
    assert len(str(args["base"]).split(".")[1]) == 1      # written the same way: one decimal
    assert args["height"] <= 99                            # the schema's bound holds
    assert cf["meta"]["parent"] == r["id"] and cf["meta"]["split_keys"] == augment.split_keys(r)


def test_counterfactual_leaves_unwritten_and_constrained_numbers_alone():
    # the value is not written as JSON writes it ("ten"), so nothing can change
    assert augment.resample_numbers(area_rec(text="Area for base ten and height four?", base=10, height=4), 0) is None
    # a number that is part of a string argument stays (changing it would break that string)
    r = area_rec(unit="4 cm")
    cf = augment.resample_numbers(r, 0)
    assert cf["messages"][1]["tool_calls"][0]["function"]["arguments"]["height"] == 4
    # an enum'd number has nowhere to go; "times" still changes
    dice = rec("d", [{"role": "user", "content": "Roll a 20-sided die 3 times."},
                     {"role": "assistant", "content": "", "tool_calls": [call("roll", sides=20, times=3)]}], [DICE], "glaive_en")
    cf = augment.resample_numbers(dice, 1)
    args = cf["messages"][1]["tool_calls"][0]["function"]["arguments"]
    assert args["sides"] == 20 and args["times"] != 3 and "20-sided" in cf["messages"][0]["content"]
    # a dialogue whose call comes after the assistant asked something does not qualify
    assert augment.resample_numbers(multi_turn_rec(), 0) is None


def test_repeat_merge_calls_one_function_twice():
    r = area_rec()
    cf = augment.resample_numbers(r, 3)
    m = augment.merge_repeat(r, cf)
    user, target = m["messages"]
    assert [c["function"]["name"] for c in target["tool_calls"]] == ["triangle_area", "triangle_area"]
    a0, a1 = (c["function"]["arguments"] for c in target["tool_calls"])
    assert a0 != a1 and calls_valid(m)
    assert user["content"] == r["messages"][0]["content"] + " Also, " + cf["messages"][0]["content"][0].lower() \
        + cf["messages"][0]["content"][1:]
    with pytest.raises(ValueError, match="one function"):
        augment.merge_repeat(r, email_rec())
    with pytest.raises(ValueError, match="the same"):
        augment.merge_repeat(r, r)


def test_merged_second_request_loses_its_greeting():
    assert augment._join("Hi, I need X.", "Hello there! What is 5 + 5?") == "Hi, I need X. Also, what is 5 + 5?"


def write_data_dir(path, glaive, sealtools):
    """A data folder with every file the mix reads: ``glaive`` and ``sealtools`` records, a little SGD,
    its irrelevance negatives and replay (the loader sets meta, so the records go without it)."""
    files = {"fc_glaive_lf_en": glaive, "fc_sealtools_dev": sealtools,
             "fc_sgd_train": [sgd_rec(f"1_{i:05d}") for i in range(10)],
             "neg_sgd_irrelevance_derived": [sgd_rec("1_00000", irrel=True)],
             "replay_chat": [replay_rec(i, "chat") for i in range(20)],
             "replay_gsm8k_train": [replay_rec(i, "gsm8k") for i in range(20)]}
    for stem, recs in files.items():
        for r in recs:
            r.pop("meta")
        write_jsonl_gz(path / f"{stem}.jsonl.gz", recs)


def test_mix_counts_counterfactuals_and_repeats_on_both_sides(tmp_path):
    write_data_dir(tmp_path, [area_rec(i, base=10.5 + i) for i in range(40)], [email_rec(i) for i in range(10)])
    mix = build_mix(tmp_path, MixConfig(counterfactuals=2, repeat_merges=5, dev_fraction=0.2))
    aug = mix.report["augment"]
    assert aug["repeat_merges"] == 5 and aug["counterfactuals"] > 0
    train_keys = {k for ex in mix.train for k in ex.split_keys}
    for ex in mix.dev:
        assert not set(ex.split_keys) & train_keys
    counts = mix.report["train"]["by_source"]
    assert counts["glaive_en/counterfactual"]["tool"] == aug["counterfactuals"]
    assert counts["repeat"]["tool"] == 5


# --- single requests split from multi-call requests ----------------------------------------

def lab_rec(i=0, dataset="sealtools"):
    """Three calls, one sentence each; the second sentence only leans on the first."""
    genes = tool("getGeneSequence", {"gene_name": {"type": "string"}}, ["gene_name"])
    results = tool("getHematologyResults", {"patient_id": {"type": "string"}}, ["patient_id"])
    track = tool("trackShipment", {"tracking_number": {"type": "string"}, "express": {"type": "boolean"},
                                   "weight": {"type": "number"}}, ["tracking_number"])
    user = (f"First, retrieve the DNA sequence of the gene named BRCA{i}. The patient's ID is P{i}x. "
            f"Finally, track the shipment with tracking number T-{i}9 weighing 2.5 kg.")
    return rec(f"lab{i}", [{"role": "user", "content": user},
                           {"role": "assistant", "content": "", "tool_calls": [
                               call("getGeneSequence", gene_name=f"BRCA{i}"),
                               call("getHematologyResults", patient_id=f"P{i}x"),
                               call("trackShipment", tracking_number=f"T-{i}9", weight=2.5)]}],
               [genes, results, track, WEATHER], dataset)


def test_split_request_keeps_the_sentences_that_say_a_whole_call():
    r = lab_rec(1)
    before = copy.deepcopy(r)
    splits = augment.split_request(r)
    assert r == before                                  # the parent is not changed
    got = {s["messages"][-1]["tool_calls"][0]["function"]["name"]: s["messages"][0]["content"] for s in splits}
    # "The patient's ID is P1x." says nothing of hematology: no split for that call
    assert got == {"getGeneSequence": "Retrieve the DNA sequence of the gene named BRCA1.",
                   "trackShipment": "Track the shipment with tracking number T-19 weighing 2.5 kg."}
    for s in splits:
        assert calls_valid(s) and s["tools"] == r["tools"]
        assert len(s["messages"]) == 2 and s["meta"]["augment"] == ["split"] and s["meta"]["parent"] == "lab1"
        assert s["meta"]["split_keys"] == split.split_keys(r)


def test_split_request_refuses_what_one_sentence_does_not_say_alone():
    r = lab_rec(2)
    calls = r["messages"][1]["tool_calls"]
    calls[0]["function"]["arguments"]["gene_name"] = "TP53"      # a value the request does not write
    calls[2]["function"]["arguments"]["express"] = True          # a bool is never written as such
    assert augment.split_request(r) == []
    both = lab_rec(3)
    both["messages"][0]["content"] = "Retrieve the gene sequence of BRCA3 and track shipment T-39 of 2.5 kg."
    names = [s["messages"][-1]["tool_calls"][0]["function"]["name"] for s in augment.split_request(both)]
    assert names == []                                  # one sentence asks for both calls
    assert augment.split_request(weather_rec()) == []   # one call: nothing to split
    # a number stands on its own: "2.5" is not inside "12.55"
    assert not augment._states("weighing 12.55 kg", 2.5) and augment._states("weighing 2.5 kg", 2.5)
    assert augment._states("a budget of 300 dollars", 300.0) and not augment._states("in 1300", 300)


def key(ex):
    return ex.record_id, ex.turn


def mixes_without_and_with(path, field: str, n: int, source: str):
    """The mix of the data folder ``path`` without and with ``n`` examples of an augmentation
    (MixConfig ``field``), checked: they are counted under ``source``, and they only add to train."""
    base = build_mix(path, MixConfig(dev_fraction=0.2))
    mix = build_mix(path, MixConfig(dev_fraction=0.2, **{field: n}))
    assert base.report["augment"][field] == 0 and mix.report["augment"][field] == n
    assert mix.report["train"]["by_source"][source]["tool"] == n
    assert {key(ex) for ex in base.train} <= {key(ex) for ex in mix.train}
    return base, mix


def test_mix_splits_are_counted_and_left_out_of_the_default_dev_set(tmp_path, monkeypatch):
    write_data_dir(tmp_path, [weather_rec(i) for i in range(20)], [lab_rec(i) for i in range(40)])
    base, mix = mixes_without_and_with(tmp_path, "splits", 15, "sealtools/split")
    # the examples without splits are those of the mix without them (splits only add)
    assert {key(ex) for ex in base.dev} <= {key(ex) for ex in mix.dev}
    train_keys = {k for ex in mix.train for k in ex.split_keys}
    dev_splits = [ex for ex in mix.dev if "split" in ex.augment]
    assert dev_splits and all(not set(ex.split_keys) & train_keys for ex in dev_splits)

    from edgeagent.evals import dev as devsplit
    import edgeagent.train.run as run
    monkeypatch.setitem(run.RECIPES, "tiny", {"mix": {"dev_fraction": 0.2, "splits": 15}})
    ids = lambda items: [it["id"] for it in items]
    without = devsplit.dev_items("tiny", None, None, tmp_path)
    only = devsplit.dev_items("tiny", None, None, tmp_path, splits="only")
    assert ids(without) + ids(only) != [] and not set(ids(without)) & set(ids(only))
    both = devsplit.dev_items("tiny", None, None, tmp_path, splits="with")
    assert sorted(ids(both)) == sorted(ids(without) + ids(only))
    assert {it["source"] for it in only} == {"sealtools/split", "sealtools/split+negative"}
    with pytest.raises(ValueError, match="splits"):
        devsplit.dev_items("tiny", None, None, tmp_path, splits="some")


# --- listed requests: one written value made a list, one call per element ----------------------

def city_rec(i, city, dataset="glaive_en"):
    return rec(f"c{i}", [{"role": "user", "content": f"What's the weather in {city} today?"},
                         {"role": "assistant", "content": "",
                          "tool_calls": [call("get_weather", city=city, unit="c")]}],
               [WEATHER, STOCK], dataset)


@pytest.mark.parametrize("seed", range(6))
def test_listed_request_makes_a_written_number_a_list_with_one_call_each(seed):
    r = area_rec()
    before = copy.deepcopy(r)
    out = augment.list_values(r, seed, k=3)
    assert r == before and augment.list_values(r, seed, k=3) == out  # pure and seeded
    user, target = out["messages"]
    key, values = out["meta"]["listed"]["key"], out["meta"]["listed"]["values"]
    assert key in ("base", "height") and values[0] == {"base": 10.5, "height": 4}[key] and len(set(values)) == 3
    assert all(type(v) is type(values[0]) for v in values)
    calls = [c["function"]["arguments"] for c in target["tool_calls"]]
    assert [c[key] for c in calls] == values
    assert all({k: v for k, v in c.items() if k != key} == {k: v for k, v in calls[0].items() if k != key}
               for c in calls) and calls[0] == before["messages"][1]["tool_calls"][0]["function"]["arguments"]
    assert f"{values[0]}, {values[1]} and {values[2]}" in user["content"]
    assert calls_valid(out) and [e.mode for e in expand(out)] == ["tool"] and "listed" in expand(out)[0].augment


def test_listed_strings_are_values_other_requests_gave_the_parameter():
    recs = [city_rec(i, c) for i, c in enumerate(["Paris", "Oslo", "Lima"])]
    alts = augment.string_alternatives(recs)
    assert sorted(alts[("get_weather", "city", json.dumps({"type": "string"}))]) == ["Lima", "Oslo", "Paris"]
    out = augment.list_values(recs[0], 5, k=2, alternatives=alts)
    user, target = out["messages"]
    second = target["tool_calls"][1]["function"]["arguments"]["city"]
    assert second in ("Oslo", "Lima") and user["content"] == f"What's the weather in Paris and {second} today?"
    assert [c["function"]["arguments"]["unit"] for c in target["tool_calls"]] == ["c", "c"]
    assert augment.list_values(recs[0], 5, k=2) is None              # no other request: no list
    assert augment.list_values(recs[0], 5, k=4, alternatives=alts) is None  # two others only


def test_listed_leaves_pairs_repeats_and_later_turns_alone():
    gcd = tool("gcd", {"a": {"type": "integer"}, "b": {"type": "integer"}}, ["a", "b"])
    pair = rec("g", [{"role": "user", "content": "What is the GCD of 36 and 48?"},
                     {"role": "assistant", "content": "", "tool_calls": [call("gcd", a=36, b=48)]}], [gcd], "glaive_en")
    assert all(augment.list_values(pair, s) is None for s in range(5))  # one call takes both
    assert augment.list_values(area_rec(text="Area for base 4 cm and height 4?", base=4, height=4), 0) is None
    assert augment.list_values(multi_turn_rec(), 0) is None
    paris = city_rec(0, "Paris")
    paris["messages"][0]["content"] = "Weather in Paris, France, please."
    assert augment.list_values(paris, 0, alternatives={("get_weather", "city", json.dumps({"type": "string"})):
                                                        ["Paris", "Oslo", "Lima"]}) is None


def test_mix_listed_requests_are_counted_and_kept_out_of_the_dev_set(tmp_path, monkeypatch):
    cities = ["Paris", "Oslo", "Lima", "Rome", "Cairo", "Quito", "Baku", "Riga", "Bern", "Doha"]
    write_data_dir(tmp_path, [city_rec(i, cities[i % 10]) for i in range(40)] + [area_rec(i) for i in range(40)],
                   [lab_rec(i) for i in range(5)])
    base, mix = mixes_without_and_with(tmp_path, "listed", 12, "glaive_en/listed")
    assert [key(ex) for ex in base.dev] == [key(ex) for ex in mix.dev]   # the dev set is the same
    assert mix.dev_listed and all("listed" in ex.augment for ex in mix.dev_listed)
    train_keys = {k for ex in mix.train for k in ex.split_keys}
    assert all(not set(ex.split_keys) & train_keys for ex in mix.dev_listed)

    from edgeagent.evals import dev as devsplit
    import edgeagent.train.run as run
    monkeypatch.setitem(run.RECIPES, "tiny", {"mix": {"dev_fraction": 0.2}})
    ids = lambda items: [it["id"] for it in items]
    without = devsplit.dev_items("tiny", None, None, tmp_path)
    only = devsplit.dev_items("tiny", None, None, tmp_path, lists="only")
    assert only and all(len(it["calls"]) >= 2 and it["kind"] == "tool" for it in only)
    both = devsplit.dev_items("tiny", None, None, tmp_path, lists="with")
    assert sorted(ids(both)) == sorted(ids(without) + ids(only))
    with pytest.raises(ValueError, match="lists"):
        devsplit.dev_items("tiny", None, None, tmp_path, lists="all")
