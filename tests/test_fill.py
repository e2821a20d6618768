"""Slot filling with a scripted head: routes, span copy, and repair of fills that do not assemble."""

import json
import re

import jsonschema
import numpy as np
import pytest

from edgeagent.heads.spec import ACTION_GEN, ACTION_NULL, ACTION_SPAN
from edgeagent.runtime.fill import best_span, fill_and_decode, past_article, repair_string, span_value
from edgeagent.scaffold import compile_schema
from edgeagent.scaffold.testing import tiny_tokenizer

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "n": {"type": "number"},
                                           "k": {"type": "integer"}}, "required": ["city", "n", "k"]}


def _rows(tok, rows):
    """A scripted head's token logits at ``rows`` only, as the backends return them."""
    return tok if rows is None else tok[np.asarray(rows, np.int64)]


def scripted_step(sc, favour: dict, action: int, span=None, T=8):
    """A head that prefers token ``favour[kind]`` everywhere in slots of that kind."""
    V1 = sc.null_id + 1

    def step(ids, kinds, spos, rows=None):
        L = len(ids)
        tok = np.zeros((L, V1), np.float32)
        for s in sc.slots:
            if s.kind in favour:
                tok[s.start:s.start + s.budget, favour[s.kind]] = 5.0
        act = np.zeros((L, 3), np.float32)
        act[:, action] = 5.0
        start, end = np.zeros((L, T), np.float32), np.zeros((L, T), np.float32)
        if span:
            start[:, span[0]] = end[:, span[1]] = 5.0
        return _rows(tok, rows), act, start, end
    return step


def span_head(sc, T, set_scores):
    """A head that routes every value to a span over T context tokens, with the start and end scores
    [L, T] that ``set_scores(start, end)`` writes (zeros elsewhere)."""
    def step(ids, kinds, spos, rows=None):
        L = len(ids)
        act = np.zeros((L, 3), np.float32)
        act[:, ACTION_SPAN] = 5.0
        start, end = np.zeros((L, T), np.float32), np.zeros((L, T), np.float32)
        set_scores(start, end)
        return _rows(np.zeros((L, sc.null_id + 1), np.float32), rows), act, start, end
    return step


def test_garbage_generation_is_repaired_into_valid_arguments():
    tok = tiny_tokenizer()
    sc = compile_schema(SCHEMA, tok)
    dot = tok.encode(".", add_special_tokens=False).ids[0]
    half = tok.token_to_id(bytes([0xC3]).decode("latin-1"))   # first byte of a 2-byte UTF-8 char alone
    favour = {"number": dot, "integer": dot, "string": half if half is not None else dot}
    text_of = lambda ids: tok.decode([int(i) for i in ids])
    tokenize = lambda t: tok.encode(t, add_special_tokens=False).ids
    args, _, info, err = fill_and_decode(sc, scripted_step(sc, favour, ACTION_GEN), np.zeros(8, np.int64),
                                         tokenize, text_of, steps=2)
    assert err is None, err
    jsonschema.validate(args, SCHEMA)
    assert set(info.repaired) >= {"/n", "/k"}


def test_span_route_copies_the_context_text_exactly():
    tok = tiny_tokenizer()
    sc = compile_schema({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}, tok)
    ctx = np.asarray(tok.encode("weather in New York today", add_special_tokens=False).ids)
    words = [tok.decode([int(i)]) for i in ctx]
    first = next(i for i, w in enumerate(words) if "New" in w)
    last = next(i for i, w in enumerate(words) if "York" in w)
    args, _, info, err = fill_and_decode(
        sc, scripted_step(sc, {}, ACTION_SPAN, span=(first, last), T=len(ctx)), ctx,
        lambda t: tok.encode(t, add_special_tokens=False).ids, lambda ids: tok.decode([int(i) for i in ids]))
    assert err is None and args == {"city": "New York"} and info.routes["/city"] == "span"


def test_best_span_and_repair_string():
    start = np.array([-5.0, 3.0, 0.0, 0.0])
    end = np.array([9.0, 0.0, 0.0, 2.0])
    assert best_span(start, end) == (1, 3)              # the end may not precede the start
    tok = tiny_tokenizer()
    tokenize = lambda t: tok.encode(t, add_special_tokens=False).ids
    ids = repair_string('bad \\x escape \ufffd and "quotes"', 6, tokenize, null_id=-1)
    text = tok.decode([i for i in ids if i != -1])
    assert len(ids) == 6 and json.loads('"' + text + '"') is not None


def test_a_value_under_an_absent_presence_marker_is_kept():
    """Optional strings have a presence slot; a head that fills the value but leaves the marker
    NULL gives "value tokens without the presence token" — the repair keeps the value."""
    tok = tiny_tokenizer()
    schema = {"type": "object", "properties": {"time": {"type": "string"}}}
    sc = compile_schema(schema, tok)
    assert [s.kind for s in sc.slots] == ["presence", "string"]
    word = tok.encode("noon", add_special_tokens=False).ids
    V1 = sc.null_id + 1

    def step(ids, kinds, spos, rows=None):
        L = len(ids)
        t = np.zeros((L, V1), np.float32)
        t[:, sc.null_id] = 5.0                      # the marker (and padding) prefer NULL
        value = sc.slots[1]
        for j, w in enumerate(word):
            t[value.start + j, w] = 9.0
        act = np.zeros((L, 3), np.float32)
        act[:, ACTION_GEN] = 5.0
        return _rows(t, rows), act, np.zeros((L, 4), np.float32), np.zeros((L, 4), np.float32)

    args, _, info, err = fill_and_decode(sc, step, np.zeros(4, np.int64),
                                         lambda t: tok.encode(t, add_special_tokens=False).ids,
                                         lambda ids: tok.decode([int(i) for i in ids]))
    assert err is None and args == {"time": "noon"} and "/time" in info.repaired


def test_spans_snap_to_whole_words():
    from edgeagent.runtime.fill import snap_to_words

    pieces = ["Book", " at", " Che", "z", " Pan", "isse", " at", " 7", "pm"]
    ids = np.arange(len(pieces))
    text_of = lambda sel: "".join(pieces[int(i)] for i in sel)
    assert snap_to_words(text_of, ids, 3, 5) == (2, 5)          # "z Panisse" -> " Chez Panisse"
    assert snap_to_words(text_of, ids, 4, 4) == (4, 5)          # " Pan" -> " Panisse"
    assert snap_to_words(text_of, ids, 1, 1) == (1, 1)          # a whole word stays
    assert snap_to_words(text_of, ids, 7, 7) == (7, 8)          # " 7" + "pm": one word


def test_a_copied_number_written_with_thousands_separators_fills_the_slot():
    from edgeagent.runtime.fill import span_value

    text_of = lambda ids: "".join(ids)
    ctx = ["I", " invested", " $", "20", ",000", " at", " 1", ",5", "%"]
    assert span_value(text_of, ctx, 3, 4, "integer") == "20000"
    assert span_value(text_of, ctx, 3, 4, "number") == "20000"
    assert span_value(text_of, ctx, 6, 7, "number") is None      # "1,5" is not a grouped number
    assert span_value(text_of, ctx, 3, 4, "string") == "20,000"  # a string keeps what was written


def test_prepared_span_label_finds_a_number_written_with_separators():
    from edgeagent.train.prepare import grouped_number

    assert grouped_number("20000") == "20,000" and grouped_number("-1234567.25") == "-1,234,567.25"
    assert grouped_number("999") is None and grouped_number("1e5") is None and grouped_number("abc") is None


