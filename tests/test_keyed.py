"""Signed numbers and numbers stated under a property's name (runtime/keyed.py, SpanRules.keyed_numbers)."""

import numpy as np

from edgeagent.heads.spec import ACTION_SPAN
from edgeagent.runtime.fill import (extend_number, fill_and_decode, keyed_starts, number_starts, signed_starts,
                                    span_value)
from edgeagent.runtime.keyed import count_words, key_words, keyed_pattern, partial_pattern
from edgeagent.runtime.rules import SpanRules
from edgeagent.scaffold import compile_schema
from edgeagent.scaffold.testing import tiny_tokenizer

# token pieces as a BPE tokenizer cuts them: "=-" is one token in SmolLM2's vocabulary
PIECES = [" b", "=-", "3", ",", " c", "=", "2", " x", "(-", "4", ")", " 1", "e", "-", "9", " COVID", "-", "19",
          " at", " \u2212", "5"]


def _text_of(pieces):
    return lambda sel: "".join(pieces[int(i)] for i in sel)


def test_a_minus_sign_after_an_equals_sign_or_a_bracket_starts_a_number():
    ends = number_starts(PIECES)
    found = ["".join(PIECES[i:j + 1]) for i, j in enumerate(ends) if j >= 0]
    # "COVID-19" and the exponent of "1e-9" are no signed numbers; "=-3" and "(-4" are
    assert found == ["=-3", "2", "(-4", " 1", " \u22125"], found


def test_a_signed_number_reads_as_its_value():
    text_of, ids = _text_of(PIECES), np.arange(len(PIECES))
    assert span_value(text_of, ids, 1, 2, "integer") == "-3"
    assert span_value(text_of, ids, 8, 9, "number") == "-4"
    assert span_value(text_of, ids, 19, 20, "integer") == "-5"
    assert span_value(text_of, ids, 5, 6, "integer") is None            # "=2": no sign, not a number


def test_a_number_takes_its_exponent():
    text_of, ids = _text_of(PIECES), np.arange(len(PIECES))
    last = extend_number(text_of, ids, 11, 11)
    assert text_of(ids[11:last + 1]) == " 1e-9"
    assert span_value(text_of, ids, 11, last, "number") == "1e-9"
    assert span_value(text_of, ids, 11, last, "integer") is None
    pieces = [" 5", "e", "-", "9", "x"]                                 # "5e-9x" is a word, not a number
    assert extend_number(_text_of(pieces), np.arange(5), 0, 0) == 0


def test_a_signed_number_scores_the_better_of_its_sign_and_its_first_digit():
    starts = np.zeros(len(PIECES))
    starts[2] = 7.0                                                     # the head points at "3" of "=-3"
    out = signed_starts(starts, PIECES, number_starts(PIECES))
    assert out[1] == 7.0 and out[2] == 7.0 and out[0] == 0.0
    assert starts[1] == 0.0                                             # the input is left as it was


def test_key_words_split_snake_and_camel_case():
    assert key_words("/initial_velocity") == ["initial", "velocity"]
    assert key_words("/stops/0/startTime") == ["start", "time"]
    assert key_words("/data/0") == []                                   # an array item has no name


def _keyed(text, pointer):
    texts = list(text)                                                  # one token per character
    hits = keyed_starts(texts, pointer, np.ones(len(texts), bool))
    return [text[i:i + 4] for i in np.flatnonzero(hits)]


def test_a_number_right_after_its_name_is_keyed():
    text = "initial velocity of 10 and acceleration of 9.8 within 5 seconds"
    assert _keyed(text, "/acceleration") == ["9.8 "]
    assert _keyed(text, "/initial_velocity") == ["10 a"]
    assert _keyed(text, "/time") == []                                  # "5 seconds" names no time
    assert _keyed("a budget of $50,000.", "/budget") == ["50,0"]
    assert _keyed("widths of 7 units", "/width") == ["7 un"]
    assert _keyed("an interest rate of 5% a year", "/interest_rate") == ["5% a"]   # as written
    assert _keyed("a rate of 1,5 or 2.5.", "/rate") == []               # "1,5" is no number of its own
    assert _keyed("6 feet tall and weighs 80 kg", "/weight") == ["80 k"]   # a long word by its stem
    assert _keyed("weighing 51.0 kg", "/weight") == ["51.0"]
    assert _keyed("rated 5 stars", "/rate") == []                       # a short word as written


