"""Conversation formats: render -> parse round trips, tool turns, SmolLM3 template details, bad input."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeagent.formats import (call_header, call_syntax, family_of, parse_reply, parse_tool_calls, render_call,
                               render_calls, render_example, render_prompt, render_target, resolve_mode)
from edgeagent.formats import hermes, smollm3

FAMILIES = ["smollm2", "smollm3", "chatml"]
TODAY = "01 January 2026"
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
                   "required": ["city"]}}}
TIME = {"name": "get_time", "description": "Local time", "parameters": {"type": "object", "properties": {}}}


def call(name, **args):
    return {"type": "function", "function": {"name": name, "arguments": args}}


def conversation():
    return [
        {"role": "user", "content": "Weather in Paris and Zürich?"},
        {"role": "assistant", "content": "", "tool_calls": [call("get_weather", city="Paris"),
                                                             call("get_weather", city="Zürich", unit="c")]},
        {"role": "tool", "content": "18C"},
        {"role": "tool", "content": {"temp": 12}},
        {"role": "assistant", "content": "Paris 18C, Zürich 12C."},
    ]


@pytest.mark.parametrize("family", FAMILIES)
def test_call_round_trip_parallel_and_unicode(family):
    calls = [call("get_weather", city="São Paulo 東京", unit="c"), call("get_time"),
             call("x", n=-3, f=2.5, b=True, z=None, nested={"a": [1, {"b": "\"q\"\n"}]})]
    text = render_target({"role": "assistant", "content": "", "tool_calls": calls}, family, "no_think")
    content, parsed = parse_tool_calls(text, family)
    assert parsed == calls
    assert content == ""
    assert text.count("<tool_call>") == 3


@pytest.mark.parametrize("family", FAMILIES)
def test_call_text_is_header_name_args_footer(family):
    s = call_syntax(family)
    text = render_call("get_weather", {"city": "Paris"}, family)
    assert text.startswith(call_header(family))
    assert text == s.header + "get_weather" + s.name_end + '{"city": "Paris"}' + s.footer
    assert text == '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'


@pytest.mark.parametrize("family", FAMILIES)
def test_content_and_calls_together(family):
    msg = {"role": "assistant", "content": "Let me check.", "tool_calls": [call("get_time")]}
    content, calls = parse_tool_calls(render_target(msg, family, "no_think"), family)
    assert content == "Let me check." and calls == [call("get_time")]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8),
                       st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12)
                                    | st.floats(allow_nan=False, allow_infinity=False),
                                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                                    max_leaves=6), max_size=4),
       st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20))
def test_round_trip_any_json_arguments(args, name):
    for family in ("smollm2", "smollm3"):
        one = {"type": "function", "function": {"name": name, "arguments": args}}
        _, parsed = parse_tool_calls(render_calls([one], family), family)
        assert parsed == [one]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["<tool_call>", "</tool_call>", "<think>", "</think>", "{", "}", "[", "]", '"name"',
                                 '"arguments"', ":", ",", "\n", "x", "<|im_end|>", '"', "null", "1"]), max_size=30))
def test_parse_never_crashes(pieces):
    for family in FAMILIES:
        r = parse_reply("".join(pieces), family)
        assert isinstance(r.content, str)
        for c in r.tool_calls:
            assert isinstance(c["function"]["name"], str) and isinstance(c["function"]["arguments"], dict)


@pytest.mark.parametrize("text,reason", [
    ('<tool_call>{"name": "f", "arguments": {oops}}</tool_call>', "not valid JSON"),
    ('<tool_call>{"arguments": {}}</tool_call>', "call.name"),
    ('<tool_call>{"name": "f", "arguments": [1]}</tool_call>', "call.arguments"),
    ('<tool_call>{"name": "f"}</tool_call>', "missing 'arguments'"),
    ("<tool_call>   </tool_call>", "empty block"),
    ('<tool_call>\n{"name": "f", "argum', "unclosed"),
    ('<tool_call>"just a string"</tool_call>', "expected an object"),
])
def test_malformed_blocks_are_reported_not_raised(text, reason):
    r = parse_reply("before " + text, "smollm2")
    assert r.tool_calls == []
    assert len(r.errors) == 1 and reason in r.errors[0].reason
    assert text.strip() in r.content  # nothing is silently lost


def test_good_and_bad_blocks_mix():
    text = ('<tool_call>\n{"name": "a", "arguments": {}}\n</tool_call>\n<tool_call>{bad</tool_call>\n'
            '<tool_call>[{"name": "b", "arguments": "{\\"k\\": 1}"}, {"name": "c", "parameters": {}}]</tool_call><|im_end|>junk')
    r = parse_reply(text, "smollm3")
    assert [c["function"]["name"] for c in r.tool_calls] == ["a", "b", "c"]
    assert r.tool_calls[1]["function"]["arguments"] == {"k": 1}
    assert len(r.errors) == 1 and r.content == "<tool_call>{bad</tool_call>"
    assert "junk" not in r.content


def test_reasoning_is_split_off():
    r = parse_reply("<think>\nadd 2 and 2\n</think>\n" + render_call("calc", {"e": "2+2"}, "smollm3"), "smollm3")
    assert r.reasoning == "add 2 and 2" and r.tool_calls == [call("calc", e="2+2")] and r.content == ""


def test_hermes_prompt_lists_tools_and_groups_tool_results():
    text = render_prompt(conversation(), [WEATHER, TIME], "smollm2", add_generation_prompt=True)
    system = text.split("<|im_end|>")[0]
    assert system.startswith("<|im_start|>system\n" + hermes.SMOLLM2_DEFAULT_SYSTEM + "\n\nYou are a function calling AI")
    assert json.dumps(WEATHER, ensure_ascii=False) in system
    assert json.dumps({"type": "function", "function": TIME}) in system  # bare functions are wrapped
    assert ("<|im_start|>tool\n<tool_response>\n18C\n</tool_response>\n"
            '<tool_response>\n{"temp": 12}\n</tool_response><|im_end|>\n') in text
    assert text.endswith("<|im_start|>assistant\n")


def test_chatml_has_no_default_system_and_user_system_wins():
    msgs = [{"role": "user", "content": "hi"}]
    assert render_prompt(msgs, None, "chatml") == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    with_sys = render_prompt([{"role": "system", "content": "Be brief."}] + msgs, None, "smollm2")
    assert with_sys.startswith("<|im_start|>system\nBe brief.<|im_end|>\n") and "SmolLM" not in with_sys


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("mode", [None, "think", "no_think"])
def test_prompt_plus_target_is_the_full_conversation(family, mode):
    msgs = conversation()
    for cut in (2, 5):  # the call turn and the final answer
        prompt, target = render_example(msgs[:cut], [WEATHER], family, mode=mode, today=TODAY)
        full = render_prompt(msgs[:cut], [WEATHER], family, add_generation_prompt=False,
                             mode=resolve_mode(msgs[:cut - 1], family, mode), today=TODAY)
        assert full == prompt + target + "\n"
        assert target.endswith("<|im_end|>")


def test_smollm3_system_turn_follows_the_template():
    text = render_prompt([{"role": "user", "content": "hi"}], [WEATHER], "smollm3", mode="no_think", today=TODAY)
    assert text.startswith("<|im_start|>system\n## Metadata\n\nKnowledge Cutoff Date: June 2025\n"
                           f"Today Date: {TODAY}\nReasoning Mode: /no_think\n\n## Custom Instructions\n\n"
                           + smollm3.DEFAULT_NO_THINK + "### Tools\n\n" + smollm3.TOOLS_INTRO)
    assert str(WEATHER) + "\n</tools>" in text  # Jinja's `tool | string` is Python's str()
    assert "</tool_call>\n\n<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n" in text
    assert text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n")


def test_smollm3_modes_and_flags():
    user = [{"role": "user", "content": "hi"}]
    think = render_prompt(user, None, "smollm3", today=TODAY)  # default: enable_thinking
    assert "Reasoning Mode: /think" in think and smollm3.DEFAULT_THINK in think
    assert think.endswith("<|im_start|>assistant\n")
    assert "<|im_end|>" not in think.split("<|im_start|>user")[0]  # the template's no-tools quirk
    flagged = [{"role": "system", "content": "Be terse. /no_think"}] + user
    assert resolve_mode(flagged, "smollm3", "think") == "/no_think"  # the flag beats the mode
    text = render_prompt(flagged, None, "smollm3", mode="think", today=TODAY)
    assert "Reasoning Mode: /no_think\n\n## Custom Instructions\n\nBe terse.\n\n<|im_start|>user" in text
    override = render_prompt([{"role": "system", "content": "RAW /system_override"}] + user, [WEATHER], "smollm3")
    assert override.startswith("<|im_start|>system\nRAW<|im_end|>\n<|im_start|>user")


def test_smollm3_tool_result_is_a_user_turn_and_reasoning_is_kept():
    msgs = conversation()
    text = render_prompt(msgs, [WEATHER], "smollm3", add_generation_prompt=False, mode="no_think", today=TODAY)
    assert '<|im_start|>user\n18C<|im_end|>\n<|im_start|>user\n{"temp": 12}<|im_end|>\n' in text
    msg = {"role": "assistant", "content": "4", "reasoning_content": "2+2"}
    assert render_target(msg, "smollm3", "/think") == "<think>\n2+2\n</think>\n4<|im_end|>"
    assert render_target(msg, "smollm3", "no_think") == "4<|im_end|>"


def test_errors_name_the_bad_field():
    bad = [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [{"function": {"arguments": {}}}]}]
    with pytest.raises(ValueError, match=r"messages\[1\]\.tool_calls\[0\]\.function\.name"):
        render_prompt(bad, None, "smollm2")
    with pytest.raises(ValueError, match=r"messages\[0\]\.role"):
        render_prompt([{"role": "robot", "content": "x"}], None, "chatml")
    with pytest.raises(ValueError, match=r"messages\[1\]\.tool_calls: expected a list of tool calls, got int"):
        render_prompt([bad[0], {"role": "assistant", "tool_calls": 5}], None, "smollm2")
    with pytest.raises(ValueError, match=r"tools\[1\]\.function\.name"):
        render_prompt([], [WEATHER, {"description": "no name"}], "smollm2")
    with pytest.raises(ValueError, match=r"arguments: not valid JSON"):
        render_calls([{"function": {"name": "f", "arguments": "{nope"}}], "smollm2")
    with pytest.raises(ValueError, match=r"messages\[0\]\.content: a user message needs a string content"):
        render_prompt([{"role": "user", "content": None}], None, "smollm2")
    with pytest.raises(ValueError, match=r"messages\[0\]\.content\[1\]\.type: only text parts"):
        render_prompt([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url"}]}],
                      None, "smollm2")
    with pytest.raises(ValueError, match=r"messages\[0\]\.content: expected a string or a list of text parts"):
        render_prompt([{"role": "user", "content": {"text": "a"}}], None, "smollm2")
    with pytest.raises(ValueError, match="family"):
        render_prompt([], None, "llama3")
    with pytest.raises(ValueError, match="mode"):
        render_prompt([], None, "smollm3", mode="fast")


def _write(folder, **files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, value in files.items():
        (folder / name.replace("__", ".")).write_text(value if isinstance(value, str) else json.dumps(value))
    return folder


def test_family_of_checkpoint_folders_and_tokenizers(tmp_path):
    smol2 = _write(tmp_path / "a", config__json={"model_type": "llama"}, chat_template__jinja=hermes.chat_template())
    smol3 = _write(tmp_path / "b", config__json={"model_type": "smollm3"})
    xml = _write(tmp_path / "c", config__json={"model_type": "llama"},
                 tokenizer_config__json={"chat_template": "{% if xml_tools %}<|im_start|>{% endif %}"})
    plain = _write(tmp_path / "d", config__json={"model_type": "qwen2"},
                   tokenizer_config__json={"chat_template": "<|im_start|>{{ m }}"})
    meta = _write(tmp_path / "e", config__json={}, edgeagent__json={"family": "smollm3"})
    none = _write(tmp_path / "f", config__json={"model_type": "gpt2"})
    assert [family_of(p) for p in (smol2, smol3, xml, plain, meta, none)] == [
        "smollm2", "smollm3", "smollm3", "chatml", "smollm3", "unknown"]

    class Tok:
        chat_template = hermes.chat_template("chatml")
        name_or_path = ""
    assert family_of(Tok()) == "chatml"
    with pytest.raises(FileNotFoundError):
        family_of(tmp_path / "missing")


@pytest.mark.parametrize("family", ["smollm2", "smollm3"])
def test_text_parts_render_as_their_text_and_tool_json_as_json(family):
    """OpenAI content parts read as the string they join to; a tool's JSON result is written as JSON."""
    parts = [{"role": "user", "content": [{"type": "text", "text": "Weather in "}, {"type": "text", "text": "Oslo?"}]}]
    plain = [{"role": "user", "content": "Weather in Oslo?"}]
    assert render_prompt(parts, [WEATHER], family, today="2026-01-01") == \
        render_prompt(plain, [WEATHER], family, today="2026-01-01")
    call = {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "get_weather",
                                                                                "arguments": {"city": "Oslo"}}}]}
    result = {"role": "tool", "content": {"temp_c": 4}}
    assert '{"temp_c": 4}' in render_prompt(plain + [call, result], [WEATHER], family, today="2026-01-01")
    # a tool's result that is a list of typed objects is its JSON, not content parts to refuse
    typed = {"role": "tool", "content": [{"type": "restaurant", "name": "Chez Panisse"}]}
    assert '"type": "restaurant"' in render_prompt(plain + [call, typed], [WEATHER], family, today="2026-01-01")
    texts = {"role": "tool", "content": [{"type": "text", "text": "4 degrees"}]}
    assert "4 degrees" in render_prompt(plain + [call, texts], [WEATHER], family, today="2026-01-01")