def test_a_copied_value_that_opens_at_a_quote_ends_at_its_closing_quote():
    """The head's span for the species runs on to the end of the sentence; the value stops at the
    quote that closes the one it opens after."""
    tok = tiny_tokenizer()
    schema = {"type": "object", "properties": {"species": {"type": "string"}}, "required": ["species"]}
    sc = compile_schema(schema, tok)
    ctx = np.asarray(tok.encode('susceptibility of "iPAN9w" to the agent "Amphotericin B" please',
                                add_special_tokens=False).ids)
    text_of = lambda ids: tok.decode([int(i) for i in ids])
    tokenize = lambda t: tok.encode(t, add_special_tokens=False).ids
    words = [text_of([i]) for i in ctx]
    species = next(i + 1 for i, w in enumerate(words) if w.endswith('"'))
    from edgeagent.runtime.rules import SpanRules

    # no length penalty: the scripted end is far and the tiny tokenizer splits the id into letters
    args, _, info, err = fill_and_decode(sc, scripted_step(sc, {}, ACTION_SPAN, span=(species, len(ctx) - 2),
                                                           T=len(ctx)), ctx, tokenize, text_of,
                                         rules=SpanRules(length_penalty=0.0))
    assert err is None and args == {"species": "iPAN9w"} and info.routes["/species"] == "span", args


def test_close_quote():
    from edgeagent.runtime.fill import close_quote

    assert close_quote(' of "', 'iPAN9w" to the agent "Amph') == "iPAN9w"
    assert close_quote(" of", '"iPAN9w" to') == "iPAN9w"
    assert close_quote(" of", '"iPAN9w') == "iPAN9w"          # a quote nothing closes is dropped
    assert close_quote(" titled \u201c", "Clouds\u201d and") == "Clouds"
    assert close_quote(" in", 'Tokyo "x"') == 'Tokyo "x"'      # not opened by a quote: kept as copied


def _words(text):
    tok = tiny_tokenizer()
    ctx = np.asarray(tok.encode(text, add_special_tokens=False).ids)
    text_of = lambda ids: tok.decode([int(i) for i in ids])
    tokenize = lambda t: tok.encode(t, add_special_tokens=False).ids
    return tok, ctx, text_of, tokenize, [text_of([i]) for i in ctx]


def test_span_length_penalty_and_sentence_stops():
    start = np.array([0.0, 5.0, 0.0, 0.0, 0.0, 0.0])
    end = np.array([0.0, 3.9, 0.0, 0.0, 4.0, 0.0])
    assert best_span(start, end) == (1, 4)
    assert best_span(start, end, length_penalty=0.25) == (1, 1)   # nearly as sure of the short one
    assert best_span(start, end, length_penalty=0.01) == (1, 4)   # a real margin still wins
    stops = np.array([False, False, True, False, False, False])
    start = np.array([-9.0, 5.0, -9.0, -9.0, -9.0, -9.0])
    assert best_span(start, np.array([0.0, 1.0, 0.0, 0.0, 9.0, 0.0])) == (1, 4)
    assert best_span(start, np.array([0.0, 1.0, 0.0, 0.0, 9.0, 0.0]), stops=stops) == (1, 1)


def test_a_lone_article_span_moves_to_the_words_after_it():
    texts = ["Who", " invented", " the", " theory", " of", " relativity", " and", " when", "?", "<|im_end|>"]
    end = np.array([0.0, 0.0, 5.0, 1.0, 0.0, 4.0, 0.0, 2.0, 9.0, 9.0])
    assert past_article(texts, 2, 2, end, 48, 0.25) == (3, 5)      # "theory of relativity"
    assert past_article(texts, 2, 2, end, 2, 0.25) == (3, 3)       # no longer than span_max
    # the end stops before punctuation and special tokens, however sure the end scores are there
    assert past_article(texts, 2, 2, np.zeros(10), 48, 0.25) == (3, 3)
    # any other span stays as it is: more than the article, or an article before punctuation
    assert past_article(texts, 2, 3, end, 48, 0.25) == (2, 3)
    assert past_article(texts, 3, 3, end, 48, 0.25) == (3, 3)
    assert past_article(["a", " the", "?"], 1, 1, np.zeros(3), 48, 0.25) == (1, 1)
    assert past_article(["a", " the"], 1, 1, np.zeros(2), 48, 0.25) == (1, 1)

    from edgeagent.runtime.fill import sentence_stops, token_texts

    _, ctx, text_of, _, words = _words("data from 2004. Finally a report for the U.S. in May? yes")
    marked = [w for w, s in zip(words, sentence_stops(token_texts(text_of, ctx))) if s]
    assert "".join(marked).count(".") == 1 and "?" in "".join(marked), (words, marked)
    text = "See Dr. John R. Ichiuji in St. Louis. Then call Mr. Smith."
    _, ctx, text_of, _, words = _words(text)
    stops = np.flatnonzero(sentence_stops(token_texts(text_of, ctx)))
    ends = np.cumsum([len(w) for w in words])                           # the character after each token
    assert [text[:ends[i]] for i in stops] == ["See Dr. John R. Ichiuji in St. Louis."]  # titles, initials go on


def test_a_span_of_nothing_but_name_words_is_decoded_again_without_them():
    from edgeagent.runtime.fill import only_name_words

    assert only_name_words("building", ["building", "name"])
    assert only_name_words(" cells", ["get", "cell", "info", "cell", "type"])      # a plural counts
    for value in ("Empire State building", "Building", "of", "human cell", ""):
        assert not only_name_words(value, ["building", "name", "cell", "type"]), value
    assert not only_name_words("of", ["of"])                                       # under three letters: no name

    from edgeagent.runtime.rules import SpanRules

    tok, ctx, text_of, tokenize, pieces = _words("What is the height of the Empire State building in feet?")
    schema = {"type": "object", "properties": {"building_name": {"type": "string"}}, "required": ["building_name"]}
    sc = compile_schema(schema, tok)
    ends = np.cumsum([len(p) for p in pieces])                      # the character after each token
    text = "".join(pieces)
    empire, building = text.index(" Empire"), text.index(" building")
    first_empire = int(np.searchsorted(ends, empire, side="right"))
    first_building = int(np.searchsorted(ends, building, side="right"))
    last_building = int(np.searchsorted(ends, building + len(" building"), side="left"))

    def step(ids, kinds, spos, rows=None):
        L, T = len(ids), len(ctx)
        act = np.zeros((L, 3), np.float32)
        act[:, ACTION_SPAN] = 5.0
        start, end = np.zeros((L, T), np.float32), np.zeros((L, T), np.float32)
        start[:, first_building], start[:, first_empire] = 6.0, 4.0    # the head starts at the name word
        end[:, last_building] = 5.0
        return _rows(np.zeros((L, sc.null_id + 1), np.float32), rows), act, start, end

    def value(rules):
        args, _, _, err = fill_and_decode(sc, step, ctx, tokenize, text_of, rules=rules,
                                          function="building.get_dimensions")
        assert err is None, err
        return args["building_name"]

    assert value(SpanRules(bare_echoes=False, length_penalty=0.0)) == "building"
    assert value(SpanRules(length_penalty=0.0)) == "Empire State"   # "Empire State building", its name word dropped

    far = step                                                      # the head's next best start: "What"

    def step(ids, kinds, spos, rows=None):
        out = far(ids, kinds, spos, rows)
        out[2][:, first_empire], out[2][:, 0] = 1.0, 4.0
        return out

    assert value(SpanRules(modifier_echoes=False, length_penalty=0.0)) == "What is the height of the Empire State"
    assert value(SpanRules(length_penalty=0.0)) == "Empire State"   # the words right before the name word


def test_words_before_read_a_capitalized_run_or_one_plain_word():
    from edgeagent.runtime.fill import words_before

    def before(text, word):
        got = words_before(text, text.index(word))
        return None if got is None else text[got[0]:got[1]]

    assert before("the height of the Empire State building", "building") == "Empire State"
    assert before("in the American Red Cross organization.", "organization") == "American Red Cross"
    assert before("info on a human cell", "cell") == "human"
    assert before("I want 2 tickets", "tickets") == "2"
    # a function word, a run that opens the text or a sentence, punctuation between: none
    assert before("the info of the building", "building") is None
    assert before("Italian cuisine", "cuisine") is None
    assert before("Done. Italian cuisine", "cuisine") is None
    assert before("in Paris, cuisine", "cuisine") is None


