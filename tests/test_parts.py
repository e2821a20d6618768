"""The parts a request numbers "first", "second", ... (runtime/parts.py, SpanRules.ordinal_parts), and
the slot filler walled off the other parts."""

import numpy as np

from edgeagent.heads.spec import ACTION_SPAN
from edgeagent.runtime.fill import fill_and_decode, token_texts
from edgeagent.runtime.parts import holds_part, ordinal_parts, part_text, splits_values, walls
from edgeagent.runtime.rules import SpanRules
from edgeagent.scaffold import compile_schema
from edgeagent.scaffold.testing import tiny_tokenizer

TRIANGLES = ("He needs the area of two triangles. The first triangle has a base of 12 meters and a height of 15 "
             "meters. The second triangle has a base of 18 meters and a height of 24 meters.")
AREA = {"type": "object", "properties": {"base": {"type": "number"}, "height": {"type": "number"}},
        "required": ["base", "height"]}


def _parts(text):
    return [part_text(text, p) for p in ordinal_parts(text)]


def test_the_parts_run_from_each_ordinal_to_the_next():
    assert _parts(TRIANGLES) == ["first triangle has a base of 12 meters and a height of 15 meters. The ",
                                 "second triangle has a base of 18 meters and a height of 24 meters."]
    # "If the first object falls for 10 s and the second for 7 s": the stretches interleave
    drop = "The first object starts at 0 m/s and the second at 5 m/s. If the first falls 10 s and the second 7 s?"
    assert _parts(drop) == ["first object starts at 0 m/s and the  first falls 10 s and the ",
                            "second at 5 m/s. If the  second 7 s?"]
    lead = "Help me? First, find the roots. \n\nSecond, a cubic, with its second-degree term. Third, a sort."
    assert _parts(lead) == ["First, find the roots. \n\n", "Second, a cubic, with its second-degree term. ",
                            "Third, a sort."]


def test_an_ordinal_out_of_place_opens_no_part():
    # one part only, or no determiner before it ("first and second place", "per second", "first-degree")
    assert ordinal_parts("Find the first edition of the book.") == []
    assert ordinal_parts("Who took first and second place?") == []
    assert ordinal_parts("A speed of 5 meters per second, for the first-degree term and 1 second.") == []
    # "the third" before any second opens nothing, nor does a form other than the first part's
    assert ordinal_parts("Skip the third one. Take the first one.") == []
    assert ordinal_parts("First, measure the interference of the devices, with the second device at 5 dBm.") == []


def test_a_function_with_two_places_for_the_parts_takes_them_in_one_call():
    props = lambda *names: {"type": "object", "properties": {n: {"type": "number"} for n in names}}
    assert splits_values(props("charge1", "charge2", "distance"))
    assert splits_values(props("first_number", "second_number"))
    assert splits_values(props("dataset_A", "dataset_B", "alpha"))
    assert not splits_values(props("base", "height"))
    assert not splits_values(props("a", "b", "c"))
    assert not splits_values({"type": "object"})


def test_a_call_holds_a_part_where_it_holds_a_value_the_part_writes():
    second = "second circle has a radius of 10cm, and the "
    assert holds_part({"radius": 10, "unit": "cm"}, second)
    assert holds_part({"name": "Circle"}, "second Circle is red")
    assert not holds_part({"radius": 5, "unit": "cm"}, "second circle has a radius of 10 m")  # "cm" not in it
    assert not holds_part({"radius": 1}, second)                 # not the 1 of "10"


def test_a_call_is_walled_off_the_other_parts_while_its_function_runs():
    parts = ordinal_parts(TRIANGLES)
    tools = [("calculate_area", "Area of a triangle", AREA)]
    first = walls(TRIANGLES, parts, [], "calculate_area", AREA, tools)
    assert [TRIANGLES[a:b] for a, b in first] == [part_text(TRIANGLES, parts[1])]
    second = walls(TRIANGLES, parts, ["calculate_area"], "calculate_area", AREA, tools)
    assert [TRIANGLES[a:b] for a, b in second] == [part_text(TRIANGLES, parts[0])]
    assert walls(TRIANGLES, parts, ["calculate_area"] * 2, "calculate_area", AREA, tools) is None  # no part left
    assert walls(TRIANGLES, parts, ["other"], "calculate_area", AREA, tools) is None     # another function ran
    two = {"type": "object", "properties": {"base1": {"type": "number"}, "base2": {"type": "number"}}}
    assert walls(TRIANGLES, parts, [], "calculate_area", two, tools) is None              # one call holds both
    # several tools: the part must hold this function's words most
    tasks = "Help me? First, get the price of gold. Second, get the revenue of hotel X1."
    listed = [("getPrice", "price of a commodity", {}), ("getRevenue", "revenue of a hotel", {})]
    parts = ordinal_parts(tasks)
    assert walls(tasks, parts, [], "getPrice", {}, listed) is not None
    assert walls(tasks, parts, [], "getRevenue", {}, listed) is None


def test_the_filler_copies_nothing_from_a_walled_part():
    """The head prefers the second part's 18 for the first call's base; walled off the second part,
    the base is the first part's 12."""
    tok = tiny_tokenizer()
    prompt = f"<|im_start|>user\n{TRIANGLES}<|im_end|>\n<|im_start|>assistant\n"
    ctx = np.asarray(tok.encode(prompt, add_special_tokens=False).ids)
    text_of = lambda ids: tok.decode([int(i) for i in ids])
    tokenize = lambda t: tok.encode(t, add_special_tokens=False).ids
    texts = token_texts(text_of, ctx)
    joined = "".join(texts)
    bounds = np.cumsum([len(t) for t in texts])
    at = lambda w: int(np.searchsorted(bounds, joined.index(w), side="right"))
    sc = compile_schema({"type": "object", "properties": {"base": {"type": "number"}}, "required": ["base"]}, tok)

    def step(ids, kinds, spos, rows=None):
        L, T = len(ids), len(ctx)
        act = np.zeros((L, 3), np.float32)
        act[:, ACTION_SPAN] = 5.0
        start, end = np.zeros((L, T), np.float32), np.zeros((L, T), np.float32)
        start[:, at("18")], start[:, at("12")] = 6.0, 5.0
        tok_logits = np.zeros((L, sc.null_id + 1), np.float32)
        return (tok_logits if rows is None else tok_logits[np.asarray(rows, np.int64)]), act, start, end

    parts = ordinal_parts(TRIANGLES)
    rules = SpanRules(keyed_numbers=0.0)
    run = lambda **kw: fill_and_decode(sc, step, ctx, tokenize, text_of, rules=rules, **kw)[0]
    assert run() == {"base": 18}
    assert run(walls=(TRIANGLES, parts[1])) == {"base": 12}
    assert run(walls=(TRIANGLES, parts[0])) == {"base": 18}
