"""Which parts of a request a call's values come from (runtime/clauses.py), and the slot filler
pointed away from the others (SpanRules.other_clauses)."""

import numpy as np

from edgeagent.heads.spec import ACTION_SPAN
from edgeagent.runtime.clauses import away, segments
from edgeagent.runtime.fill import away_tokens, fill_and_decode, token_texts
from edgeagent.runtime.rules import SpanRules
from edgeagent.scaffold import compile_schema
from edgeagent.scaffold.testing import tiny_tokenizer


def _params(*names):
    return {"type": "object", "properties": {n: {"type": "string"} for n in names}}


TOOLS = [("getCommodityPrice", "Get the current price of a commodity", _params("commodity", "location")),
         ("calculateFutureValue", "Calculate the future value of an investment", _params("present_value")),
         ("getRevenue", "Retrieve the revenue of a hotel", _params("hotel_id"))]
REQUEST = ("First, I want to check the current price of gold in New York. Then, I would like to calculate the "
           "future value of my investment of $100,000. It grows for 5 years. Finally, I need the revenue for "
           "the hotel JJHwjnitvdD1.")


def _texts(spans, text=REQUEST):
    return [text[a:b] for a, b in spans]


def test_segments_are_sentences_and_lead_word_clauses():
    assert [s.strip() for s in _texts(segments(REQUEST))] == [
        "First, I want to check the current price of gold in New York.",
        "Then, I would like to calculate the future value of my investment of $100,000.",
        "It grows for 5 years.", "Finally, I need the revenue for the hotel JJHwjnitvdD1."]
    text = "Book it for the U.S. team, and then email Dr. smith the receipt"
    assert [s.strip(" ,") for s in _texts(segments(text), text)] == [
        "Book it for the U.S. team", "and then email Dr. smith the receipt"]
    assert _texts(segments("One line\nand another"), "One line\nand another") == ["One line\n", "and another"]


def test_a_call_is_pointed_away_from_the_other_tools_segments_only():
    opening = lambda spans: [t.strip()[:8] for t in _texts(spans)]
    assert opening(away(REQUEST, TOOLS, 0)) == ["Then, I ", "It grows", "Finally,"]
    # "It grows for 5 years." holds no tool's words: it goes with the sentence before it
    assert opening(away(REQUEST, TOOLS, 1)) == ["First, I", "Finally,"]
    assert opening(away(REQUEST, TOOLS, 2)) == ["First, I", "Then, I ", "It grows"]


def test_no_rule_for_one_tool_or_segments_of_one_tool():
    assert away(REQUEST, TOOLS[:1], 0) == []
    one = "Get the price of gold. It is for New York."
    assert away(one, TOOLS, 0) == [] and away(one, TOOLS, 2) == []


def test_a_segment_that_holds_the_tools_own_words_stays_open():
    """getHybridInfo listed beside getHybridVehicleInfo: the sentence belongs to the namesake, but
    it holds "hybrid", so getHybridInfo still reads it."""
    tools = [("getHybridVehicleInfo", "Information about a hybrid vehicle", _params("make")),
             ("getHybridInfo", "Hybrid car data", _params("make", "model")),
             ("getModuleHealth", "Check the health status of an ECU module", _params("vin"))]
    text = "I need information about a Toyota Prius hybrid vehicle. Lastly, check the health status of VIN 12."
    assert _texts(away(text, tools, 1), text) == [text[text.index("Lastly"):]]
    assert _texts(away(text, tools, 2), text) == [text[:text.index("Lastly")]]


def _ctx(prompt):
    tok = tiny_tokenizer()
    ctx = np.asarray(tok.encode(prompt, add_special_tokens=False).ids)
    text_of = lambda ids: tok.decode([int(i) for i in ids])
    tokenize = lambda t: tok.encode(t, add_special_tokens=False).ids
    return tok, ctx, text_of, tokenize


def test_away_tokens_are_those_of_the_last_user_message():
    request = "Get gold. Then the revenue of hotel X1."
    prompt = f"<|im_start|>user\nGet gold. Then stop.<|im_end|>\n<|im_start|>user\n{request}<|im_end|>\n"
    tok, ctx, text_of, _ = _ctx(prompt)
    texts = token_texts(text_of, ctx)
    mask = away_tokens(texts, request, [(request.index("Then"), len(request))])
    marked = "".join(t for t, m in zip(texts, mask) if m)
    assert "revenue of hotel X1" in marked and "Get gold" not in marked and "stop" not in marked
    assert not away_tokens(texts, "Some other request", [(0, 5)]).any()   # not the prompt's last request
    assert not away_tokens(texts, request, []).any()


def test_the_filler_copies_from_its_own_segment():
    """The head prefers the hotel id for the commodity; pointed away from the revenue sentence, the
    commodity is gold, unless the head's lead is larger than the rule's weight (4 here)."""
    request = "Check the current price of gold today. Finally, I need the revenue of hotel JJHwjnitvdD1 please."
    prompt = f"<|im_start|>user\n{request}<|im_end|>\n<|im_start|>assistant\n"
    tok, ctx, text_of, tokenize = _ctx(prompt)
    texts = token_texts(text_of, ctx)
    sc = compile_schema({"type": "object", "properties": {"commodity": {"type": "string"}},
                         "required": ["commodity"]}, tok)
    joined = "".join(texts)
    bounds = np.cumsum([len(t) for t in texts])
    first = lambda w: int(np.searchsorted(bounds, joined.index(w), side="right"))
    last = lambda w: int(np.searchsorted(bounds, joined.index(w) + len(w) - 1, side="right"))

    def head(lead):
        def step(ids, kinds, spos, rows=None):
            L, T = len(ids), len(ctx)
            act = np.zeros((L, 3), np.float32)
            act[:, ACTION_SPAN] = 5.0
            start, end = np.zeros((L, T), np.float32), np.zeros((L, T), np.float32)
            start[:, first("JJH")], start[:, first("gold")] = 5.0 + lead, 5.0
            end[:, last("JJHwjnitvdD1")], end[:, last("gold")] = 5.0, 5.0
            tok_logits = np.zeros((L, sc.null_id + 1), np.float32)
            return (tok_logits if rows is None else tok_logits[np.asarray(rows, np.int64)]), act, start, end
        return step

    spans = away(request, TOOLS, 0)
    plain = SpanRules(length_penalty=0.0, other_clauses=4.0)   # the span's length aside; the rule at 4
    run = lambda lead, rules=plain, **kw: fill_and_decode(sc, head(lead), ctx, tokenize, text_of, rules=rules,
                                                          **kw)[0]
    assert run(1.0) == {"commodity": "JJHwjnitvdD1"}                            # no spans given: the head's pick
    assert run(1.0, away=(request, spans)) == {"commodity": "gold"}
    assert run(3.0, away=(request, spans)) == {"commodity": "gold"}
    assert run(5.0, away=(request, spans)) == {"commodity": "JJHwjnitvdD1"}   # a lead over 4 still wins
    off = SpanRules(length_penalty=0.0, other_clauses=0.0)
    assert run(1.0, off, away=(request, spans)) == {"commodity": "JJHwjnitvdD1"}
    assert SpanRules().other_clauses == 0.0                     # measured on dev, shipped off