def test_two_properties_do_not_copy_the_same_text_from_other_words():
    from edgeagent.runtime.rules import SpanRules

    tok, ctx, text_of, tokenize, pieces = _words("Find a bus from Vancouver to Seattle. Seattle is where I live.")
    schema = {"type": "object", "properties": {"to_city": {"type": "string"}, "from_city": {"type": "string"}},
              "required": ["to_city", "from_city"]}
    sc = compile_schema(schema, tok)
    ends = np.cumsum([len(p) for p in pieces])
    text = "".join(pieces)

    def word(at):                                                   # (first, last) token of the word at ``at``
        w = re.match(r"\s*\w+", text[at:]).group(0)
        return (int(np.searchsorted(ends, at, side="right")),
                int(np.searchsorted(ends, at + len(w), side="left")))
    seattle1, seattle2 = word(text.index(" Seattle")), word(text.index(" Seattle", text.index(" Seattle") + 1))
    vancouver = word(text.index(" Vancouver"))
    to_slot, from_slot = (next(s for s in sc.slots if s.pointer == p) for p in ("/to_city", "/from_city"))

    def step(ids, kinds, spos, rows=None):
        L, T = len(ids), len(ctx)
        act = np.zeros((L, 3), np.float32)
        act[:, ACTION_SPAN] = 5.0
        start, end = np.zeros((L, T), np.float32), np.zeros((L, T), np.float32)
        start[to_slot.start, seattle1[0]] = 6.0
        start[from_slot.start, seattle2[0]], start[from_slot.start, vancouver[0]] = 5.0, 4.0
        for first, last in (seattle1, seattle2, vancouver):
            end[:, last] = 5.0
        return _rows(np.zeros((L, sc.null_id + 1), np.float32), rows), act, start, end

    def values(rules):
        args, _, _, err = fill_and_decode(sc, step, ctx, tokenize, text_of, rules=rules)
        assert err is None, err
        return args["to_city"], args["from_city"]

    assert values(SpanRules(disjoint_texts=False, length_penalty=0.0)) == ("Seattle", "Seattle")
    assert values(SpanRules(length_penalty=0.0)) == ("Seattle", "Vancouver")


def test_a_copied_number_takes_its_decimals_and_thousands_groups():
    from edgeagent.runtime.fill import extend_number

    pieces = ["a", " loan", " of", " ", "2", "0", "0", ",", "0", "0", "0", " at", " ", "9", "0", ".", "5",
              "%", " in", " ", "2", "0", "0", "4", ".", " Then"]
    text_of = lambda sel: "".join(pieces[int(i)] for i in sel)
    ids = np.arange(len(pieces))
    assert text_of(ids[3:extend_number(text_of, ids, 3, 6) + 1]) == " 200,000"
    assert text_of(ids[12:extend_number(text_of, ids, 12, 14) + 1]) == " 90.5"
    assert extend_number(text_of, ids, 19, 23) == 23                  # "2004." ends a sentence
    assert extend_number(text_of, ids, 0, 1) == 1                     # not a number: unchanged


NUMBERS = {"type": "object", "properties": {"numbers": {"type": "array", "items": {"type": "number"}}},
           "required": ["numbers"]}


def test_an_array_copied_from_a_list_in_the_conversation_takes_its_elements_in_order():
    """The head copies 10 for every item of the list "5, 10, 15 and 20": the first item starts the
    list at its first element, the next items read the list on, and items past its end are left out."""
    tok, ctx, text_of, tokenize, words = _words("the average of 5, 10, 15 and 20. thanks")
    from edgeagent.runtime.rules import SpanRules

    sc = compile_schema(NUMBERS, tok)
    ten = next(i for i, w in enumerate(words) if w.strip() == "10" or w.strip() == "1")
    last = ten if words[ten].strip() == "10" else ten + 1
    step = scripted_step(sc, {}, ACTION_SPAN, span=(ten, last), T=len(ctx))
    args, _, info, err = fill_and_decode(sc, step, ctx, tokenize, text_of)
    assert err is None and args == {"numbers": [5, 10, 15, 20]}, (args, words)
    args, _, _, err = fill_and_decode(sc, step, ctx, tokenize, text_of, rules=SpanRules.off())
    assert err is None and args["numbers"][0] == 10 and args["numbers"] != [5, 10, 15, 20]


def test_optional_values_lean_to_absent_and_are_never_left_empty():
    from edgeagent.runtime.rules import SpanRules

    tok = tiny_tokenizer()
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "note": {"type": "string"}}}
    sc = compile_schema(schema, tok)
    assert [s.kind for s in sc.slots] == ["integer", "presence", "string"]
    seven = tok.encode("7", add_special_tokens=False).ids
    V1 = sc.null_id + 1

    def step(ids, kinds, spos, rows=None):
        L = len(ids)
        t = np.zeros((L, V1), np.float32)
        t[:, sc.null_id] = 5.0                          # the string's value: nothing
        for j, w in enumerate(sc.slots[1].choices[0]):
            t[sc.slots[1].start + j, w] = 6.0           # ... yet marked present
        for j, w in enumerate(seven):
            t[sc.slots[0].start + j, w] = 9.0
        act = np.zeros((L, 3), np.float32)
        act[:, ACTION_GEN] = 1.0
        act[:, ACTION_NULL] = 0.0                       # the number: generate, by a small margin
        return _rows(t, rows), act, np.zeros((L, 4), np.float32), np.zeros((L, 4), np.float32)

    run = lambda rules, named=None: fill_and_decode(sc, step, np.zeros(4, np.int64), lambda t: tok.encode(
        t, add_special_tokens=False).ids, lambda ids: tok.decode([int(i) for i in ids]), rules=rules, named=named)[0]
    leaning = SpanRules(free_calls=False)           # free_calls would spare this function (nothing required)
    assert run(SpanRules.off()) == {"n": 7, "note": ""}
    assert run(leaning) == {}
    assert run(SpanRules(absent_bias=0.0, free_calls=False)) == {"n": 7}
    assert run(leaning, named={"/n"}) == {"n": 7}                    # the request names it: no push
    assert run(SpanRules()) == {"n": 7}                              # free_calls: no push


def test_free_calls_spares_only_functions_with_no_required_property():
    """SpanRules.free_calls: where the function requires "x", its optional "n" still leans absent."""
    from edgeagent.runtime.rules import SpanRules

    tok = tiny_tokenizer()
    sc = compile_schema({"type": "object", "properties": {"n": {"type": "integer"}, "x": {"type": "integer"}},
                         "required": ["x"]}, tok)
    seven = tok.encode("7", add_special_tokens=False).ids

    def step(ids, kinds, spos, rows=None):
        L = len(ids)
        t = np.zeros((L, sc.null_id + 1), np.float32)
        t[:, sc.null_id] = 5.0
        for s in sc.slots:
            if s.kind == "integer":
                t[s.start:s.start + len(seven), seven] = 9.0
        act = np.zeros((L, 3), np.float32)
        act[:, ACTION_GEN] = 1.0                        # generate, by a small margin over NULL
        return _rows(t, rows), act, np.zeros((L, 4), np.float32), np.zeros((L, 4), np.float32)

    run = lambda rules: fill_and_decode(sc, step, np.zeros(4, np.int64), lambda t: tok.encode(
        t, add_special_tokens=False).ids, lambda ids: tok.decode([int(i) for i in ids]), rules=rules)[0]
    assert run(SpanRules(absent_bias=0.0)) == {"n": 7, "x": 7}
    assert run(SpanRules(free_calls=True)) == {"x": 7} == run(SpanRules())


