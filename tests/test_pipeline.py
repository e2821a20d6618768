"""The routed pipeline end to end on a tiny random trunk and random heads (seconds on CPU).

Random weights make the values nonsense; what must hold whatever the weights: every emitted
call names an available function and validates against its schema, tool_choice is obeyed,
bad requests get a RequestError naming the field, and infer keeps going past bad lines.
"""

import json

import jsonschema
import pytest

torch = pytest.importorskip("torch")

from edgeagent.runtime.pipeline import Pipeline, PipelineConfig, RequestError  # noqa: E402
from conftest import TOOLS  # noqa: E402

USER = [{"role": "user", "content": "Weather in Tokyo for 3 days at 35.6 north?"}]


@pytest.fixture(scope="module")
def pipeline(tiny_backend):
    return Pipeline(tiny_backend, PipelineConfig(max_new_tokens=6, max_calls=3))


def _check_calls(resp):
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}
    pairs = [(c["function"]["name"], c["function"]["arguments"]) for c in resp["tool_calls"]]
    assert len(set(pairs)) == len(pairs), "a call repeated within one turn"
    for call in resp["tool_calls"]:
        name = call["function"]["name"]
        assert name in schemas, f"invented function {name}"
        jsonschema.validate(json.loads(call["function"]["arguments"]), schemas[name])


@pytest.mark.parametrize("steps", [1, 2, 4])
def test_required_tool_choice_gives_valid_calls(pipeline, steps):
    pipeline.cfg.steps = steps
    resp = pipeline.respond({"id": "r", "messages": USER, "tools": TOOLS, "tool_choice": "required"})
    assert resp["mode"] == "tool" and resp["id"] == "r"
    _check_calls(resp)
    assert resp["tool_calls"] or resp["errors"]
    assert resp["timings"]["call_s"] >= resp["timings"]["prefill_s"] > 0


def test_named_tool_choice_forces_the_function(pipeline):
    resp = pipeline.respond({"messages": USER, "tools": TOOLS,
                             "tool_choice": {"type": "function", "function": {"name": "get_time"}}})
    _check_calls(resp)
    assert {c["function"]["name"] for c in resp["tool_calls"]} <= {"get_time"}
    assert resp["tool_calls"][0]["function"]["name"] == "get_time"


def test_tool_choice_none_and_no_tools_never_call(pipeline):
    for req in ({"messages": USER, "tools": TOOLS, "tool_choice": "none"}, {"messages": USER}):
        resp = pipeline.respond(req)
        assert resp["mode"] != "tool" and resp["tool_calls"] == []


@pytest.mark.parametrize("request_, field", [
    ({"messages": []}, "messages"),
    ({"messages": USER, "tools": "x"}, "tools"),
    ({"messages": USER, "tools": [{"function": {"name": ""}}]}, "tools[0].function.name"),
    ({"messages": USER, "tools": TOOLS, "tool_choice": {"function": {"name": "nope"}}}, "tool_choice.function.name"),
    ({"messages": USER, "tools": TOOLS, "tool_choice": 7}, "tool_choice"),
    ({"messages": [{"role": "user", "content": "word " * 9000}], "tools": TOOLS}, "messages"),
    ({"messages": USER, "tools": [{"function": {"name": "f", "parameters": {
        "type": "object", "properties": {"a": {"allOf": [{"type": "string"}]}}}}}], "tool_choice": "required"},
     "tools[0].function.parameters/properties/a/allOf"),
    # a schema that is not JSON Schema is refused even where the turn would not call its tool
    ({"messages": USER, "tools": [{"function": {"name": "f", "parameters": {
        "type": "object", "properties": {"a": {"type": "strin"}}}}}], "tool_choice": "none"},
     "tools[0].function.parameters/properties/a/type"),
    ({"messages": [{"role": "robot", "content": "hi"}], "tools": TOOLS}, "messages[0].role"),
    ({"messages": [{"role": "user", "content": None}], "tools": TOOLS}, "messages[0].content"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
     "messages[0].content[0].type"),
])
def test_bad_requests_name_the_field(pipeline, request_, field):
    with pytest.raises(RequestError) as e:
        pipeline.respond(request_)
    assert e.value.field == field
    # and the pipeline still serves the next request
    assert pipeline.respond({"messages": USER, "tools": TOOLS, "tool_choice": "none"})["tool_calls"] == []


def test_a_scaffold_longer_than_the_slot_filler_reads_is_written_by_the_trunk(pipeline):
    """Over max_scaffold_len positions (here 40 string slots of 24 tokens), the call comes from the
    trunk under the schema constraint instead of an error, and it validates."""
    props = {f"field_{i}": {"type": "string"} for i in range(40)}
    tool = {"type": "function", "function": {"name": "fill_form", "parameters": {
        "type": "object", "properties": props, "required": ["field_0", "field_1"]}}}
    sc = pipeline.scaffold(tool["function"]["parameters"], "t")
    assert len(sc.masked()) > pipeline.b.max_scaffold_len
    resp = pipeline.respond({"messages": USER, "tools": [tool], "tool_choice": "required"})
    assert "errors" not in resp and resp["tool_calls"], resp
    assert all(r == {"": "ar-long-scaffold"} for r in resp["routes"])
    jsonschema.validate(json.loads(resp["tool_calls"][0]["function"]["arguments"]), tool["function"]["parameters"])


def test_a_free_form_object_is_copied_from_the_request(pipeline):
    """A parameter typed only "object" (free-form keys, as BFCL's dict) is served, not refused: its
    value is the literal the user wrote, as JSON."""
    tool = {"type": "function", "function": {"name": "average", "parameters": {
        "type": "object", "properties": {"grades": {"type": "object", "description": "subject -> grade"},
                                         "weights": {"type": "array"}}, "required": ["grades"]}}}
    msgs = [{"role": "user", "content": "Average of {'math': 90, 'art': 70} please"}]
    resp = pipeline.respond({"messages": msgs, "tools": [tool], "tool_choice": "required"})
    assert "errors" not in resp and len(resp["tool_calls"]) >= 1, resp
    args = json.loads(resp["tool_calls"][0]["function"]["arguments"])
    jsonschema.validate(args, tool["function"]["parameters"])
    assert args["grades"] == {"math": 90, "art": 70}
    assert resp["routes"][0]["/grades"] == "span"