def test_a_keyed_number_may_carry_its_units_letters():
    """KEYED_NUMBER: "a radius of 5cm" keys 5; a word or more digits glued on ("12x18", "5years") no
    number."""
    assert _keyed("a radius of 5cm, a radius of 10cm", "/radius") == ["5cm,", "10cm"]
    assert _keyed("weighs 80kg", "/weight") == ["80kg"]
    assert _keyed("a size of 12x18", "/size") == []
    assert _keyed("a term of 5years", "/term") == []
    assert _keyed("a length of 5_000", "/length") == []


def test_a_name_of_one_letter_needs_an_equals_sign():
    assert _keyed("coefficients a=1, b = -3, c: 2", "/b") == ["-3, "]
    assert _keyed("coefficients a=1, b = -3, c: 2", "/c") == ["2"]
    assert _keyed("find a 3 bedroom villa", "/a") == []                # an article, not the property
    assert keyed_pattern("/0") is None


def _trailing(text, pointer, trailing=True):
    texts = list(text)
    hits = keyed_starts(texts, pointer, np.ones(len(texts), bool), trailing)
    return [text[i:i + 4] for i in np.flatnonzero(hits)]


def test_a_number_right_before_the_last_name_word_counts_where_none_follows_the_name():
    """SpanRules.trailing_keys: "a 7 days trip" for `days`, "2 rooms" for `number_of_rooms`, read in
    the latest user message that writes one; a number word there leaves the choice to the head, and
    a number written after the name comes first."""
    user = lambda *texts: "".join(f"<|im_start|>user\n{t}<|im_end|>\n" for t in texts)
    assert _trailing(user("Plan a 7 days trip for 2 people"), "/days") == ["7 da"]
    assert _trailing(user("Plan a 7 days trip for 2 people"), "/days", trailing=False) == []
    assert _trailing(user("book 2 rooms for 3 nights"), "/number_of_rooms") == ["2 ro"]
    assert _trailing(user("a 5-year term"), "/term_years") == ["5-ye"]
    assert _trailing(user("book 2 rooms", "no, 3 rooms please"), "/number_of_rooms") == ["3 ro"]
    assert _trailing(user("book 2 rooms", "I just want one room"), "/number_of_rooms") == []
    assert _trailing(user("book 2 rooms", "that is right"), "/number_of_rooms") == ["2 ro"]
    assert _trailing(user("days: 5, not the 7 days trip"), "/days") == ["5, n"]       # after the name first
    assert _trailing(user("the A380 seats"), "/seats") == []                         # inside a word
    assert _trailing(user("within 5 seconds"), "/id") == []                          # a name word too short
    assert _trailing("7 days in the listing", "/days") == []                         # a user message only


def test_a_number_after_a_word_of_the_name_of_its_own_counts_where_the_name_keys_none():
    """SpanRules.partial_keys: "a gain of $500" for `gain_loss`, where nothing follows the whole name;
    a word another property shares, a short word or a one-word name keys nothing, and a number after
    the whole name comes first."""
    hits = lambda text, pointer, siblings: [text[i:i + 4] for i in np.flatnonzero(
        keyed_starts(list(text), pointer, np.ones(len(text), bool), False, siblings))]
    text = "an initial investment of $2000 with a gain of $500"
    assert hits(text, "/gain_loss", ["/initial_investment"]) == ["500"]
    assert hits(text, "/gain_loss", None) == []                                  # the rule off
    assert hits(text, "/gain_loss", ["/gain_rate"]) == []                        # "gain" is not its own
    assert hits("a net of 5", "/net_loss", []) == []                             # "net": under four letters
    assert partial_pattern("/gain", []) is None                                  # a one-word name: keyed_pattern's
    assert hits("gain of 5, gain loss of 7", "/gain_loss", []) == ["7"]          # the whole name first
    assert partial_pattern("/gain_loss", ["/initial_investment"]).search("a loss of 9").group(1) == "9"