def test_copied_strings_are_whole_chunks_without_edge_punctuation():
    from edgeagent.runtime.fill import snap_to_words, span_value, trim_edges

    pieces = ["on", " ", "2", "0", "2", "2", "-", "0", "3", "-", "1", "1", ",", " get", " https", "://",
              "example", ".", "com", "/v", ".json", ".", " rs", "603", "44", "64", " \u6211", "\ufffd", "\ufffd"]
    ids = np.arange(len(pieces))
    text_of = lambda sel: "".join(pieces[int(i)] for i in sel)
    first, last = snap_to_words(text_of, ids, 2, 5, reach=32, chunks=True)
    assert span_value(text_of, ids, first, last, "string", trim=True) == "2022-03-11"       # no trailing ","
    assert snap_to_words(text_of, ids, 2, 5) == (2, 5)                  # alnum words: "2022" stays "2022"
    first, last = snap_to_words(text_of, ids, 14, 16, reach=32, chunks=True)
    assert span_value(text_of, ids, first, last, "string", trim=True) == "https://example.com/v.json"
    assert snap_to_words(text_of, ids, 22, 23, reach=32) == (22, 25)    # "rs6034464", not "rs60344"
    assert snap_to_words(text_of, ids, 26, 26) == (26, 28)              # a split character is not cut
    assert [trim_edges(x) for x in ("Paris,", "(NY", "NY)", "f(x)", "a [b]", "XYZ's.")] == \
        ["Paris", "NY", "NY", "f(x)", "a [b]", "XYZ"]
    assert [trim_edges(x) for x in ("(stress, social support).", "[a]", "(a) and (b)", "((a))", "(a")] == \
        ["stress, social support", "a", "(a) and (b)", "a", "a"]
    assert [trim_edges(x) for x in ("Washington D.C.", "Acme Inc.", "U.S.,", "in May.", "plan A.", "BAD.C.")] == \
        ["Washington D.C.", "Acme Inc.", "U.S.", "in May", "plan A", "BAD.C"]   # an abbreviation keeps its period
    assert [trim_edges(x) for x in ('Paris?"', '"Paris', '"Paris"', 'say "hi."', "\u201cHello")] == \
        ["Paris", "Paris", '"Paris"', 'say "hi."', "Hello"]    # a double quote held once goes


def test_values_are_copied_from_the_conversation_not_the_tool_listing():
    from edgeagent.runtime.fill import token_texts, tool_listing
    from edgeagent.runtime.rules import SpanRules

    prompt = ('Tools: <tools></tools> listed below.\n<tools>\n{"name": "weather", "description": "The city, '
              'e.g. Paris or Rome"}\n</tools>\nuser: weather in Oslo please')
    tok, ctx, text_of, tokenize, words = _words(prompt)
    inside = tool_listing(token_texts(text_of, ctx))
    listed = "".join(w for w, m in zip(words, inside) if m)
    assert "Paris" in listed and "Oslo" not in listed and "weather in" not in listed, listed
    sc = compile_schema({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}, tok)
    at = np.cumsum([len(w) for w in words])                 # the character each token ends at
    paris, oslo = (int(np.searchsorted(at, "".join(words).index(w), side="right")) for w in ("Paris", "Oslo"))
    paris_end, oslo_end = (int(np.searchsorted(at, "".join(words).index(w) + len(w) - 1, side="right"))
                           for w in ("Paris", "Oslo"))

    def step(ids, kinds, spos, rows=None):
        L, T = len(ids), len(ctx)
        act = np.zeros((L, 3), np.float32)
        act[:, ACTION_SPAN] = 5.0
        start, end = np.zeros((L, T), np.float32), np.zeros((L, T), np.float32)
        start[:, paris], start[:, oslo] = 9.0, 6.0         # the head prefers the listing's example
        end[:, paris_end], end[:, oslo_end] = 9.0, 6.0
        return _rows(np.zeros((L, sc.null_id + 1), np.float32), rows), act, start, end

    run = lambda rules: fill_and_decode(sc, step, ctx, tokenize, text_of, rules=rules)[0]
    assert run(SpanRules(conversation_only=True)) == {"city": "Oslo"}
    assert run(SpanRules()) == {"city": "Paris"}                   # off by default


def test_number_starts_marks_whole_numbers_only():
    from edgeagent.runtime.fill import number_starts

    *_, words = _words("numbers: 6, 80, 49.5 and 2022-03-11 at -5, $200,000 x2 abc12")
    ends = number_starts(words)
    found = ["".join(words[i:j + 1]).strip() for i, j in enumerate(ends) if j >= 0]
    # digits only: the decimals and thousands groups come from extend_number; "03", "11", "000",
    # the "2" of "x2" and the "12" of "abc12" are inside something longer
    assert found == ["6", "80", "49", "2022", "-5", "200"], found


def test_a_number_slot_copies_a_number_of_the_conversation():
    from edgeagent.runtime.rules import SpanRules

    tok, ctx, text_of, tokenize, words = _words("rate 2.5 for 12 years, then 7")
    sc = compile_schema({"type": "object", "properties": {"years": {"type": "integer"}}, "required": ["years"]}, tok)
    at = {w.strip(): i for i, w in reversed(list(enumerate(words)))}   # the first token of each text
    nine = tokenize("9")[0]

    def step_for(action, best, end_at=None, T=None):
        T = T or len(ctx)

        def step(ids, kinds, spos, rows=None):
            L = len(ids)
            tok_logits = np.zeros((L, sc.null_id + 1), np.float32)
            tok_logits[:, nine] = 5.0                          # generation writes nines
            act = np.zeros((L, 3), np.float32)
            act[:, action] = 5.0
            start, end = np.zeros((L, T), np.float32), np.zeros((L, T), np.float32)
            for rank, w in enumerate(best):
                start[:, at[w]] = 9.0 - rank
            if best:
                end[:, at[end_at or best[0]]] = 9.0
            return _rows(tok_logits, rows), act, start, end
        return step

    generated = lambda v: set(str(v["years"])) == {"9"}
    run = lambda step, **kw: fill_and_decode(sc, step, ctx, tokenize, text_of, rules=SpanRules(**kw))[0]
    # the head would generate: a number of the conversation is copied instead
    assert run(step_for(ACTION_GEN, ["1"])) == {"years": 12}
    assert generated(run(step_for(ACTION_GEN, ["1"]), copy_numbers=False))
    # "2.5" reads as no integer: the next best start
    assert run(step_for(ACTION_SPAN, ["2", "1"])) == {"years": 12}
    # a span the head runs on past its number ("12 years, then 7") is that number
    assert run(step_for(ACTION_SPAN, ["1"], end_at="7")) == {"years": 12}
    # no number in the conversation: generated as the head says
    _, ctx2, text_of2, tokenize2, _ = _words("rate for some years")
    assert generated(fill_and_decode(sc, step_for(ACTION_GEN, [], T=len(ctx2)), ctx2, tokenize2, text_of2)[0])


