"""Where a copied string value starts, read from the words around it (SpanRules.word_prior; numpy and
stdlib only).

The slot filler scores every context token as a value's start, and on requests for several tools it
often starts a value in another tool's sentence ("findResearchMentor": field_of_interest "Tibia",
from the sentence about skeletons) or on a word no value starts with. This is a second opinion, a
log-linear model over the words of the conversation's messages: per word, for one string property of
the called function,

    key_b1, key_b2, key_b34   a word of the property's name one, two, or three to four words before
                              ("building ID 7V2zvTDucKh", "genre of mystery")
    key_a12, self_key         a name word one or two words after, or the word itself
    desc_b, desc_self         a word of the property's description before it, or the word itself
    other_b12                 another property's name word one or two words before (and not its own)
    own_*                     whose sentence of the latest request it is in (runtime/clauses.py
                              segment_scores): the called tool's, another tool's, shared, none
    latest, earlier, said     the latest user message, an earlier message, an assistant message
    taken                     inside a string value an earlier call of the turn holds
    sh_*, x_<kind>_*          the word's shape (capitalized, all capitals, a number, letters and
                              digits, lower case, quoted, a stop word, a sentence's first word) and
                              the shape crossed with the property's kind read from its name (an id,
                              date, time, name, place, address, category, other)

trained on the training split of ../shared/data (edgeagent/train/span_prior.py, ``edgeagent train
--stage span-prior``, 96 s here): a softmax over a conversation's words, the words where the value
starts as the targets. Alone it picks the first word of 60.4% of the dev split's 96 Seal-Tools string
values and of 49.4% of its 3,553 SGD ones. The slot filler's start score of every token of a word gets
``word_prior`` times the word's log-probability (relative to the best word's); tokens in no candidate
word (the system prompt, markup) get the lowest. On dev end to end (docs/dev-s23) it moved values
exact 65.9 -> 68.8% on the default set and the splits' exact calls 63.2 -> 68.4%.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import json_file
from .clauses import segment_scores
from .keyed import key_words

PRIOR_FILE = "span_prior.json"
WORD = re.compile(r"[\w$\u20ac\u00a3@#](?:[\w\-.@/:&'+]*[\w%])?")   # not ending in "." "," ":" "'"
STOP = frozenset("a an the of to in on at for from by with and or is are was be my me i you your it this that "
                 "please can could would will want need like some any find get show tell".split())
KINDS = ("id", "date", "time", "name", "place", "address", "category", "other")
SHAPES = ("cap", "allcap", "number", "alnum", "lower", "quoted", "stop", "first")
_KIND_OF = (("id", r"\bid\b|identifier|code|number"), ("date", r"date|\bday"), ("time", r"time"),
            ("name", r"name|title|artist|author|movie|song|album|event|restaurant|hotel"),
            ("place", r"city|location|country|place|area|address|origin|destination|region|\bfrom\b|\bto\b"),
            ("address", r"email|url|link"),
            ("category", r"type|category|genre|kind|mode|class|style|method|format|unit|status|level"))
FEATURES = (("key_b1", "key_b2", "key_b34", "key_a12", "self_key", "desc_b", "desc_self", "other_b12",
             "own_mine", "own_other", "own_shared", "own_none", "latest", "earlier", "said", "taken")
            + tuple(f"sh_{s}" for s in SHAPES) + tuple(f"x_{k}_{s}" for k in KINDS for s in SHAPES)
            + tuple(f"kind_{k}" for k in KINDS))
_INDEX = {f: i for i, f in enumerate(FEATURES)}
_MESSAGE = re.compile(r"<\|im_start\|>(user|assistant|tool)\n(.*?)(?:<\|im_end\|>|$)", re.DOTALL)
_QUOTES = "\"'\u201c\u2018`"


def _stem(word: str) -> str:
    word = word.lower().rstrip(".,;:!?'")
    return word[:5] if len(word) > 5 else word


def value_kind(key: str) -> str:
    """The kind of a string property, read from its name ("patient_id": id, "check_in_date": date)."""
    words = " ".join(key_words("/" + key))
    return next((kind for kind, pattern in _KIND_OF if re.search(pattern, words)), "other")


def chatml(messages: list[dict]) -> str:
    """The user, assistant and tool messages' text as a ChatML prompt writes it (what training reads; the
    runtime reads the prompt itself)."""
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages
                   if m.get("role") in ("user", "assistant", "tool") and isinstance(m.get("content"), str))


class Words:
    """The words of a ChatML text and, per word, what does not depend on the property: its shape, its
    stem, whether a user, assistant or tool message holds it (a candidate start; not the system
    prompt's tool listing), and whether the latest user message does."""

    def __init__(self, text: str):
        self.text = text
        found = [(m.group(0), m.start()) for m in WORD.finditer(text)]
        self.words = [w for w, _ in found]
        self.starts = np.asarray([a for _, a in found], np.int64)
        self.stems = [_stem(w) for w in self.words]
        users = [(m.start(2), m.end(2)) for m in _MESSAGE.finditer(text) if m.group(1) == "user"]
        self.latest = users[-1] if users else (len(text), len(text))
        self.candidate = np.zeros(len(found), bool)
        self.said = np.zeros(len(found), bool)
        for m in _MESSAGE.finditer(text):
            inside = (self.starts >= m.start(2)) & (self.starts < m.end(2))
            self.candidate |= inside
            self.said |= inside & (m.group(1) == "assistant")
        n = len(found)
        self.shape = np.zeros((n, len(SHAPES)), bool)
        for i, (w, a) in enumerate(found):
            j = a - 1
            while j >= 0 and text[j] in " \t":           # the character before the word, blanks skipped
                j -= 1
            self.shape[i] = (w[0].isupper() and not w.isupper(), w.isupper() and len(w) > 1 and w.isalpha(),
                             w[0].isdigit(), bool(re.search(r"\d", w)) and bool(re.search(r"[A-Za-z]", w)),
                             w[0].islower() and w.lower() not in STOP, a > 0 and text[a - 1] in _QUOTES,
                             w.lower() in STOP, j < 0 or text[j] in ".?!\n")

    def features(self, key: str, props: dict, tools: list[tuple[str, str, dict]], function: str,
                 taken: tuple[str, ...] = ()) -> np.ndarray:
        """[words, len(FEATURES)] of each word as the start of string property ``key`` of ``function``
        (``props``: its parameters' properties; ``tools``: the listed (name, description, parameters);
        ``taken``: the string values earlier calls of the turn hold)."""
        n = len(self.words)
        x = np.zeros((n, len(FEATURES)), np.float32)
        if not n:
            return x
        prop = props.get(key) if isinstance(props.get(key), dict) else {}
        desc = prop.get("description", "") if isinstance(prop.get("description", ""), str) else ""
        own = {_stem(w) for w in key_words("/" + key)}
        described = {_stem(w) for w in re.findall(r"[A-Za-z]+", desc) if len(w) >= 4 and w.lower() not in STOP}
        others = {_stem(w) for k in props if k != key for w in key_words("/" + k)} - own
        st = self.stems
        is_key = np.asarray([s in own for s in st])
        is_desc = np.asarray([s in described for s in st])
        is_other = np.asarray([s in others for s in st])

        def before(mask, lo, hi):                      # mask at i - hi .. i - lo
            out = np.zeros(n, bool)
            for d in range(lo, hi + 1):
                out[d:] |= mask[:n - d] if d < n else False
            return out

        b1, b2, b34 = before(is_key, 1, 1), before(is_key, 2, 2), before(is_key, 3, 4)
        x[:, _INDEX["key_b1"]] = b1
        x[:, _INDEX["key_b2"]] = b2 & ~b1
        x[:, _INDEX["key_b34"]] = b34 & ~b1 & ~b2
        after = np.zeros(n, bool)
        after[:-1] |= is_key[1:]
        after[:-2] |= is_key[2:] if n > 2 else False
        x[:, _INDEX["key_a12"]] = after
        x[:, _INDEX["self_key"]] = is_key
        x[:, _INDEX["desc_b"]] = before(is_desc, 1, 3)
        x[:, _INDEX["desc_self"]] = is_desc
        x[:, _INDEX["other_b12"]] = before(is_other, 1, 2) & ~b1 & ~b2
        la, lb = self.latest
        inside = (self.starts >= la) & (self.starts < lb)
        x[:, _INDEX["latest"]] = inside
        x[:, _INDEX["earlier"]] = self.starts < la
        x[:, _INDEX["said"]] = self.said
        low = self.text.lower()
        for value in {v.strip().lower() for v in taken if isinstance(v, str) and v.strip()}:
            at = low.find(value)
            while at >= 0:                             # the words an earlier call's value covers
                x[(self.starts >= at) & (self.starts < at + len(value)), _INDEX["taken"]] = 1
                at = low.find(value, at + 1)
        names = [t[0] for t in tools]
        if len(tools) >= 2 and function in names and lb > la:
            f = names.index(function)
            segs, scores = segment_scores(self.text[la:lb], tools)
            for (a, b), row in zip(segs, scores):
                top = row.max()
                whose = "none" if top <= 0 else "mine" if row[f] == top else "shared" if row[f] > 0 else "other"
                x[(self.starts >= la + a) & (self.starts < la + b), _INDEX["own_" + whose]] = 1
        kind = value_kind(key)
        x[:, _INDEX["kind_" + kind]] = 1
        for j, s in enumerate(SHAPES):
            x[:, _INDEX[f"sh_{s}"]] = self.shape[:, j]
            x[:, _INDEX[f"x_{kind}_{s}"]] = self.shape[:, j]
        return x


@dataclass
class SpanPrior:
    """score(word) = weights . features(word); a softmax over the candidate words."""

    weights: list[float]
    features: list[str] = field(default_factory=lambda: list(FEATURES))
    report: dict = field(default_factory=dict)

    def __post_init__(self):
        if list(self.features) != list(FEATURES):
            raise ValueError(f"the span prior reads {len(self.features)} features unlike this runtime's "
                             f"{len(FEATURES)}: retrain it (edgeagent train --stage span-prior)")
        if len(self.weights) != len(FEATURES):
            raise ValueError(f"span prior: {len(self.weights)} weights for {len(FEATURES)} features")

    def log_probs(self, words: Words, key: str, props: dict, tools, function: str, taken=()) -> np.ndarray:
        """[words] log-probability of each word starting the value (-inf where no candidate)."""
        s = words.features(key, props, tools, function, taken) @ np.asarray(self.weights, np.float32)
        s = np.where(words.candidate, s, -np.inf)
        if not words.candidate.any():
            return s
        m = s[words.candidate].max()
        return s - (m + np.log(np.exp(s[words.candidate] - m).sum()))

    def token_bonus(self, texts: list[str], words: Words, key: str, props: dict, tools, function: str,
                    taken=()) -> np.ndarray:
        """[T] log-probability of the candidate word each context token (``texts``: token_texts) is in,
        relative to the best word's (0 at the best, below elsewhere); the lowest where it is in none."""
        lp = self.log_probs(words, key, props, tools, function, taken)
        out = np.zeros(len(texts), np.float64)
        if not words.candidate.any():
            return out
        best, worst = lp[words.candidate].max(), lp[words.candidate].min()
        out[:] = worst - best
        bounds = np.cumsum([0] + [len(t) for t in texts])
        for i in np.flatnonzero(words.candidate):      # every token of a word: the head's start snaps to it
            a = int(words.starts[i])
            first = int(np.searchsorted(bounds, a, side="right") - 1)
            last = int(np.searchsorted(bounds, a + len(words.words[i]), side="left"))
            out[max(first, 0):last] = lp[i] - best
        return out

    def save(self, folder: str | Path) -> Path:
        return json_file.save(self, folder, PRIOR_FILE, indent=1)

    @classmethod
    def load(cls, folder: str | Path) -> SpanPrior | None:
        return json_file.load(cls, folder, PRIOR_FILE, "a span prior")