@pytest.mark.parametrize("choice", ["required", "named"])
def test_a_determined_name_goes_in_with_the_call_header_in_one_trunk_call(pipeline, monkeypatch, choice):
    """One tool (or a forced one): the trunk has nothing to choose, so header, name and the name's
    end are one prefill, not a header pass whose logits nobody reads."""
    seen = []
    real = pipeline.b.prefill

    def prefill(ids, cache, all_logits=False):
        seen.append([int(t) for t in ids])
        return real(ids, cache, all_logits)

    monkeypatch.setattr(pipeline.b, "prefill", prefill)
    tool = TOOLS[0]
    name = tool["function"]["name"]
    tool_choice = "required" if choice == "required" else {"type": "function", "function": {"name": name}}
    resp = pipeline.respond({"messages": USER, "tools": [tool] if choice == "required" else TOOLS,
                             "tool_choice": tool_choice})
    syntax = pipeline.syntax
    want = pipeline.seg(syntax.header) + pipeline.seg(json.dumps(name)[1:-1]) + pipeline.seg(syntax.name_end)
    assert resp["tool_calls"][0]["function"]["name"] == name
    assert seen[1] == want  # seen[0] is the prompt


def test_a_repeated_parallel_call_moves_on_to_the_next_listed_value():
    from edgeagent.runtime.further import next_call
    from edgeagent.scaffold import compile_schema
    from edgeagent.scaffold.testing import tiny_tokenizer

    schema = {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
              "required": ["city"]}
    sc = compile_schema(schema, tiny_tokenizer())
    request = "Weather in Paris, Rome and Oslo, in celsius."
    first = {"city": "Paris", "unit": "celsius"}
    assert next_call(first, [first], request, sc) == {"city": "Rome", "unit": "celsius"}
    second = {"city": "Rome", "unit": "celsius"}
    assert next_call(second, [first, second], request, sc) == {"city": "Oslo", "unit": "celsius"}
    last = {"city": "Oslo", "unit": "celsius"}
    assert next_call(last, [first, second, last], request, sc) is None   # the list is used up: the turn ends


def test_an_optional_flag_the_request_names_is_set_true():
    """SpanRules.named_flags: a boolean (or SGD's "True" / "False" string flag) the call leaves out is
    set true where the request names the property; one the request does not name, a required one,
    one the call holds already and a result that breaks the schema are left alone."""
    from edgeagent.runtime.rewrite import named_flags

    schema = {"type": "object", "required": ["city", "verbose"], "properties": {
        "city": {"type": "string"}, "details": {"type": "boolean"}, "include_precipitation": {"type": "boolean"},
        "is_unisex": {"type": "string", "enum": ["True", "False", "dontcare"]}, "verbose": {"type": "boolean"}}}
    request = "Weather in Oslo with details and a unisex salon, verbose please"
    assert named_flags({"city": "Oslo", "verbose": False}, schema, request) == {
        "city": "Oslo", "verbose": False, "details": True, "is_unisex": "True"}
    assert named_flags({"city": "Oslo", "verbose": False, "details": False}, schema, request)["details"] is False
    assert named_flags({"city": "Oslo", "verbose": False}, schema, "Weather in Oslo") == {
        "city": "Oslo", "verbose": False}
    assert named_flags({"city": "Oslo", "verbose": False}, schema, "Oslo, including the precipitation")[
        "include_precipitation"] is True
    strict = {**schema, "additionalProperties": False, "maxProperties": 2}
    assert named_flags({"city": "Oslo", "verbose": False}, strict, request) == {"city": "Oslo", "verbose": False}


def test_a_further_call_with_no_news_is_filled_again_with_one_value_moved():
    """SpanRules.news_refill (refill_for_news): a call that repeats an earlier one is filled again with one value
    kept off the earlier call's words, the cheapest first (FillInfo.news), where the request writes
    numbers no call holds; a fill that brings nothing, or holds none of those numbers, is passed over;
    a call with news stays."""
    from edgeagent.runtime.fill import FillInfo
    from edgeagent.runtime.further import refill_for_news

    earlier = [{"field": 5, "area": 2, "time": 10}]
    args = {"field": 5, "area": 2, "time": 10}
    info = FillInfo(news={"/field": -8.0, "/area": -2.0, "/time": -7.0})
    refills = {"/area": {"field": 5, "area": 10, "time": 10},       # 10 is no owed number
               "/time": {"field": 5, "area": 2, "time": 4},
               "/field": {"field": 4, "area": 2, "time": 10}}
    asked = []

    def fill_call(fresh):
        (ptr,) = fresh
        asked.append(ptr)
        return refills[ptr], FillInfo(), None, {}

    got = refill_for_news(fill_call, args, info, {}, earlier, set(), owed={4.0})
    assert got[0] == {"field": 5, "area": 2, "time": 4} and asked == ["/area", "/time"]
    asked.clear()
    assert refill_for_news(fill_call, args, info, {}, earlier, set(), owed=set()) is None and asked == []   # none owed
    assert refill_for_news(fill_call, args, info, {}, earlier, set(), owed={4.0}, tries=1) is None
    # a call that says something new already is left alone, with no fill
    asked.clear()
    assert refill_for_news(fill_call, {"field": 5, "area": 2, "time": 4}, info, {}, earlier, set(), owed={4.0}) is None
    assert asked == []
    # a refill that copies the words the earlier call copied brings nothing either
    held = {40}
    same_words = lambda fresh: ({"field": 5, "area": 2, "time": 11}, FillInfo(), None, {"/time": range(40, 41)})
    assert refill_for_news(same_words, args, FillInfo(news={"/time": -1.0}), {}, earlier, held, owed={11.0}) is None


def test_a_repeated_call_is_told_where_earlier_calls_copied_from(pipeline, monkeypatch):
    """The fill of a second call of the same function gets, per property, the context positions the
    first call's copied values started at (SpanRules.fresh_repeats scores them down); the first call
    gets none."""
    import dataclasses

    import numpy as np

    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    seen = []

    def fill(sc, step, ctx_ids, *a, taken=None, **kw):
        seen.append((len(ctx_ids), {k: set(v) for k, v in (taken or {}).items()}))
        lat = [1.5, 2.5, 2.5][len(seen) - 1]                # the third is a repeat: the turn ends
        info = FillInfo(routes={"/city": "gen", "/lat": "span"}, spans={"/lat": (3, 3)})
        return {"city": "Oslo", "days": 2, "lat": lat}, None, info, None

    monkeypatch.setattr(pipeline_mod, "fill_and_decode", fill)
    monkeypatch.setattr(pipeline.b, "another_logits", lambda state: np.array([0.0, 3.0]))
    # the scripted fill copies every lat from one position; fresh_calls would end the turn there, and
    # lists_first would make the second call from the first without a fill ("1.5 and 2.5" is a list)
    monkeypatch.setattr(pipeline, "cfg", dataclasses.replace(
        pipeline.cfg, rules=dataclasses.replace(pipeline.cfg.rules, fresh_calls=False, lists_first=False)))
    request = {"messages": [{"role": "user", "content": "Weather in Oslo at latitude 1.5 and 2.5 for 2 days."}],
               "tools": TOOLS[:1], "tool_choice": "required"}
    resp = pipeline.respond(request)
    assert [json.loads(c["function"]["arguments"])["lat"] for c in resp["tool_calls"]] == [1.5, 2.5]
    (n1, first), (n2, second), (n3, third) = seen
    assert first == {} and second == {"/lat": {3}} and third == {"/lat": {3}}
    assert n1 < n2 < n3     # each call's context holds the calls before it


