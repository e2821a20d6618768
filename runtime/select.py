"""What the tool-selection head reads: per listed tool, how the request matches it (no torch).

On our dev split the frozen trunk's states did not tell the listed tools apart well enough (a
pointer head over the trunk's states at each tool's listing: 42.6% of dev calls with two or more
tools; the trunk's own first name token: 30.3%; chance 22.9%), while a head over these match
features reached 79.3% (edgeagent/train/select.py, `edgeagent train --stage select`). Per tool:

    name_cover   share of the name's words (camelCase / snake_case split) found in the request
    desc_cover   share of the description's words of 4+ letters found in the request
    mention      where the request first names it: mean first position of the matched name
                 words over the request's length (1 when none matches)
    desc_mention the same for the description's words of 4+ letters
    name_content share of the name's words of 4+ letters found in the request ("get", "set"
                 and "api" say little about which tool is meant)
    param_cover  share of the top-level parameter names' words of 3+ letters found in the
                 request (requests name the values' properties, "the interest rate", "the loan
                 term", where a tool's name may say little)
    param_desc   share of the parameter descriptions' words of 4+ letters found in the request
    desc_own     share of the description's words of 4+ letters that no other listed tool's
                 description has, found in the request (the words that tell the tools apart)

and, from the conversation before the request (a multi-turn dialog; all 0 for a single request):

    called_before    1 if an earlier turn called it
    last_called      1 if the latest earlier call used it
    prev_name_cover  share of the name's words found in the assistant's latest prose message
                     ("Would you like to reserve a table?" before "Yes, please")
    prev_desc_cover  share of the description's words of 4+ letters found there

and the turn's own calls:

    called       1 if an earlier call of this turn used it
    next_named   1 for the tool not called yet that the request names first (calls follow the
                 order a request names them)

The dialog features moved SGD's calls on the gpu recipe's dev split from 55.6% to 73.3% (45
calls; 85.6% -> 88.7% of all 257 calls with two or more tools) and on the cpu recipe's from 60.0%
to 68.6% (35 calls; 85.1% -> 86.7% of 188), the head trained on the gpu recipe's mix either way.
A fifth, the name's words anywhere earlier in the dialog, scored lower on both splits (mean of
three seeds: 88.5% / 86.3% with it, 89.6% / 87.2% without), so it is left out.

Words match on their first four letters, lower case ("finding" matches "findLiteraryAgent").
The request is the last user message. Training and the runtime compute the features with these
functions, so the head reads the same numbers in both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from edgeagent.formats.hermes import text_of

MATCH_FEATURES = ("name_cover", "desc_cover", "mention", "desc_mention", "name_content", "param_cover",
                  "param_desc", "desc_own")
DIALOG_FEATURES = ("called_before", "last_called", "prev_name_cover", "prev_desc_cover")
FEATURES = MATCH_FEATURES + DIALOG_FEATURES + ("called", "next_named")
N_MATCH = len(MATCH_FEATURES)                    # the request's match (match_features)
N_DIALOG = len(DIALOG_FEATURES)                  # the conversation before it (dialog_features)
_NAME_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_TEXT_WORD = re.compile(r"[A-Za-z]+|[0-9]+")


def _stem(word: str) -> str:
    word = word.lower()
    return word[:4] if len(word) >= 4 else word


def name_words(name: str) -> list[str]:
    return [_stem(w) for w in _NAME_WORD.findall(name)]


def text_words(text: str) -> list[str]:
    return [_stem(w) for w in _TEXT_WORD.findall(text)]


def last_user_text(messages: list) -> str:
    """The text of the last user message, as the prompt renders it ("" if none, or not text)."""
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            try:
                return text_of(m, "message")
            except ValueError:
                return ""
    return ""


def check_feature_count(n: int, where: str) -> None:
    """A selection head must read the features this runtime computes (FEATURES)."""
    if n != len(FEATURES):
        raise ValueError(f"{where}: its tool-selection head reads {n} features per tool, this runtime computes "
                         f"{len(FEATURES)} ({', '.join(FEATURES)}); retrain it (edgeagent train --stage select) "
                         f"or re-export the artifact (edgeagent export)")


def match_features(request: str, tools: list[tuple[str, str, dict]]) -> np.ndarray:
    """[K, N_MATCH] name_cover, desc_cover, mention, desc_mention, name_content, param_cover,
    param_desc, desc_own of each (name, description, parameters schema) against ``request``."""
    words = text_words(request)
    first: dict[str, int] = {}
    for i, w in enumerate(words):
        first.setdefault(w, i)
    n = max(len(words), 1)

    def position(hits):
        return np.mean([first[w] for w in hits]) / n if hits else 1.0

    descs = [{w for w in text_words(desc or "") if len(w) >= 4} for _, desc, _ in tools]
    out = np.zeros((len(tools), N_MATCH), np.float32)
    for j, (name, desc, params) in enumerate(tools):
        nw = name_words(name)
        dw = [w for w in text_words(desc or "") if len(w) >= 4]
        hit = [w for w in nw if w in first]
        d_hit = [w for w in dw if w in first]
        content = [w for w in nw if len(w) >= 4]
        props = params.get("properties") if isinstance(params, dict) else None
        props = props if isinstance(props, dict) else {}
        pw = [w for key in props for w in name_words(key) if len(w) >= 3 and w.isalpha()]
        pdw = [w for v in props.values() if isinstance(v, dict) and isinstance(v.get("description"), str)
               for w in text_words(v["description"]) if len(w) >= 4]
        own = descs[j].difference(*(d for i, d in enumerate(descs) if i != j))
        share = lambda ws: sum(w in first for w in ws) / max(len(ws), 1)
        out[j] = (len(hit) / max(len(nw), 1), len(d_hit) / max(len(dw), 1), position(hit), position(d_hit),
                  share(content), share(pw), share(pdw), share(own))
    return out


def call_features(match: np.ndarray, called: set[int], dialog: np.ndarray | None = None) -> np.ndarray:
    """[K, len(FEATURES)] the head's input for the next call: ``match`` [K, N_MATCH], ``dialog``
    [K, N_DIALOG] (zeros when None: no conversation before the request), then called and
    next_named, given the indices of the tools this turn's earlier calls used."""
    K = len(match)
    if dialog is None:
        dialog = np.zeros((K, N_DIALOG), np.float32)
    was = np.zeros(K, np.float32)
    was[sorted(called)] = 1.0
    mention = np.where(was > 0, 2.0, match[:, 2])
    nxt = np.zeros(K, np.float32)
    j = int(np.argmin(mention))
    if mention[j] < 1.0:
        nxt[j] = 1.0
    return np.concatenate([match, dialog, was[:, None], nxt[:, None]], 1)