def test_a_number_word_before_the_last_name_word_is_the_value():
    """SpanRules.count_words: "I just want one room" after "2 rooms" makes number_of_rooms 1; a
    number in digits there, one written after the name, a string value, "5 years ago" and a
    property the call does not hold are left as they are."""
    schema = {"type": "object", "properties": {"number_of_rooms": {"type": "integer"}, "days": {"type": "integer"},
                                               "city": {"type": "string"}, "year": {"type": "integer"}}}
    args = {"number_of_rooms": 2, "city": "three rooms", "year": 2020}
    assert count_words(args, schema, ["book 2 rooms", "I just want one room"]) == {**args, "number_of_rooms": 1}
    assert count_words(args, schema, ["one room", "no, 2 rooms"]) == args
    assert count_words(args, schema, ["number of rooms: 2", "one room"]) == args        # keyed after its name
    assert count_words(args, schema, ["a six-sided die", "from five years ago"]) == args
    assert count_words({"days": 3}, schema, ["a trip of four days"]) == {"days": 4}
    assert count_words(args, schema, []) == args


def test_keyed_numbers_only_count_where_allowed():
    text = "width of 7"
    where = np.zeros(len(text), bool)
    assert not keyed_starts(list(text), "/width", where).any()


def _tokens(text):
    """(tokenizer, context ids, text_of, tokenize, token texts) of ``text`` under the tiny tokenizer."""
    tok = tiny_tokenizer()
    ctx = np.asarray(tok.encode(text, add_special_tokens=False).ids)
    text_of = lambda ids: tok.decode([int(i) for i in ids])  # noqa: E731
    tokenize = lambda t: tok.encode(t, add_special_tokens=False).ids  # noqa: E731
    return tok, ctx, text_of, tokenize, [text_of([i]) for i in ctx]


def _pointing_at(sc, T, at):
    """A slot-filler step that copies every value from context token ``at`` (start scores only)."""
    def step(ids, kinds, spos, rows=None):
        L = len(ids)
        tok_logits = np.zeros((L, sc.null_id + 1), np.float32)
        act = np.zeros((L, 3), np.float32)
        act[:, ACTION_SPAN] = 5.0
        start, end = np.zeros((L, T), np.float32), np.zeros((L, T), np.float32)
        start[:, at] = 9.0
        return tok_logits if rows is None else tok_logits[np.asarray(rows, np.int64)], act, start, end
    return step


def test_a_number_slot_takes_the_number_stated_under_its_name():
    tok, ctx, text_of, tokenize, words = _tokens(
        "<|im_start|>user\nrectangle with length of 10 and width of 7<|im_end|>")
    ten = next(i for i, w in enumerate(words) if w.strip().startswith("1"))
    sc = compile_schema({"type": "object", "properties": {"width": {"type": "integer"}}, "required": ["width"]}, tok)
    step = _pointing_at(sc, len(ctx), ten)                              # the head points at "10"
    run = lambda k: fill_and_decode(sc, step, ctx, tokenize, text_of, rules=SpanRules(keyed_numbers=k))[0]
    assert run(0.0) == {"width": 10}
    assert run(100.0) == {"width": 7}


