"""The span prior (runtime/span_prior.py): word features, the token bonus the slot filler adds, its
training (train/span_prior.py) and its file."""

import numpy as np
import pytest

from edgeagent.runtime.span_prior import FEATURES, SpanPrior, Words, chatml, value_kind

TOOLS = [("getECGSample", "Retrieve an ECG sample of a patient",
          {"type": "object", "properties": {"patient_id": {"type": "string", "description": "The patient's ID"}}}),
         ("analyzeCrystalSymmetry", "Analyze the symmetry of a crystal structure",
          {"type": "object", "properties": {"structure": {"type": "string", "description": "Crystal formula"}}})]
REQUEST = "Retrieve the ECG sample of patient ID VBV24eaf2. Then analyze the crystal symmetry of CuSO4."


def _col(x, name):
    return x[:, FEATURES.index(name)]


def _at(words, word):
    return words.words.index(word)


def test_value_kinds_read_from_the_property_name():
    assert [value_kind(k) for k in ("patient_id", "check_in_date", "pickup_time", "city", "genre", "notes")] == \
        ["id", "date", "time", "place", "category", "other"]


def test_only_message_words_are_candidates_and_the_latest_request_is_marked():
    text = ("<|im_start|>system\nYou may call getECGSample<|im_end|>\n"
            + chatml([{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello Ann"},
                      {"role": "user", "content": REQUEST}]))
    w = Words(text)
    assert not w.candidate[_at(w, "call")]                 # the system prompt is never copied from
    assert w.candidate[_at(w, "Hi")] and w.candidate[_at(w, "Ann")] and w.candidate[_at(w, "CuSO4")]
    x = w.features("patient_id", TOOLS[0][2]["properties"], TOOLS, "getECGSample")
    assert _col(x, "latest")[_at(w, "CuSO4")] == 1 and _col(x, "earlier")[_at(w, "Hi")] == 1
    assert _col(x, "said")[_at(w, "Ann")] == 1 and _col(x, "said")[_at(w, "Hi")] == 0


def test_features_read_the_property_name_and_whose_sentence_a_word_is_in():
    w = Words(chatml([{"role": "user", "content": REQUEST}]))
    x = w.features("patient_id", TOOLS[0][2]["properties"], TOOLS, "getECGSample")
    value = _at(w, "VBV24eaf2")
    assert _col(x, "key_b1")[value] == 1                    # "ID VBV24eaf2"
    assert _col(x, "key_b2")[value] == 0                    # the nearer name word counts, not both
    assert _col(x, "own_mine")[value] == 1 and _col(x, "own_other")[_at(w, "CuSO4")] == 1
    assert _col(x, "sh_alnum")[value] == 1 and _col(x, "x_id_alnum")[value] == 1 and _col(x, "kind_id")[value] == 1
    y = w.features("structure", TOOLS[1][2]["properties"], TOOLS, "analyzeCrystalSymmetry")
    assert _col(y, "own_mine")[_at(w, "CuSO4")] == 1 and _col(y, "own_other")[value] == 1


def _prior(**weights):
    w = np.zeros(len(FEATURES))
    for k, v in weights.items():
        w[FEATURES.index(k)] = v
    return SpanPrior(weights=w.tolist())


def test_the_token_bonus_is_the_words_log_probability_relative_to_the_best():
    text = "<|im_start|>system\nlisting<|im_end|>\n" + chatml([{"role": "user", "content": REQUEST}])
    # tokens: a few characters each, so that words span several tokens
    texts = [text[i:i + 3] for i in range(0, len(text), 3)]
    w = Words(text)
    prior = _prior(key_b1=4.0, own_other=-3.0)
    bonus = prior.token_bonus(texts, w, "patient_id", TOOLS[0][2]["properties"], TOOLS, "getECGSample")
    bounds = np.cumsum([0] + [len(t) for t in texts])
    tok = lambda char: int(np.searchsorted(bounds, char, side="right") - 1)   # noqa: E731
    a = text.index("VBV24eaf2")
    assert bonus[tok(a)] == pytest.approx(0.0) and bonus.max() == pytest.approx(0.0)
    assert bonus[tok(a + 6)] == pytest.approx(0.0)           # every token of the best word
    other = text.index("CuSO4")
    assert bonus[tok(other)] == pytest.approx(-7.0, abs=1e-5)  # no key word (-4) and another tool's sentence (-3)
    assert bonus[tok(text.index("listing"))] == pytest.approx(bonus.min())   # the system prompt: the lowest


def test_training_learns_that_a_value_follows_its_name():
    from edgeagent.train.span_prior import examples, fit, top1

    records = []
    for i, (a, b) in enumerate([("Xk12", "Qz9"), ("Lm44", "Rr7"), ("Tt31", "Pp2"), ("Vv88", "Ww5")] * 3):
        records.append({"id": f"sealtools_{i}", "tools": [{"type": "function", "function": {
            "name": "lookup", "description": "Look a code up", "parameters": {"type": "object", "properties": {
                "code": {"type": "string"}, "zone": {"type": "string"}}}}}],
            "messages": [{"role": "user", "content": f"Please use zone {b} with code {a} today"},
                         {"role": "assistant", "content": "", "tool_calls": [
                             {"type": "function", "function": {"name": "lookup",
                                                               "arguments": {"code": a, "zone": b}}}]}]})
    exs = examples(records)
    assert len(exs) == 24 and all(y.sum() == 1 for _, y, _ in exs)
    w = fit(exs, l2=0.1)
    assert w[FEATURES.index("key_b1")] > 1.0
    assert top1(exs, w)["all"]["top1"] == 1.0


def test_a_prior_saves_loads_and_refuses_another_feature_set(tmp_path):
    prior = _prior(key_b1=2.0)
    prior.save(tmp_path)
    assert SpanPrior.load(tmp_path).weights == prior.weights
    assert SpanPrior.load(tmp_path / "missing") is None
    (tmp_path / "span_prior.json").write_text('{"weights": [1.0], "features": ["key_b1"]}')
    with pytest.raises(ValueError, match="retrain"):
        SpanPrior.load(tmp_path)