Turn = tuple[str, str, list[str]]   # (role, prose text, names of the functions it called)


def message_turns(messages: list) -> list[Turn]:
    """The conversation as turns: OpenAI messages (what the runtime reads). An assistant message's
    prose is its content where it calls no tool, "" where it does (train/select.prompt_turns reads
    the same from a rendered prompt)."""
    out = []
    for m in messages:
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            continue
        try:
            text = text_of(m, "message")       # as the prompt renders it
        except ValueError:                     # content the prompt refuses: the request fails there
            text = ""
        names = []
        calls = m.get("tool_calls")
        if m["role"] == "assistant" and isinstance(calls, list):
            for c in calls:
                fn = c.get("function", c) if isinstance(c, dict) else None
                if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                    names.append(fn["name"])
        out.append((m["role"], "" if names else text, names))
    return out


def dialog_features(turns: list[Turn], tools: list[tuple[str, str, dict]]) -> np.ndarray:
    """[K, N_DIALOG] called_before, last_called, prev_name_cover, prev_desc_cover of each (name,
    description, parameters) given the conversation's ``turns`` (message_turns)."""
    called = [n for role, _, names in turns if role == "assistant" for n in names]
    prev = next((text for role, text, names in reversed(turns) if role == "assistant" and not names), "")
    found = set(text_words(prev))

    def cover(parts: Iterable) -> list[float]:
        return [sum(w in found for w in ws) / max(len(ws), 1) for ws in parts]

    out = np.zeros((len(tools), N_DIALOG), np.float32)
    out[:, 0] = [name in called for name, _, _ in tools]
    out[:, 1] = [bool(called) and name == called[-1] for name, _, _ in tools]
    out[:, 2] = cover(name_words(name) for name, _, _ in tools)
    out[:, 3] = cover([w for w in text_words(desc or "") if len(w) >= 4] for _, desc, _ in tools)
    return out


def named_properties(pointers, request: str) -> set[str]:
    """The argument pointers whose property name the request names: the last word of 4+ letters
    of its last key, the name's head ("/number_of_rooms" -> rooms, "/years_of_experience" ->
    experience), among the request's words. An optional property the request names is not pushed
    toward leaving it out (runtime/rules.py SpanRules). Any word of 4+ letters was the rule before:
    "for the year 2021" named years_of_experience. End to end on dev (136 tool items; calls exact /
    values exact / values precise): any word 29.4 / 57.8 / 56.2%, the last 29.4 / 58.0 / 56.6%,
    all of them 28.7 / 57.8 / 56.6% ("2 rooms" no longer named number_of_rooms)."""
    words = set(text_words(request))
    out = set()
    for ptr in pointers:
        keys = [k for k in ptr.split("/") if k and not k.isdigit()]
        long = [w for w in name_words(keys[-1]) if len(w) >= 4] if keys else []
        if long and long[-1] in words:
            out.add(ptr)
    return out