def test_each_pass_asks_for_the_token_logits_it_reads():
    from edgeagent.runtime.fill import fill

    tok = tiny_tokenizer()
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "hot": {"type": "boolean"},
                                               "unit": {"enum": ["c", "f"]}}, "required": ["city", "hot"]}
    sc = compile_schema(schema, tok)
    ctx = np.asarray(tok.encode("weather in Oslo", add_special_tokens=False).ids)
    text_of = lambda ids: tok.decode([int(i) for i in ids])
    tokenize = lambda t: tok.encode(t, add_special_tokens=False).ids
    positions = lambda kinds: sorted(p for s in sc.slots if s.kind in kinds for p in range(s.start, s.start + s.budget))
    words = [text_of([i]) for i in ctx]
    oslo = (next(i for i, w in enumerate(words) if "O" in w), len(words) - 1)
    full = {"span": scripted_step(sc, {}, ACTION_SPAN, span=oslo, T=len(ctx)),
            "gen": scripted_step(sc, {"string": tokenize("x")[0]}, ACTION_GEN, T=len(ctx))}
    for route, steps in (("span", 1), ("gen", 1), ("gen", 3)):
        calls = []

        def step(ids, kinds, spos, rows, _full=full[route], _calls=calls):
            _calls.append((ids.copy(), sorted(np.asarray(rows).tolist())))
            out = _full(ids, kinds, spos, rows)
            assert len(out[0]) == len(rows)                    # the rows asked for, in that order
            return out

        ids, info = fill(sc, step, ctx, tokenize, text_of, steps=steps)
        choices = positions(("choice", "presence", "null"))
        assert choices and calls[0][1] == choices               # the routing pass: choice positions only
        if route == "span":
            assert len(calls) == 1 and sc.decode(ids)["city"] == "Oslo"
            continue
        strings = positions(("string",))
        assert calls[1][1] == strings and (calls[1][0] == calls[0][0]).all()  # generation step 1: the masked scaffold
        assert len(calls) == 1 + steps == info.steps
        assert all(set(c[1]) < set(strings) for c in calls[2:])   # later steps: the positions not yet committed
        assert sc.decode(ids)["city"].startswith("x")


def test_a_copied_12_hour_time_is_written_on_the_24_hour_clock():
    from edgeagent.runtime.fill import clock_24h
    from edgeagent.runtime.rules import SpanRules

    assert [clock_24h(t) for t in ("1 pm", "12 pm", "12 am", "9:30 a.m.", "11:05PM", "10:00 AM")] == \
        ["13:00", "12:00", "00:00", "09:30", "23:05", "10:00"]
    assert [clock_24h(t) for t in ("13:00", "2:15", "1", "13 pm", "1 pmx", "at 1 pm")] == [None] * 6
    tok, ctx, text_of, tokenize, words = _words("book it for 1 pm tomorrow")
    sc = compile_schema({"type": "object", "properties": {"time": {"type": "string"}}, "required": ["time"]}, tok)
    first = next(i for i, w in enumerate(words) if w.strip() == "1")
    last = next(i for i, w in enumerate(words) if i > first and "m" in w)
    step = scripted_step(sc, {}, ACTION_SPAN, span=(first, last), T=len(ctx))
    run = lambda **kw: fill_and_decode(sc, step, ctx, tokenize, text_of, rules=SpanRules(**kw))[0]
    assert run() == {"time": "13:00"}
    assert run(clock_24h=False) == {"time": "1 pm"}


def _two_heights():
    """(fill(lead, **kw) -> fill_and_decode's result, [where 1.75 starts, where 0.59 starts]): a head
    that copies a height of "weight 70 height 1.75, also weight 40 height 0.59", 1.75 by ``lead``."""
    tok, ctx, text_of, tokenize, words = _words("weight 70 height 1.75, also weight 40 height 0.59")
    sc = compile_schema({"type": "object", "properties": {"height": {"type": "number"}}, "required": ["height"]}, tok)
    at = [words.index(" 1"), max(i for i, w in enumerate(words) if w == "0")]

    def step(lead):
        def scores(start, end):
            start[:, at[0]], start[:, at[1]] = 5.0 + lead, 5.0
        return span_head(sc, len(ctx), scores)

    return lambda lead, **kw: fill_and_decode(sc, step(lead), ctx, tokenize, text_of, **kw), at


def test_a_repeated_call_moves_off_the_positions_earlier_calls_copied():
    """SpanRules.fresh_repeats: the start an earlier call of the function copied for the same
    property loses that much score; a lead larger than it still wins; info.spans says where
    each copied value started."""
    from edgeagent.runtime.rules import SpanRules

    fill, at = _two_heights()
    args, _, info, _ = fill(1.0)
    assert args == {"height": 1.75} and info.spans["/height"][0] == at[0]
    assert fill(1.0, taken={"/height": {at[0]}})[0] == {"height": 0.59}
    assert fill(3.0, taken={"/height": {at[0]}})[0] == {"height": 0.59}   # the rule's 4 beats a lead of 3
    assert fill(5.0, taken={"/height": {at[0]}})[0] == {"height": 1.75}   # a lead of 5 beats it
    assert fill(1.0, taken={"/height": {at[0]}}, rules=SpanRules(fresh_repeats=0.0))[0] == {"height": 1.75}
    assert fill(1.0, taken={"/weight": {at[0]}})[0] == {"height": 1.75}   # another property's positions


def test_a_fresh_value_never_starts_where_an_earlier_call_copied_and_news_says_what_that_costs():
    """fill's ``fresh``: the pointers whose value may not start where an earlier call of the function
    copied one (``taken``), inside a value ``claimed`` holds for the property, or in the turn's written
    calls (``turn``), whatever its lead; FillInfo.news is the start score given up for that, measured
    without the keyed-number bonus."""
    fill, at = _two_heights()
    args, _, info, _ = fill(9.0)
    assert args == {"height": 1.75} and info.news == {}          # no earlier call: nothing to say
    args, _, info, _ = fill(9.0, taken={"/height": {at[0]}})
    assert args == {"height": 1.75}                               # fresh_repeats' 4 is less than the lead
    assert info.news["/height"] == pytest.approx(-5.0)            # 9 - 4 ahead of 0.59
    assert fill(9.0, taken={"/height": {at[0]}}, fresh={"/height"})[0] == {"height": 0.59}
    assert fill(9.0, claimed={"height": {at[0]}}, fresh={"/height"})[0] == {"height": 0.59}
    assert fill(9.0, turn=range(at[0], at[0] + 1), taken={"/height": {0}},
                fresh={"/height"})[0] == {"height": 0.59}
    assert fill(9.0, taken={"/height": {at[0]}}, fresh={"/weight"})[0] == {"height": 1.75}


def test_a_copied_route_keeps_the_leg_its_property_names():
    """SpanRules.route_legs (one_leg): "San Francisco to Tokyo" is the first name for an origin, the
    second for a destination; other strings, and a quoted route, stay as they are."""
    from edgeagent.runtime.fill import one_leg

    assert one_leg("San Francisco to Tokyo", ["departure", "city"]) == "San Francisco"
    assert one_leg("San Francisco to Tokyo", ["destination", "city"]) == "Tokyo"
    assert one_leg("New York, to Los Angeles", ["to"]) == "Los Angeles"
    assert one_leg("Pay to play", ["title"]) == "Pay to play"          # "play" is no name
    assert one_leg("Bed and Breakfast", ["name"]) == "Bed and Breakfast"
    tok, ctx, text_of, tokenize, words = _words('fly "Paris to Rome" from Paris to Rome')
    text = "".join(words)
    quoted = text.index('"Paris') + 1
    at = lambda a, b: (_tok_at(words, a), _tok_at(words, b - 1))
    assert span_value(text_of, ctx, *at(quoted, quoted + len("Paris to Rome")), "string",
                      legs=["origin"]) == "Paris to Rome"
    plain = text.rindex("Paris")
    assert span_value(text_of, ctx, *at(plain, len(text)), "string", legs=["origin"]) == "Paris"
    assert span_value(text_of, ctx, *at(plain, len(text)), "string") == "Paris to Rome"


def _tok_at(words, char):
    """The index of the token (``words``: token texts) that holds character ``char`` of their text."""
    end = 0
    for i, w in enumerate(words):
        end += len(w)
        if char < end:
            return i
    raise IndexError(char)