def test_signature_listing_leaves_structure_to_the_scaffold():
    tools = [WEATHER, TIME, {"name": "tag", "description": "Tag  a\nphoto.", "parameters": {
        "type": "object", "required": ["ids"], "properties": {
            "ids": {"type": "array", "items": {"type": "integer"}, "description": "Photo ids"},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "kind": {"type": ["string", "integer"]}}}}]
    lines = hermes.tool_lines(tools, "signature").splitlines()
    assert lines == ['get_weather(city: string, unit?: "c" | "f"): Current weather of a city',
                     "get_time(): Local time",
                     "tag(ids: array of integer, note?: string | null, kind?: string | integer): Tag a photo."]
    described = hermes.tool_lines(tools, "described").splitlines()
    assert described[2] == "tag(ids: array of integer, note?: string | null, kind?: string | integer): Tag a photo. " \
                           "ids: Photo ids"
    assert described[:2] == lines[:2]           # no property descriptions: nothing added


@pytest.mark.parametrize("family", FAMILIES)
def test_listing_changes_only_the_tool_lines(family):
    msgs = [{"role": "user", "content": "Weather in Paris?"}]
    as_json = render_prompt(msgs, [WEATHER, TIME], family, today=TODAY)
    short = render_prompt(msgs, [WEATHER, TIME], family, today=TODAY, listing="signature")
    lines = hermes.tool_lines([WEATHER, TIME], "signature")
    assert lines in short and '"parameters"' not in short and len(short) < len(as_json)
    head, _, tail = short.partition(lines)
    assert as_json.startswith(head) and as_json.endswith(tail)
    with pytest.raises(ValueError, match="listing: expected one of"):
        render_prompt(msgs, [WEATHER], family, today=TODAY, listing="yaml")