def test_keyed_order_takes_the_earliest_keyed_number_no_earlier_call_copied():
    """SpanRules.keyed_order: "weighs 80 kg, also ... weighs 60 kg": the first call takes 80 where the
    head points at 60, a further call (80 taken) takes 60; off, the head chooses among them."""
    from edgeagent.runtime.fill import first_untaken

    assert first_untaken(np.array([0, 1, 0, 1, 1], bool), ()).tolist() == [0, 1, 0, 0, 0]
    assert first_untaken(np.array([0, 1, 0, 1, 1], bool), {1}).tolist() == [0, 0, 0, 1, 0]
    assert first_untaken(np.array([0, 1, 0, 1], bool), {1, 3}).tolist() == [0, 1, 0, 1]   # all taken: all
    latest = np.array([0, 0, 1, 1, 1], bool)                                              # the latest request
    assert first_untaken(np.array([0, 1, 0, 1, 1], bool), (), latest).tolist() == [0, 0, 0, 1, 0]
    assert first_untaken(np.array([0, 1, 0, 0, 0], bool), (), latest).tolist() == [0, 1, 0, 0, 0]  # none there
    tok, ctx, text_of, tokenize, words = _tokens(
        "<|im_start|>user\nbmi for one who weighs 80 kg, also for one who weighs 60 kg<|im_end|>")
    eighty, sixty = (next(i for i, w in enumerate(words) if w.strip().startswith(d)) for d in ("8", "6"))
    sc = compile_schema({"type": "object", "properties": {"weight": {"type": "integer"}}, "required": ["weight"]}, tok)
    step = _pointing_at(sc, len(ctx), sixty)                            # the head points at "60"
    run = lambda on, taken=None: fill_and_decode(sc, step, ctx, tokenize, text_of, taken=taken,
                                                 rules=SpanRules(keyed_order=on))[0]
    assert run(False) == {"weight": 60}
    assert run(True) == {"weight": 80}
    assert run(True, {"/weight": {eighty}}) == {"weight": 60}


def test_a_quoted_text_right_after_the_name_is_copied_whole_and_never_left_out():
    """SpanRules.keyed_quotes: "the relationship type 'DJZ Rc'" makes relationship_type that text where
    the head points elsewhere, and keeps an optional property the head would leave out; off, the head
    decides; a quoted text after no name of the property changes nothing."""
    from edgeagent.heads.spec import ACTION_NULL

    tok, ctx, text_of, tokenize, words = _tokens(
        "<|im_start|>user\nkinship data for 'LZX' of the relationship type 'DJZ Rc' today<|im_end|>")
    bounds = np.cumsum([0] + [len(w) for w in words])
    lzx = int(np.searchsorted(bounds, "".join(words).index("LZX"), side="right")) - 1   # the token LZX starts in
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "relationship_type": {"type": "string"}},
              "required": ["name"]}
    sc = compile_schema(schema, tok)
    step = _pointing_at(sc, len(ctx), lzx)                              # the head points at "LZX" for both
    run = lambda w: fill_and_decode(sc, step, ctx, tokenize, text_of, rules=SpanRules(keyed_quotes=w))[0]
    assert run(0.0) == {"name": "LZX"}           # the same words again: dropped as an echo (optional_echoes)
    assert run(100.0) == {"name": "LZX", "relationship_type": "DJZ Rc"}

    def leaving_out(ids, kinds, spos, rows=None):                       # the head leaves the optional one out
        tok_logits, act, start, end = step(ids, kinds, spos, rows)
        for s in sc.slots:
            if s.pointer == "/relationship_type":
                act[s.start:s.start + s.budget] = 0.0
                act[s.start:s.start + s.budget, ACTION_NULL] = 9.0
        return tok_logits, act, start, end

    run = lambda w: fill_and_decode(sc, leaving_out, ctx, tokenize, text_of, rules=SpanRules(keyed_quotes=w))[0]
    assert run(0.0) == {"name": "LZX"}
    assert run(100.0) == {"name": "LZX", "relationship_type": "DJZ Rc"}
    nested = compile_schema({"type": "object", "properties": {"people": {"type": "array", "items": {
        "type": "object", "properties": {"relationship_type": {"type": "string"}}}}}}, tok)
    items = fill_and_decode(nested, _pointing_at(nested, len(ctx), lzx), ctx, tokenize, text_of,
                            rules=SpanRules(keyed_quotes=100.0))[0]
    assert all(p.get("relationship_type") != "DJZ Rc" for p in items.get("people", []))   # top level only
    other = compile_schema({"type": "object", "properties": {"city": {"type": "string"}}}, tok)
    assert fill_and_decode(other, _pointing_at(other, len(ctx), lzx), ctx, tokenize, text_of,
                           rules=SpanRules(keyed_quotes=100.0))[0] == {"city": "LZX"}