def test_a_union_value_that_fits_none_of_its_types_becomes_its_scalar_or_null():
    """repair_union: a copied word in an integer-or-null slot is null; a quoted number is the
    number; a value too long for the slot is null too."""
    from edgeagent.runtime.fill import repair_union

    tokenize = lambda text: [ord(c) for c in text]
    text = lambda ids: "".join(chr(i) for i in ids if i)
    assert text(repair_union('"call"', 8, tokenize, 0)) == "null"
    assert text(repair_union('"5"', 8, tokenize, 0)) == "5"
    assert text(repair_union('"true"', 8, tokenize, 0)) == "true"
    assert text(repair_union('"123456789"', 8, tokenize, 0)) == "null"
    assert text(repair_union('{broken', 8, tokenize, 0)) == "null"


def test_an_optional_value_that_echoes_another_property_is_left_out():
    """SpanRules.optional_echoes: where an optional property copies the span a required one of the
    call holds ("call"), or one an earlier call of the turn copied for another property ("turn"),
    it is left out; "keep" keeps it, and a property the request names is spared."""
    from edgeagent.runtime.rules import SpanRules

    tok, ctx, text_of, tokenize, words = _words("images of subject abc123 from a scan")
    sc = compile_schema({"type": "object", "properties": {"subject": {"type": "string"}, "note": {"type": "string"}},
                         "required": ["subject"]}, tok)
    at = words.index(" subject") + 1
    last = words.index("3")
    step = scripted_step(sc, {}, ACTION_SPAN, span=(at, last), T=len(ctx))
    run = lambda mode, **kw: fill_and_decode(sc, step, ctx, tokenize, text_of,
                                             rules=SpanRules(absent_bias=0.0, optional_echoes=mode), **kw)[0]
    assert run("keep") == {"subject": "abc123", "note": "abc123"}
    assert run("call") == {"subject": "abc123"}
    assert run("call", named={"/note"}) == {"subject": "abc123", "note": "abc123"}

    optional = compile_schema({"type": "object", "properties": {"note": {"type": "string"}}}, tok)
    step = scripted_step(optional, {}, ACTION_SPAN, span=(at, last), T=len(ctx))
    run = lambda mode, claimed: fill_and_decode(optional, step, ctx, tokenize, text_of, claimed=claimed,
                                                rules=SpanRules(absent_bias=0.0, optional_echoes=mode))[0]
    assert run("turn", {"subject": {at}}) == {}
    assert run("turn", {"note": {at}}) == {"note": "abc123"}     # the same property: a repeat, not an echo
    assert run("call", {"subject": {at}}) == {"note": "abc123"}


def test_a_copied_string_drops_a_leading_lowercase_article():
    """SpanRules.drop_articles: "a white powder" is copied as "white powder"; a capitalised "The"
    (a name) and a word that only starts like one stay; off, the span is copied as it is."""
    from edgeagent.runtime.fill import drop_article
    from edgeagent.runtime.rules import SpanRules

    assert drop_article("a white powder") == "white powder" and drop_article("an owl") == "owl"
    assert drop_article("The Central Library") == "The Central Library"
    assert drop_article("theory") == "theory" and drop_article("a") == "a"

    tok, ctx, text_of, tokenize, words = _words("found at a crime scene today")
    sc = compile_schema({"type": "object", "properties": {"place": {"type": "string"}}, "required": ["place"]}, tok)
    first, last = words.index(" a"), words.index(" to") - 1
    step = scripted_step(sc, {}, ACTION_SPAN, span=(first, last), T=len(ctx))
    run = lambda on: fill_and_decode(sc, step, ctx, tokenize, text_of, rules=SpanRules(drop_articles=on))[0]
    assert run(True) == {"place": "crime scene"}
    assert run(False) == {"place": "a crime scene"}


def test_a_span_that_runs_over_another_propertys_value_is_decoded_around_it():
    """SpanRules.disjoint_spans: "destination" scored best as "Long Beach tomorrow to Las Vegas", over
    the "Long Beach" that "origin" copies, is decoded again without it: "Las Vegas". A span ending
    where the shorter one starts is cut before it; of two properties copying the same words, the
    less sure yields; off, the overlaps stay."""
    from edgeagent.runtime.rules import SpanRules

    tok, ctx, text_of, tokenize, words = _words("leave from Long Beach tomorrow to Las Vegas")
    sc = compile_schema({"type": "object", "properties": {"origin": {"type": "string"},
                                                          "destination": {"type": "string"}},
                         "required": ["origin", "destination"]}, tok)
    text = "".join(words)
    bounds = np.cumsum([len(w) for w in words])              # the character after each token
    first_tok = lambda w: int(np.searchsorted(bounds, text.index(" " + w) + 1, side="right"))
    last_tok = lambda w: int(np.searchsorted(bounds, text.index(" " + w) + len(w), side="right"))
    slot = {s.pointer: s for s in sc.slots}

    def step(scores):
        def set_scores(start, end):
            for pointer, (starts, ends) in scores.items():
                for w, v in starts.items():
                    start[slot[pointer].start, first_tok(w)] = v
                for w, v in ends.items():
                    end[slot[pointer].start, last_tok(w)] = v
        return span_head(sc, len(ctx), set_scores)

    origin = ({"Long": 5.0}, {"Beach": 5.0})
    over = {"/origin": origin, "/destination": ({"Long": 10.0, "Las": 4.0}, {"Vegas": 10.0, "Beach": 3.0})}
    run = lambda scores, on: fill_and_decode(sc, step(scores), ctx, tokenize, text_of,
                                             rules=SpanRules(disjoint_spans=on))[0]
    assert run(over, False) == {"origin": "Long Beach", "destination": "Long Beach tomorrow to Las Vegas"}
    assert run(over, True) == {"origin": "Long Beach", "destination": "Las Vegas"}
    # a span that starts before the shorter one ends before it: "from" rather than "from Long Beach"
    before = {"/origin": origin, "/destination": ({"from": 5.0}, {"Beach": 5.0, "from": 1.0})}
    assert run(before, True) == {"origin": "Long Beach", "destination": "from"}
    # spans apart are left alone, as are two properties copying the same span
    apart = {"/origin": origin, "/destination": ({"Las": 5.0}, {"Vegas": 5.0})}
    assert run(apart, True) == run(apart, False) == {"origin": "Long Beach", "destination": "Las Vegas"}
    same = {"/origin": origin, "/destination": origin}          # equally sure of the same words: a tie stays
    assert run(same, True) == {"origin": "Long Beach", "destination": "Long Beach"}
    # the same words, "destination" less sure of them: it yields to its next best
    less = {"/origin": origin, "/destination": ({"Long": 4.0, "Las": 3.0}, {"Beach": 4.0, "Vegas": 3.0})}
    assert run(less, False) == {"origin": "Long Beach", "destination": "Long Beach"}
    assert run(less, True) == {"origin": "Long Beach", "destination": "Las Vegas"}


def test_bare_words_drop_a_leading_preposition_and_trailing_function_words():
    from edgeagent.runtime.fill import bare_words, span_value

    assert bare_words("to Las Vegas") == "Las Vegas" and bare_words("km/h if it") == "km/h"
    for kept in ("at work", "Paris", "in", "To Kill a Mockingbird", "news on Bitcoin"):
        assert bare_words(kept) == kept
    words = ["I", " fly", " to", " Las", " Vegas", " if", " it", " is", " '", "to", " be", "'"]
    text_of = lambda ids: "".join(words[i] for i in ids)
    ids = list(range(len(words)))
    assert span_value(text_of, ids, 2, 7, "string", bare=True) == "Las Vegas"
    assert span_value(text_of, ids, 2, 7, "string") == "to Las Vegas if it is"
    assert span_value(text_of, ids, 9, 10, "string", bare=True) == "to be"   # quoted: the user's words