def test_a_list_element_that_fits_no_schema_makes_no_call(pipeline, monkeypatch):
    """"Paris and Lima" for a city enum of Paris and Rome: the list's next call would be the first one
    again (Lima fits no member), so it is no list call; the another-call head decides as without a
    list (before, that repeat ended the turn)."""
    import dataclasses

    import numpy as np

    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    # the fake fills copy nothing (no news to bring), and named_choices would make Rome the Paris named
    monkeypatch.setattr(pipeline, "cfg", dataclasses.replace(
        pipeline.cfg, rules=dataclasses.replace(pipeline.cfg.rules, fresh_calls=False, named_choices=False)))
    city = {"type": "object", "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]}},
            "required": ["city"]}
    fills = []
    monkeypatch.setattr(pipeline_mod, "fill_and_decode", lambda sc, *a, **kw: (
        fills.pop(0), None, FillInfo(routes={"/city": "span"}), None))
    request = {"messages": [{"role": "user", "content": "Weather in Paris and Lima."}],
               "tools": [{"type": "function", "function": {"name": "weather", "parameters": city}}],
               "tool_choice": "required"}
    cities = lambda: [json.loads(c["function"]["arguments"])["city"] for c in pipeline.respond(request)["tool_calls"]]
    monkeypatch.setattr(pipeline.b, "another_logits", lambda state: np.array([0.0, 3.0]))   # "another"
    fills[:] = [{"city": "Paris"}, {"city": "Rome"}, {"city": "Rome"}]
    assert cities() == ["Paris", "Rome"]
    monkeypatch.setattr(pipeline.b, "another_logits", lambda state: np.array([3.0, 0.0]))   # "end"
    fills[:] = [{"city": "Paris"}]
    assert cities() == ["Paris"]


def test_a_listed_value_without_its_call_keeps_the_turn_going(pipeline, monkeypatch):
    """The another-call head says "end" after every call; the request lists three cities, so the
    turn still makes a call per city, each taking the next one, then ends (and with the rule off,
    one call)."""
    import dataclasses

    import numpy as np

    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    copies = []

    def fill(sc, *a, **kw):                      # the slot filler copies Paris, then a city not listed
        copies.append("Paris" if not copies else "Lima")
        return {"city": copies[-1], "days": 2, "lat": 1.5}, None, FillInfo(routes={"/city": "span"}), None

    monkeypatch.setattr(pipeline_mod, "fill_and_decode", fill)
    monkeypatch.setattr(pipeline.b, "another_logits", lambda state: np.array([3.0, 0.0]))
    request = {"messages": [{"role": "user", "content": "Weather in Paris, Rome and Oslo for 2 days."}],
               "tools": TOOLS[:1], "tool_choice": "required"}
    cities = lambda resp: [json.loads(c["function"]["arguments"])["city"] for c in resp["tool_calls"]]
    # lists_first: the further calls are the first with the city moved, made without a fill
    assert cities(pipeline.respond(request)) == ["Paris", "Rome", "Oslo"] and len(copies) == 1
    copies.clear()
    monkeypatch.setattr(pipeline, "cfg", dataclasses.replace(
        pipeline.cfg, rules=dataclasses.replace(pipeline.cfg.rules, lists_first=False)))
    assert cities(pipeline.respond(request)) == ["Paris", "Rome", "Oslo"] and len(copies) == 3
    # a slot filler that copies Paris every time: the list's elements still replace it
    monkeypatch.setattr(pipeline_mod, "fill_and_decode", lambda sc, *a, **kw: (
        {"city": "Paris", "days": 2, "lat": 1.5}, None, FillInfo(routes={"/city": "span"}), None))
    assert cities(pipeline.respond(request)) == ["Paris", "Rome", "Oslo"]
    monkeypatch.setattr(pipeline_mod, "fill_and_decode", fill)
    copies.clear()
    monkeypatch.setattr(pipeline, "cfg", dataclasses.replace(
        pipeline.cfg, rules=dataclasses.replace(pipeline.cfg.rules, list_goes_on=False)))
    assert cities(pipeline.respond(request)) == ["Paris"]
    monkeypatch.undo()
    from edgeagent.runtime.further import list_next

    assert list_next({"city": "Paris"}, [], "Restaurants in Paris, France") == {}       # not a closed list
    assert list_next({"city": "Oslo"}, [{"city": "Paris"}, {"city": "Rome"}], "Paris, Rome and Oslo") == {}
    assert list_next({"city": "Paris"}, [], "Paris, Rome and Oslo") == {"city": "Rome"}
    gcd = "The GCD of 36 and 48, please."
    assert list_next({"a": 36, "b": 48}, [], gcd) == {}           # both listed numbers are in this one call


def test_a_listed_element_gets_its_call_before_the_calls_the_head_asks_for(pipeline, monkeypatch):
    """SpanRules.lists_first: the another-call head always says "another"; the fill of a further call
    moves every value (as fresh_repeats does), but the request lists the heights, so the second call
    is the first with only the height moved. With the rule off, the fresh fill is the second call."""
    import dataclasses

    import numpy as np

    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    tool = {"type": "function", "function": {"name": "bmi", "parameters": {
        "type": "object", "properties": {"weight": {"type": "number"}, "height": {"type": "number"}},
        "required": ["weight", "height"]}}}
    request = {"messages": [{"role": "user", "content": "I weigh 70 kg and my height is 1.75 and 1.93 m."}],
               "tools": [tool], "tool_choice": "required"}

    def run(**rules):
        fills = [{"weight": 70, "height": 1.75}, {"weight": 1.93, "height": 1.93}, {"weight": 1.75, "height": 1.93}]
        monkeypatch.setattr(pipeline_mod, "fill_and_decode", lambda sc, *a, **kw: (
            fills.pop(0) if fills else {"weight": 1.75, "height": 1.93}, None, FillInfo(routes={}), None))
        monkeypatch.setattr(pipeline, "cfg", dataclasses.replace(
            pipeline.cfg, rules=dataclasses.replace(pipeline.cfg.rules, fresh_calls=False, **rules)))
        return [json.loads(c["function"]["arguments"]) for c in pipeline.respond(request)["tool_calls"]]

    monkeypatch.setattr(pipeline.b, "another_logits", lambda state: np.array([0.0, 3.0]))
    calls = run()
    assert calls[:2] == [{"weight": 70, "height": 1.75}, {"weight": 70, "height": 1.93}], calls
    assert run(lists_first=False)[:2] == [{"weight": 70, "height": 1.75}, {"weight": 1.93, "height": 1.93}]