def test_name_run_widens_a_copied_name_to_its_capitalized_words():
    from edgeagent.runtime.fill import name_run

    def widened(text, value):
        texts = list(text)                                             # one token per character
        at = text.index(value)
        first, last = name_run(texts, at, at + len(value) - 1)
        return text[first:last + 1].strip()

    text = "user\nShow films of Leonardo DiCaprio and the color Sea Green. Find Tokyo hotels for ID ABC123."
    assert widened(text, "Leonardo") == "Leonardo DiCaprio"
    assert widened(text, "DiCaprio") == "Leonardo DiCaprio"
    assert widened(text, "Green") == "Sea Green"
    assert widened(text, "Tokyo") == "Tokyo"                          # "Find" opens the sentence
    assert widened(text, "ABC123") == "ABC123"                        # "ID" and codes are no names
    assert widened(text, "films") == "films"                          # a lower-case edge stays
    assert widened("user\nin Boston, Chicago and Miami", "Chicago") == "Chicago"   # commas part names


def test_name_run_joined_widens_across_of_only_when_asked():
    from edgeagent.runtime.fill import name_run

    def widened(text, value, joined=True):
        at = text.index(value)
        first, last = name_run(list(text), at, at + len(value) - 1, joined=joined)
        return text[first:last + 1].strip()

    text = "user\nWhen does the Metropolitan Museum of Art open? Ask the Bank of the West today."
    assert widened(text, "Art") == "Metropolitan Museum of Art"
    assert widened(text, "Art", joined=False) == "Art"
    assert widened(text, "Metropolitan") == "Metropolitan Museum of Art"
    assert widened(text, "Bank") == "Bank of the West"
    assert widened(text, "West") == "Bank of the West"
    # a span that takes the sentence's full stop still widens back (the stop is span_value's to trim)
    assert widened("user\nhours of the Metropolitan Museum of Art.", "Art.") == "Metropolitan Museum of Art."
    assert widened("user\nfilms of Leonardo DiCaprio.", "DiCaprio.", joined=False) == "Leonardo DiCaprio."
    # a lower-case word after "of", or an "of" that opens the run, joins nothing
    assert widened("user\nin the heart of Paris", "Paris") == "Paris"
    assert widened("user\nthe Museum of modern art", "Museum") == "Museum"
    assert widened("user\nOf Mice and Men", "Mice") == "Mice"


def test_name_runs_widen_a_copied_string_only_when_on():
    from edgeagent.runtime.rules import SpanRules

    tok, ctx, text_of, tokenize, words = _words("user\nmovies with Leonardo DiCaprio please")
    sc = compile_schema({"type": "object", "properties": {"actor": {"type": "string"}}, "required": ["actor"]}, tok)
    leo = next(i for i, w in enumerate(words) if w.strip().startswith("L"))
    leo_end = max(i for i in range(leo, len(words)) if "".join(words[leo:i + 1]).strip() == "Leonardo")
    step = scripted_step(sc, {}, ACTION_SPAN, span=(leo, leo_end), T=len(ctx))
    run = lambda on: fill_and_decode(sc, step, ctx, tokenize, text_of, rules=SpanRules(name_runs=on))[0]
    assert run(False) == {"actor": "Leonardo"}
    assert run(True) == {"actor": "Leonardo DiCaprio"}


def test_quote_run_takes_a_quotation_a_value_starts_to_its_end():
    from edgeagent.runtime.fill import quote_run

    def widened(text, value, at=None):
        texts = list(text)                                             # one token per character
        at = text.index(value) if at is None else at
        first, last = quote_run(texts, at, at + len(value) - 1)
        return text[first:last + 1]

    text = "user\nDetails of the case titled 'Roe v. Wade'. Include dissent."
    assert widened(text, "Roe") == "Roe v. Wade"
    assert widened(text, "'Roe") == "'Roe v. Wade"                    # the span may hold the opening quote
    assert widened(text, "Roe v. Wade'. Include") == "Roe v. Wade'. Include"   # wider: close_quote cuts it
    assert widened(text, "v.") == "v."                                 # inside, not at its start
    assert widened('user\nthe company "Apple Inc." in 2010', "Apple") == "Apple Inc."
    assert widened("user\nthe book \u201cDune Messiah\u201d now", "Dune") == "Dune Messiah"
    assert widened("user\nLet's go to John's place", "s") == "s"       # apostrophes open nothing
    assert widened("user\nsay 'it is John's car' now", "it") == "it is John's car"   # not closed inside a word
    assert widened("user\nthe 'unclosed quote here\nnext line' ok", "unclosed") == "unclosed"   # one line only
    long = "user\nsay '" + "a " * 60 + "'"
    assert widened(long, "a", at=long.index("'") + 1) == "a"          # past reach: kept


def test_whole_quotes_widen_a_copied_string_only_when_on():
    from edgeagent.runtime.rules import SpanRules

    tok, ctx, text_of, tokenize, words = _words('user\nthe case titled "paris or rome" please')
    sc = compile_schema({"type": "object", "properties": {"case": {"type": "string"}}, "required": ["case"]}, tok)
    roe, roe_end = words.index("p"), words.index("is")                 # "paris"
    step = scripted_step(sc, {}, ACTION_SPAN, span=(roe, roe_end), T=len(ctx))
    run = lambda on: fill_and_decode(sc, step, ctx, tokenize, text_of, rules=SpanRules(whole_quotes=on))[0]
    assert run(False) == {"case": "paris"}
    assert run(True) == {"case": "paris or rome"}


def test_drop_name_words_takes_the_property_name_off_a_copied_string():
    from edgeagent.runtime.fill import drop_name_words

    assert drop_name_words("Chinese cuisine", ["cuisine"]) == "Chinese"
    assert drop_name_words("dataset your_data", ["dataset"]) == "your_data"
    assert drop_name_words("Italian restaurants", ["restaurant", "name"]) == "Italian"   # a plural counts
    assert drop_name_words("American Airlines", ["airlines"]) == "American Airlines"  # capitalized: a name
    assert drop_name_words("cuisine", ["cuisine"]) == "cuisine"                       # nothing else: kept
    assert drop_name_words("gas vehicles", ["vehicle", "type"]) == "gas"
    assert drop_name_words("rock music", ["id"]) == "rock music"                      # short words count not


def test_name_echoes_drop_the_name_word_only_when_on_and_not_quoted():
    from edgeagent.runtime.fill import span_value
    from edgeagent.runtime.rules import SpanRules

    text = 'user\nfind chinese food and "thai food" now'
    tok, ids, text_of, _, words = _words(text)
    at = np.cumsum([0] + [len(w) for w in words])
    token = lambda c: int(np.searchsorted(at, c, side="right")) - 1       # the token holding character c
    first, last = token(text.index("chinese")), token(text.index("food") + 3)
    assert span_value(text_of, ids, first, last, "string") == "chinese food"
    assert span_value(text_of, ids, first, last, "string", name_words=["food"]) == "chinese"
    first, last = token(text.index('"')), token(text.index('food"') + 3)
    assert span_value(text_of, ids, first, last, "string", name_words=["food"]) == "thai food"   # as quoted
    assert SpanRules.off().name_echoes is False and SpanRules().name_echoes is True