def _two_city_calls(pipeline, monkeypatch, first_spans):
    """cities(second, **rules): the cities of the calls made for "Weather in Oslo and Bergen at
    latitude 1.5 for 2 days." where the another-call head always says "another", the first fill is
    Oslo's, copied from ``first_spans``, and every further fill is ``second`` ((arguments, spans));
    ``rules`` change SpanRules, with lists_first off ("Oslo and Bergen" is a list: lists_first would
    make Bergen's call from Oslo's without a fill)."""
    import dataclasses

    import numpy as np

    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    monkeypatch.setattr(pipeline.b, "another_logits", lambda state: np.array([0.0, 3.0]))
    request = {"messages": [{"role": "user", "content": "Weather in Oslo and Bergen at latitude 1.5 for 2 days."}],
               "tools": TOOLS[:1], "tool_choice": "required"}
    base = pipeline.cfg

    def cities(second, **rules):
        fills = [({"city": "Oslo", "days": 2, "lat": 1.5}, first_spans), second, second]

        def fill(sc, *a, **kw):
            args, spans = fills.pop(0)
            return dict(args), None, FillInfo(routes={p: "span" for p in spans}, spans=spans), None
        monkeypatch.setattr(pipeline_mod, "fill_and_decode", fill)
        monkeypatch.setattr(pipeline, "cfg", dataclasses.replace(
            base, rules=dataclasses.replace(base.rules, lists_first=False, **rules)))
        return [json.loads(c["function"]["arguments"])["city"] for c in pipeline.respond(request)["tool_calls"]]
    return cities


def test_a_further_call_that_copies_nothing_new_ends_the_turn(pipeline, monkeypatch):
    """SpanRules.fresh_calls: the another-call head always says "another". A second call of the
    function that copies for "city" the words the first call copied for "lat", and keeps the rest,
    is not made; one that copies a new city is, and its repeat ends the turn. With the rule off
    SpanRules.echo_repeats still ends the turn (the city is the first call's lat); with both off the
    stale call is made."""
    cities = _two_city_calls(pipeline, monkeypatch, {"/city": (3, 4), "/lat": (8, 8)})
    stale = ({"city": "1.5", "days": 2, "lat": 1.5}, {"/city": (8, 8), "/lat": (8, 8)})
    fresh = ({"city": "Bergen", "days": 2, "lat": 1.5}, {"/city": (10, 11), "/lat": (8, 8)})
    assert cities(stale) == ["Oslo"]
    assert cities(fresh) == ["Oslo", "Bergen"]
    assert cities(stale, fresh_calls=False) == ["Oslo"]
    assert cities(stale, fresh_calls=False, echo_repeats=False) == ["Oslo", "1.5"]


def test_a_further_call_that_copies_another_propertys_words_ends_the_turn(pipeline, monkeypatch):
    """SpanRules.echo_repeats: a second call of the function brings a new city, but copies its days
    from the words the first call copied for lat: the turn ends before it. The same property's words
    again (lat) are not an echo."""
    cities = _two_city_calls(pipeline, monkeypatch, {"/city": (3, 4), "/days": (12, 12), "/lat": (8, 8)})
    echo = ({"city": "Bergen", "days": 1, "lat": 1.5}, {"/city": (10, 11), "/days": (8, 8), "/lat": (8, 8)})
    fresh = ({"city": "Bergen", "days": 2, "lat": 1.5}, {"/city": (10, 11), "/days": (12, 12), "/lat": (8, 8)})
    assert cities(echo) == ["Oslo"]
    assert cities(fresh) == ["Oslo", "Bergen"]
    assert cities(echo, echo_repeats=False) == ["Oslo", "Bergen"]


def test_a_call_that_breaks_a_validation_keyword_is_reported_not_returned(pipeline, monkeypatch):
    """The scaffold lays out types and required keys; keywords it leaves to the validator
    (maximum, pattern, ...) are checked before a call is returned: a value out of range is an
    error naming the pointer and the keyword, and no call."""
    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    value = {"x": 42}
    monkeypatch.setattr(pipeline_mod, "fill_and_decode", lambda *a, **kw: (dict(value), None, FillInfo(), None))
    tools = [{"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {"x": {"type": "integer", "minimum": 1, "maximum": 10}}, "required": ["x"]}}}]
    request = {"messages": [{"role": "user", "content": "set x to 42"}], "tools": tools, "tool_choice": "required"}
    resp = pipeline.respond(request)
    assert resp["tool_calls"] == []
    assert resp["errors"][0]["error"] == "arguments /x: 42 is greater than the maximum of 10"
    value["x"] = 7
    assert json.loads(pipeline.respond(request)["tool_calls"][0]["function"]["arguments"]) == {"x": 7}


def test_a_copied_list_for_one_value_becomes_a_call_per_element(pipeline, monkeypatch):
    """SpanRules.list_split: the slot filler copies "Sonoma and Marshall" for the one city of every
    call; the first call takes Sonoma and list_goes_on gives Marshall its call. Off, one call holds
    both."""
    import dataclasses

    import numpy as np

    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    monkeypatch.setattr(pipeline_mod, "fill_and_decode", lambda sc, *a, **kw: (
        {"city": "Sonoma and Marshall", "days": 2, "lat": 1.5}, None, FillInfo(routes={"/city": "span"}), None))
    monkeypatch.setattr(pipeline.b, "another_logits", lambda state: np.array([3.0, 0.0]))
    request = {"messages": [{"role": "user", "content": "Weather in Sonoma and Marshall for 2 days at 1.5 north."}],
               "tools": TOOLS[:1], "tool_choice": "required"}
    cities = lambda resp: [json.loads(c["function"]["arguments"])["city"] for c in resp["tool_calls"]]
    assert cities(pipeline.respond(request)) == ["Sonoma", "Marshall"]
    monkeypatch.setattr(pipeline, "cfg", dataclasses.replace(
        pipeline.cfg, rules=dataclasses.replace(pipeline.cfg.rules, list_split=False)))
    assert cities(pipeline.respond(request)) == ["Sonoma and Marshall"]


def test_the_prompt_lists_the_tools_as_the_heads_were_trained(tiny_backend, monkeypatch, tmp_path):
    import edgeagent.runtime.pipeline as pl
    from edgeagent.heads.io import heads_listing

    (tmp_path / "heads.json").write_text(json.dumps({"run_config": {"listing": "signature"}}))
    assert heads_listing(tmp_path) == "signature"
    (tmp_path / "heads.json").write_text(json.dumps({"files": []}))    # heads from before listings: json
    assert heads_listing(tmp_path) == "json" == tiny_backend.listing
    prompts = []
    render = pl.render_prompt
    monkeypatch.setattr(pl, "render_prompt", lambda *a, **kw: prompts.append(render(*a, **kw)) or prompts[-1])
    monkeypatch.setattr(tiny_backend, "listing", "signature")
    req = {"messages": USER, "tools": TOOLS, "tool_choice": "none"}
    for cfg, signature in ((PipelineConfig(max_new_tokens=1), True),
                           (PipelineConfig(max_new_tokens=1, listing="json"), False)):
        Pipeline(tiny_backend, cfg).respond(req)
        assert ("get_time(" in prompts[-1]) is signature and ('"parameters"' in prompts[-1]) is not signature
    pipe = Pipeline(tiny_backend, PipelineConfig(max_new_tokens=1))
    pipe.cfg.listing = "json"                  # `eval --set listing=json` sets it on a built pipeline
    pipe.respond(req)
    assert '"parameters"' in prompts[-1]
    with pytest.raises(ValueError, match="PipelineConfig.listing"):
        PipelineConfig(listing="yaml")


def test_a_list_element_takes_the_enum_member_it_names():
    from edgeagent.runtime.further import enum_member, next_call
    from edgeagent.scaffold import compile_schema
    from edgeagent.scaffold.testing import tiny_tokenizer

    prop = {"type": "string", "enum": ["checking", "savings", "Rock"]}
    assert enum_member("savings account balance", prop) == "savings" and enum_member("rock", prop) == "Rock"
    assert enum_member("jazz", prop) == "jazz" and enum_member("savings", {"type": "string"}) == "savings"
    schema = {"type": "object", "properties": {"account": prop}, "required": ["account"]}
    sc = compile_schema(schema, tiny_tokenizer())
    first = {"account": "checking"}
    request = "Give me my checking and savings account balance."
    assert next_call(first, [first], request, sc, schema) == {"account": "savings"}
    assert next_call(first, [first], request, sc) is None      # the element as written is no member


def test_an_enum_member_the_request_names_fills_the_property_left_out():
    from edgeagent.runtime.rewrite import with_named_members

    schema = {"type": "object", "properties": {
        "genre": {"type": "string", "enum": ["Pop", "Rock", "Country", "Reggae", "dontcare"]},
        "live": {"type": "string", "enum": ["True", "False"]}, "city": {"type": "string"}}}
    assert with_named_members({}, schema, "I want some reggae songs") == {"genre": "Reggae"}
    assert with_named_members({}, schema, "Some Pop and Country music") == {"genre": "Pop"}   # a list: its first
    assert with_named_members({}, schema, "Pop songs, not Country ones") == {}                # two, no list
    assert with_named_members({"genre": "Rock"}, schema, "Pop songs") == {"genre": "Rock"}    # the call's own stays
    assert with_named_members({}, schema, "A true story, whatever the genre (dontcare)") == {}  # flags name nothing
    assert with_named_members({}, {"type": "object", "properties": {"g": {"enum": ["Pop"]}},
                                   "additionalProperties": False, "maxProperties": 0}, "Pop") == {}  # breaks the schema


def test_an_enum_member_the_request_names_replaces_the_heads_choice():
    """SpanRules.named_choices: a held value takes the one member the request names; two named, a
    flag or a property without an enum leave the call as it is."""
    from edgeagent.runtime.rewrite import with_named_members

    schema = {"type": "object", "properties": {
        "freq": {"type": "string", "enum": ["monthly", "quarterly", "annually"]},
        "live": {"type": "string", "enum": ["True", "False"]}, "city": {"type": "string"}}}
    said = "Compound interest on $10000 at 5%, compounded monthly, in Paris"
    assert with_named_members({"freq": "quarterly"}, schema, said, chosen=True) == {"freq": "monthly"}
    assert with_named_members({"freq": "quarterly"}, schema, said) == {"freq": "quarterly"}   # the rule off
    assert with_named_members({"freq": "annually"}, schema, "monthly or quarterly?", chosen=True) \
        == {"freq": "annually"}                                                                   # two named
    assert with_named_members({"live": "False"}, schema, "a true story", chosen=True) == {"live": "False"}
    assert with_named_members({"city": "Rome"}, schema, "monthly in Paris", chosen=True) \
        == {"city": "Rome", "freq": "monthly"}                    # no enum: stays; the optional one left out: filled
    assert with_named_members({"city": "Rome"}, schema, "monthly in Paris", left_out=False, chosen=True) \
        == {"city": "Rome"}


def test_the_pipeline_hands_the_filler_the_other_tools_sentences_and_rewrites_percentages(pipeline, monkeypatch):
    """SpanRules.other_clauses: the filler gets the character spans of the other tool's sentence
    (None while the rule is off, its default); SpanRules.percent_fractions: a "5%" copied as 5 for a
    rate the description asks as a decimal is written 0.05."""
    import dataclasses

    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    def tool(name, description, prop, prop_description):
        return {"type": "function", "function": {"name": name, "description": description, "parameters": {
            "type": "object", "properties": {prop: {"type": "number", "description": prop_description}},
            "required": [prop]}}}

    tools = [tool("calculateFutureValue", "Future value of an investment", "rate", "The rate as a decimal"),
             tool("getHotelRevenue", "Revenue of a hotel", "hotel_id", "The hotel")]
    text = "Calculate the future value at a rate of 5% a year. Finally, get the revenue of hotel 7."
    request = {"messages": [{"role": "user", "content": text}], "tools": tools,
               "tool_choice": {"type": "function", "function": {"name": "calculateFutureValue"}}}
    seen = []

    def fake_fill(sc, *a, **kw):
        seen.append(kw.get("away"))
        return {"rate": 5}, None, FillInfo(routes={}), None

    monkeypatch.setattr(pipeline_mod, "fill_and_decode", fake_fill)

    def run(**rules):
        seen.clear()
        monkeypatch.setattr(pipeline, "cfg", dataclasses.replace(
            pipeline.cfg, max_calls=1, rules=dataclasses.replace(pipeline.cfg.rules, **rules)))
        return [json.loads(c["function"]["arguments"]) for c in pipeline.respond(request)["tool_calls"]]

    assert run() == [{"rate": 0.05}] and seen == [None]
    assert run(percent_fractions=False) == [{"rate": 5}]
    tools[0]["function"]["parameters"]["properties"]["rate"]["minimum"] = 1    # a fraction would break it
    assert run() == [{"rate": 5}]
    del tools[0]["function"]["parameters"]["properties"]["rate"]["minimum"]
    run(other_clauses=4.0)
    (request_text, spans), = seen
    assert request_text == text and [text[a:b] for a, b in spans] == ["Finally, get the revenue of hotel 7."]


def test_a_number_no_call_holds_asks_for_one_more_call(pipeline, monkeypatch):
    """SpanRules.numbers_owed: the another-call head says "end" after the first call, but the request
    still writes 1.6 and 60; one more call is made, and kept only where it holds one of them."""
    import dataclasses

    import numpy as np

    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    tool = {"type": "function", "function": {"name": "bmi", "parameters": {
        "type": "object", "properties": {"weight": {"type": "number"}, "height": {"type": "number"}},
        "required": ["weight", "height"]}}}
    request = {"messages": [{"role": "user", "content": "BMI for 1.8 m and 80 kg, also for 1.6 m and 60 kg."}],
               "tools": [tool], "tool_choice": "required"}
    monkeypatch.setattr(pipeline.b, "another_logits", lambda state: np.array([3.0, 0.0]))

    def run(fills, **rules):
        monkeypatch.setattr(pipeline_mod, "fill_and_decode", lambda sc, *a, **kw: (
            fills.pop(0) if fills else {"weight": 1, "height": 1}, None, FillInfo(routes={}), None))
        monkeypatch.setattr(pipeline, "cfg", dataclasses.replace(
            pipeline.cfg, rules=dataclasses.replace(pipeline.cfg.rules, **rules)))
        return [json.loads(c["function"]["arguments"]) for c in pipeline.respond(request)["tool_calls"]]

    fills = lambda: [{"weight": 80, "height": 1.8}, {"weight": 60, "height": 1.6}]
    # (", also for 1.6 m and 60 kg" is a lead clause no call holds a value of: clauses_owed alone asks too)
    assert run(fills(), numbers_owed=False, clauses_owed=False) == [{"weight": 80, "height": 1.8}]
    assert run(fills(), numbers_owed=False, clauses_owed=True) == \
        [{"weight": 80, "height": 1.8}, {"weight": 60, "height": 1.6}]
    assert run(fills(), numbers_owed=True) == [{"weight": 80, "height": 1.8}, {"weight": 60, "height": 1.6}]
    # the further call holds none of the owed numbers: it is dropped and the turn ends
    assert run([{"weight": 80, "height": 1.8}, {"weight": 80, "height": 2}], numbers_owed=True,
               owed_repeats=False, owed_template=False) == [{"weight": 80, "height": 1.8}]
    # SpanRules.owed_repeats: its weight repeats the first call's 80, the second of its numbers as the
    # request writes them, so it takes the second owed number, 60, and the call stays
    assert run([{"weight": 80, "height": 1.8}, {"weight": 80, "height": 2}], numbers_owed=True,
               owed_repeats=True) == [{"weight": 80, "height": 1.8}, {"weight": 60, "height": 2}]
    assert run([{"weight": 80, "height": 1.8}, {"weight": 7, "height": 2}], numbers_owed=True,
               owed_template=False) == [{"weight": 80, "height": 1.8}]   # nothing repeated: nothing to pay
    # SpanRules.owed_template: the call that would be dropped is the first call with the owed numbers
    assert run([{"weight": 80, "height": 1.8}, {"weight": 7, "height": 2}], numbers_owed=True,
               owed_template=True) == [{"weight": 80, "height": 1.8}, {"weight": 60, "height": 1.6}]
    # every number held: no further call
    assert run([{"weight": 80, "height": 1.8}, {"weight": 60, "height": 1.6}, {"weight": 9, "height": 9}],
               numbers_owed=True)[1:] == [{"weight": 60, "height": 1.6}]


def test_a_lead_clause_no_call_holds_asks_for_one_more_call(pipeline, monkeypatch):
    """SpanRules.clauses_owed: the another-call head says "end" after the first call, but the request's
    "Also, ..." sentence holds no call's value; one more call is made, and kept only where it holds a
    value that sentence writes."""
    import dataclasses

    import numpy as np

    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    tool = {"type": "function", "function": {"name": "find_recipe", "parameters": {
        "type": "object", "properties": {"dish": {"type": "string"}, "diet": {"type": "string"}},
        "required": ["dish"]}}}
    request = {"messages": [{"role": "user", "content": "Find a recipe for Chicken Noodle Soup. Also, find "
                                                        "one for a Vegan Salad."}],
               "tools": [tool], "tool_choice": "required"}
    monkeypatch.setattr(pipeline.b, "another_logits", lambda state: np.array([3.0, 0.0]))

    def run(fills, **rules):
        monkeypatch.setattr(pipeline_mod, "fill_and_decode", lambda sc, *a, **kw: (
            fills.pop(0) if fills else {"dish": "Tomato Soup"}, None, FillInfo(routes={}), None))
        monkeypatch.setattr(pipeline, "cfg", dataclasses.replace(
            pipeline.cfg, rules=dataclasses.replace(pipeline.cfg.rules, **rules)))
        return [json.loads(c["function"]["arguments"]) for c in pipeline.respond(request)["tool_calls"]]

    soup, salad = {"dish": "Chicken Noodle Soup"}, {"dish": "Vegan Salad"}
    assert run([soup, salad], clauses_owed=False) == [soup]
    assert run([soup, salad], clauses_owed=True) == [soup, salad]
    # the further call holds nothing the "Also" sentence writes: it is dropped and the turn ends
    assert run([soup, {"dish": "Tomato Soup"}], clauses_owed=True) == [soup]
    # the first call holds a value of the "Also" sentence already: nothing is owed
    assert run([{"dish": "Chicken Noodle Soup", "diet": "Vegan"}, salad], clauses_owed=True) == \
        [{"dish": "Chicken Noodle Soup", "diet": "Vegan"}]


def _walled_turn(pipeline, monkeypatch, text: str, name: str, params: dict, **fixed):
    """(run, seen) for a one-tool request ``text`` whose another-call head always says "end":
    run(fills, **rules) answers it with each call's fill taken from ``fills`` (the rules ``fixed``
    and ``rules`` set) and returns the calls' arguments; ``seen`` gets each fill's ``walls``."""
    import dataclasses

    import numpy as np

    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    request = {"messages": [{"role": "user", "content": text}],
               "tools": [{"type": "function", "function": {"name": name, "parameters": params}}],
               "tool_choice": "required"}
    monkeypatch.setattr(pipeline.b, "another_logits", lambda state: np.array([3.0, 0.0]))
    seen = []

    def run(fills, **rules):
        seen.clear()

        def fake_fill(sc, *a, **kw):
            seen.append(kw.get("walls"))
            return fills.pop(0) if fills else {}, None, FillInfo(routes={}), None

        monkeypatch.setattr(pipeline_mod, "fill_and_decode", fake_fill)
        monkeypatch.setattr(pipeline, "cfg", dataclasses.replace(pipeline.cfg, rules=dataclasses.replace(
            pipeline.cfg.rules, **{**fixed, **rules})))
        return [json.loads(c["function"]["arguments"]) for c in pipeline.respond(request)["tool_calls"]]

    return run, seen


def test_each_part_a_request_numbers_gets_a_call_of_its_own(pipeline, monkeypatch):
    """SpanRules.ordinal_parts: "The first triangle ... The second triangle ...": each call is walled
    off the other part, and where the another-call head says "end" after the first, one more call is
    made for the second part, kept only where it holds a value that part writes."""
    area = {"type": "object", "properties": {"base": {"type": "number"}, "height": {"type": "number"}},
            "required": ["base", "height"]}
    text = ("Two triangles. The first triangle has a base of 12 m and a height of 15 m. The second triangle has "
            "a base of 18 m and a height of 24 m.")
    # numbers_owed (18 and 24) and keyed_frames ("base of" again) would ask for the second call too
    run, seen = _walled_turn(pipeline, monkeypatch, text, "area", area, numbers_owed=False, keyed_frames=False)
    one, two = {"base": 12, "height": 15}, {"base": 18, "height": 24}
    assert run([one, two], ordinal_parts=False) == [one] and seen == [None]
    assert run([one, two], ordinal_parts=True) == [one, two]
    (said, first), (_, second) = seen
    assert said == text and [text[a:b] for a, b in first] == [text[text.index("second triangle"):]]
    assert [text[a:b] for a, b in second] == [text[text.index("first triangle"):text.index("second triangle")]]
    # the further call holds nothing the second part writes: it is dropped and the turn ends
    assert run([one, {"base": 12, "height": 7}], ordinal_parts=True) == [one]


def test_a_key_written_again_with_a_new_value_gets_a_call_of_its_own(pipeline, monkeypatch):
    """SpanRules.keyed_frames: "case number XY1234 ..., and case number GH5678 ...": where the
    another-call head says "end" after the first call, one more call is made that copies nothing from
    the first frame, kept only where it holds GH5678."""
    case = {"type": "object", "properties": {"case_number": {"type": "string"}, "court": {"type": "string"}},
            "required": ["case_number"]}
    text = "Status of case number XY1234 in Los Angeles County Court, and case number GH5678 in Orange County Court?"
    run, seen = _walled_turn(pipeline, monkeypatch, text, "case_status", case)
    one = {"case_number": "XY1234", "court": "Los Angeles County Court"}
    two = {"case_number": "GH5678", "court": "Orange County Court"}
    assert run([one, two], keyed_frames=False) == [one] and seen == [None]
    assert run([one, two], keyed_frames=True) == [one, two]
    assert seen[0] is None
    assert [text[a:b] for a, b in seen[1][1]] == ["number XY1234 in Los Angeles County Court, and case "]
    # the further call holds no new value: it is dropped and the turn ends
    assert run([one, {"case_number": "XY1234", "court": "Orange County Court"}], keyed_frames=True) == [one]


def test_a_further_call_that_would_end_the_turn_takes_the_owed_numbers(pipeline, monkeypatch):
    """SpanRules.owed_template: the another-call head asks for one more call, whose fill repeats the
    first call (or echoes it); where the request owes as many numbers as the first call holds, the
    call is the first one with the owed numbers in its numbers' places, in the order written."""
    import dataclasses

    import numpy as np

    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    tool = {"type": "function", "function": {"name": "final_velocity", "parameters": {
        "type": "object", "properties": {"acceleration": {"type": "number"}, "distance": {"type": "number"},
                                         "unit": {"type": "string"}}, "required": ["acceleration", "distance"]}}}
    text = "One object accelerates at 5 m/s^2 over 100 m, the second at 10 m/s^2 over 200 m. Final velocities?"
    request = {"messages": [{"role": "user", "content": text}], "tools": [tool], "tool_choice": "required"}
    first = {"acceleration": 5, "distance": 100, "unit": "m/s"}

    def run(second, **rules):
        votes = [np.array([0.0, 3.0])]             # "another" once, then "end"
        monkeypatch.setattr(pipeline.b, "another_logits", lambda state: votes.pop() if votes else np.array([3.0, 0.0]))
        fills = [first, second]
        monkeypatch.setattr(pipeline_mod, "fill_and_decode", lambda sc, *a, **kw: (
            fills.pop(0) if fills else first, None, FillInfo(routes={}), None))
        monkeypatch.setattr(pipeline, "cfg", dataclasses.replace(
            pipeline.cfg, rules=dataclasses.replace(pipeline.cfg.rules, **rules)))
        return [json.loads(c["function"]["arguments"]) for c in pipeline.respond(request)["tool_calls"]]

    assert run(first, owed_template=False) == [first]
    assert run(first, owed_template=True) == [first, {"acceleration": 10, "distance": 200, "unit": "m/s"}]
    # a further call that brings news is kept as the head filled it
    assert run({"acceleration": 100, "distance": 200, "unit": "m/s"}, owed_template=True)[1] == \
        {"acceleration": 100, "distance": 200, "unit": "m/s"}


def test_a_range_pair_takes_the_order_the_request_writes(pipeline, monkeypatch):
    """SpanRules.range_order: the filled call holds the range's two years the other way round; the
    pipeline puts them in the order "between 2012 and 2015" writes them, and only with the rule on."""
    import dataclasses

    import numpy as np

    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    tool = {"type": "function", "function": {"name": "cases", "parameters": {
        "type": "object", "properties": {"from_year": {"type": "integer"}, "to_year": {"type": "integer",
                                                                                         "maximum": 2014}},
        "required": ["from_year", "to_year"]}}}
    request = {"messages": [{"role": "user", "content": "Criminal cases between 2012 and 2013, please."}],
               "tools": [tool], "tool_choice": "required"}
    monkeypatch.setattr(pipeline.b, "another_logits", lambda state: np.array([3.0, 0.0]))

    def run(fill, **rules):
        monkeypatch.setattr(pipeline_mod, "fill_and_decode", lambda sc, *a, **kw: (
            dict(fill), None, FillInfo(routes={}), None))
        monkeypatch.setattr(pipeline, "cfg", dataclasses.replace(
            pipeline.cfg, rules=dataclasses.replace(pipeline.cfg.rules, **rules)))
        return [json.loads(c["function"]["arguments"]) for c in pipeline.respond(request)["tool_calls"]]

    assert run({"from_year": 2013, "to_year": 2012}, range_order=False) == [{"from_year": 2013, "to_year": 2012}]
    assert run({"from_year": 2013, "to_year": 2012}, range_order=True) == [{"from_year": 2012, "to_year": 2013}]
    # an order that breaks the schema (to_year at most 2014) is not taken: the call stays as filled
    request["messages"][0]["content"] = "Criminal cases between 2012 and 2015, please."
    assert run({"from_year": 2015, "to_year": 2012}, range_order=True) == [{"from_year": 2015, "to_year": 2012}]


def test_a_list_past_the_array_item_places_is_appended_where_the_schema_allows(pipeline, monkeypatch):
    """FillInfo.beyond: the values of a copied list past the array's item places are appended to
    the call, unless the longer array breaks the schema (maxItems), where the call keeps its items."""
    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    monkeypatch.setattr(pipeline_mod, "fill_and_decode", lambda *a, **kw: (
        {"xs": [1, 2]}, None, FillInfo(routes={"/xs/0": "span"}, beyond={"/xs": [3, 4]}), None))
    array = {"type": "array", "items": {"type": "integer"}}
    tools = lambda xs: [{"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {"xs": xs}, "required": ["xs"]}}}]
    request = lambda xs: {"messages": [{"role": "user", "content": "sum 1, 2, 3 and 4"}], "tools": tools(xs),
                          "tool_choice": "required"}
    args = lambda resp: json.loads(resp["tool_calls"][0]["function"]["arguments"])
    assert args(pipeline.respond(request(array))) == {"xs": [1, 2, 3, 4]}
    assert args(pipeline.respond(request({**array, "maxItems": 3}))) == {"xs": [1, 2]}


def test_the_filler_is_told_where_the_call_headers_stand(pipeline, monkeypatch):
    """SpanRules.own_headers: the pipeline hands the filler each call's header and function name as
    context positions, the last one ending where the context does."""
    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo

    seen = []

    def fake(sc, step, ctx_ids, tokenize, text_of, **kw):
        seen.append((text_of(ctx_ids[slice(*kw["headers"][-1])]), kw["headers"][-1][1] == len(ctx_ids)))
        return {"city": "Tokyo", "days": 3, "lat": 35.6}, None, FillInfo(routes={"/city": "span"}), None

    monkeypatch.setattr(pipeline_mod, "fill_and_decode", fake)
    pipeline.respond({"messages": USER, "tools": TOOLS[:1], "tool_choice": "required"})
    name = TOOLS[0]["function"]["name"]
    assert seen and all(name in text and ends for text, ends in seen), seen


def test_the_span_prior_reaches_the_filler_for_top_level_strings_only(pipeline, monkeypatch):
    """SpanRules.word_prior: with a span prior on the backend, the filler gets ``prior``: for a
    top-level string slot the bonus of each context token (0 at the prior's best word, "Tokyo" for
    `city` here), None for other slots (a number, a date); with the rule off or no prior, no callable."""
    import dataclasses

    import numpy as np

    from edgeagent.runtime import pipeline as pipeline_mod
    from edgeagent.runtime.fill import FillInfo
    from edgeagent.runtime.span_prior import FEATURES, SpanPrior

    weights = np.zeros(len(FEATURES))
    weights[FEATURES.index("x_place_cap")] = 5.0       # a capitalized word for a place
    weights[FEATURES.index("sh_first")] = -5.0         # not a sentence's first word ("Weather")
    seen = []

    def fake(sc, step, ctx_ids, tokenize, text_of, **kw):
        prior = kw.get("prior")
        if prior is None:
            seen.append(None)
        else:
            slots = {s.pointer: s for s in sc.slots if s.kind in ("string", "integer")}
            bonus = prior(slots["/city"])
            best = "".join(text_of(ctx_ids[i:i + 1]) for i in np.flatnonzero(bonus == bonus.max()))
            others = prior(slots["/days"]), prior(slots["/start_date"])
            seen.append((best.strip(), *others, bonus.min() < bonus.max()))
        return {"city": "Tokyo", "days": 3, "lat": 35.6}, None, FillInfo(routes={"/city": "span"}), None

    monkeypatch.setattr(pipeline_mod, "fill_and_decode", fake)
    monkeypatch.setattr(pipeline.b, "span_prior", SpanPrior(weights=weights.tolist()), raising=False)
    tool = json.loads(json.dumps(TOOLS[0]))
    tool["function"]["parameters"]["properties"]["start_date"] = {"type": "string"}   # the date rules' to write
    request = {"messages": USER, "tools": [tool], "tool_choice": "required"}
    on = dataclasses.replace(pipeline.cfg, max_calls=1)
    assert on.rules.word_prior == 1.0                   # the default
    monkeypatch.setattr(pipeline, "cfg", dataclasses.replace(on, rules=dataclasses.replace(on.rules, word_prior=0.0)))
    pipeline.respond(request)
    assert seen == [None]
    seen.clear()
    monkeypatch.setattr(pipeline, "cfg", on)
    pipeline.respond(request)
    assert seen == [("Tokyo", None, None, True)]
    seen.clear()
    monkeypatch.setattr(pipeline.b, "span_prior", None)
    pipeline.respond(request)
    assert seen == [None]