def test_function_echoes_drop_the_functions_name_words_from_a_copied_string():
    from edgeagent.runtime.fill import function_words
    from edgeagent.runtime.rules import SpanRules

    assert function_words("ml.predict_house_price") == ["ml", "predict", "house", "price"]
    assert function_words("getNews") == ["get", "news"] and function_words("") == []
    text = "user\nget the latest news on Bitcoin and Samsung today"
    tok, ctx, text_of, tokenize, words = _words(text)
    at = np.cumsum([0] + [len(w) for w in words])
    token = lambda c: int(np.searchsorted(at, c, side="right")) - 1
    sc = compile_schema({"type": "object", "properties": {"topic": {"type": "string"}}, "required": ["topic"]}, tok)
    step = scripted_step(sc, {}, ACTION_SPAN, span=(token(text.index("news")), token(text.index("Bitcoin") + 6)),
                         T=len(ctx))
    run = lambda on, function: fill_and_decode(sc, step, ctx, tokenize, text_of, function=function,
                                               rules=SpanRules(function_echoes=on))[0]
    assert run(True, "get_news") == {"topic": "Bitcoin"}           # the name word, then "on", dropped
    assert run(False, "get_news") == {"topic": "news on Bitcoin"}
    assert run(True, "search") == {"topic": "news on Bitcoin"}
    step = scripted_step(sc, {}, ACTION_SPAN, span=(token(text.index("and")), token(text.index("Samsung") + 6)),
                         T=len(ctx))
    assert fill_and_decode(sc, step, ctx, tokenize, text_of)[0] == {"topic": "Samsung"}   # a leading "and"
    assert SpanRules.off().function_echoes is False


def test_disjoint_numbers_give_two_number_properties_two_numbers():
    from edgeagent.runtime.rules import SpanRules

    text = "user\nthe lcm of 18 and 12 please"
    tok, ctx, text_of, tokenize, words = _words(text)
    at = np.cumsum([0] + [len(w) for w in words])
    twelve = int(np.searchsorted(at, text.index("12"), side="right")) - 1
    sc = compile_schema({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                         "required": ["a", "b"]}, tok)
    step = scripted_step(sc, {}, ACTION_SPAN, span=(twelve, twelve), T=len(ctx))   # both start at 12
    run = lambda on: fill_and_decode(sc, step, ctx, tokenize, text_of, rules=SpanRules(disjoint_numbers=on))[0]
    assert run(False) == {"a": 12, "b": 12}
    assert run(True) == {"a": 12, "b": 18}


def test_a_list_longer_than_the_item_places_is_copied_whole():
    from edgeagent.runtime.fill import with_beyond

    text = "the average of 85, 90, 88, 92, 86, 89, 91 and 95. thanks"
    tok, ctx, text_of, tokenize, words = _words(text)
    sc = compile_schema(NUMBERS, tok, array_items=3)
    at = np.cumsum([0] + [len(w) for w in words])
    token = lambda c: int(np.searchsorted(at, c, side="right")) - 1
    step = scripted_step(sc, {}, ACTION_SPAN, span=(token(text.index("85")), token(text.index("85") + 1)), T=len(ctx))
    args, _, info, err = fill_and_decode(sc, step, ctx, tokenize, text_of)
    assert err is None and args == {"numbers": [85, 90, 88]}
    assert info.beyond == {"/numbers": [92, 86, 89, 91, 95]}
    assert with_beyond(args, info.beyond) == {"numbers": [85, 90, 88, 92, 86, 89, 91, 95]}
    assert with_beyond(args, {"/missing/0": [1]}) == args                # no such array: unchanged


def test_every_rule_on_fills_a_call_with_nothing_to_copy():
    """A call of choices only (an enum, a flag) reads no number of the conversation: the number
    rules have nothing to part, and the fill goes through."""
    tok, ctx, text_of, tokenize, _ = _words("user\nplease check it")
    sc = compile_schema({"type": "object", "properties": {"kind": {"type": "string", "enum": ["a", "b"]},
                                                          "flag": {"type": "boolean"}},
                         "required": ["kind", "flag"]}, tok)
    step = scripted_step(sc, {}, ACTION_SPAN, span=(1, 1), T=len(ctx))
    args, _, _, err = fill_and_decode(sc, step, ctx, tokenize, text_of)
    assert err is None and args["kind"] in ("a", "b") and isinstance(args["flag"], bool)


def test_own_headers_keep_a_value_off_the_call_header():
    from edgeagent.runtime.rules import SpanRules

    text = 'user\nbook it for Tokyo\n<tool_call>{"name": "ReserveHotel", "arguments": '
    tok, ctx, text_of, tokenize, words = _words(text)
    at = np.cumsum([0] + [len(w) for w in words])
    token = lambda c: int(np.searchsorted(at, c, side="right")) - 1
    sc = compile_schema({"type": "object", "properties": {"hotel": {"type": "string"}}, "required": ["hotel"]}, tok)
    name = (token(text.index("ReserveHotel")), token(text.index("ReserveHotel") + 11))
    tokyo = (token(text.index("Tokyo")), token(text.index("Tokyo") + 4))

    def step(ids, kinds, spos, rows=None):
        tok_l, act, start, end = scripted_step(sc, {}, ACTION_SPAN, span=name, T=len(ctx))(ids, kinds, spos, rows)
        start[:, tokyo[0]], end[:, tokyo[1]] = 4.0, 4.0                 # the next best span: Tokyo
        return tok_l, act, start, end

    headers = [(token(text.index("<tool_call>")), len(ctx))]
    run = lambda on: fill_and_decode(sc, step, ctx, tokenize, text_of, rules=SpanRules(own_headers=on),
                                     headers=headers)[0]
    assert run(False) == {"hotel": "ReserveHotel"}
    assert run(True) == {"hotel": "Tokyo"}


def test_a_generated_name_takes_the_run_of_capitalized_words_the_request_writes_it_in():
    """SpanRules.generated_names (widen_generated): only generated values, only a value the request
    writes once as whole words, and only into a name run."""
    from edgeagent.runtime.fill import widen_generated
    from edgeagent.runtime.rules import SpanRules

    said = "Get concert details for the artist Beyonce performing in San Diego next month."
    gen = {"/location": "gen", "/artist": "gen", "/city": "span"}
    assert widen_generated({"location": "San"}, gen, said) == {"location": "San Diego"}
    assert widen_generated({"location": "Diego"}, gen, said) == {"location": "San Diego"}
    assert widen_generated({"city": "San"}, gen, said) == {"city": "San"}               # copied: name_runs' job
    assert widen_generated({"location": "Sa"}, gen, said) == {"location": "Sa"}         # not whole words
    assert widen_generated({"artist": "Beyonce"}, gen, said) == {"artist": "Beyonce"}   # a name alone stays
    assert widen_generated({"location": "Get"}, gen, said) == {"location": "Get"}       # opens the sentence
    assert SpanRules.off().generated_names is False


def test_a_value_never_copies_the_words_an_earlier_call_copied_for_another_property():
    """SpanRules.cross_echoes: the words an earlier call of the turn copied for a property of another
    name (``claimed``) are ruled out; those copied for the same name are not, nor anything where they
    are all the value could start at."""
    from edgeagent.runtime.rules import SpanRules

    tok, ctx, text_of, tokenize, words = _words("patient AB12 and the report on CSV please")
    sc = compile_schema({"type": "object", "properties": {"data": {"type": "string"}}, "required": ["data"]}, tok)
    bounds = np.cumsum([0] + [len(w) for w in words])
    at = [int(np.searchsorted(bounds, "".join(words).index(w), side="right")) - 1 for w in ("AB12", "CSV")]

    def step(start, end):
        start[:, at[0]], start[:, at[1]] = 9.0, 5.0
        end[:, at[0]], end[:, at[1]] = 5.0, 5.0

    fill = lambda claimed, on=True: fill_and_decode(sc, span_head(sc, len(ctx), step), ctx, tokenize, text_of,
                                                    claimed=claimed, rules=SpanRules(cross_echoes=on))[0]
    held = set(range(at[0], at[1] - 3))                                  # the tokens of "AB12" and a little after
    assert fill({}) == {"data": "AB12"}
    assert fill({"patient_id": held}) == {"data": "CSV"}
    assert fill({"patient_id": held}, on=False) == {"data": "AB12"}
    assert fill({"data": held}) == {"data": "AB12"}                      # the same name: not an echo
    assert fill({"patient_id": set(range(len(ctx)))}) == {"data": "AB12"}  # nothing left: as it was
