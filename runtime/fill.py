"""Filling a scaffold's slots: span copy, masked-diffusion generation, or NULL (numpy only).

``fill`` is the decoding loop of the slot filler. Step 1 reads the fully masked scaffold and
routes every slot:

- choice slots (booleans, enums, presence and null markers) pick the best of their choices
  (or all-NULL where the slot may be left out), scored by the token log-probabilities;
- value slots take the head's route: SPAN copies the best context span as text and has the
  scaffold compiler tokenize it into the slot (exact characters: no " Tokyo" / "Tokyo" trap),
  NULL leaves the slot out (only where that is allowed), GEN leaves it to diffusion.

Steps 1..T then commit the generated positions, most confident first, on a schedule that
commits everything by step T; each step re-reads the partly filled scaffold, so a slot sees its
neighbours' values. ``step`` is the head: (ids, kinds, slot_pos, rows) -> (token_logits [N, V+1]
at the positions ``rows`` [N], action_logits [L, 3], start [L, T], end [L, T]) with the context
bound inside it. The vocabulary projection is most of the head's compute, so each pass asks for
the rows it reads: the choice positions, then the generated ones (a second pass over the same
masked scaffold, only where a value is generated).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

import numpy as np

from edgeagent.heads.spec import ACTION_GEN, ACTION_NULL, ACTION_SPAN, KIND_IDS, position_kind
from edgeagent.runtime.keyed import key_words, keyed_pattern, partial_pattern, quoted_pattern, trailing_numbers
from edgeagent.runtime.literal import free_type, literal_ends, literal_value, repair_free
from edgeagent.runtime.lists import LIST_LEAD, LIST_NUMBER, list_elements
from edgeagent.scaffold.reference import esc_ptr

VALUE_KINDS = ("string", "number", "integer", "json")
CHOICE_KINDS = ("choice", "presence", "null")


@dataclass
class FillInfo:
    routes: dict = field(default_factory=dict)    # slot pointer -> "span" | "gen" | "null" | "choice"
    steps: int = 0                                # head passes run
    repaired: list = field(default_factory=list)  # pointers whose first fill did not assemble
    spans: dict = field(default_factory=dict)     # slot pointer -> (first, last) context tokens copied
    beyond: dict = field(default_factory=dict)    # array pointer -> the list's values past its item places
    news: dict = field(default_factory=dict)      # slot pointer -> start score given up to copy words no
                                                  # earlier call of the function copied for it (<= 0)


def layout(sc):
    """(kinds [L], slot_pos [L]) int64 arrays of a compiled scaffold."""
    L = len(sc.masked())
    kinds = np.zeros(L, np.int64)
    spos = np.zeros(L, np.int64)
    for s in sc.slots:
        kinds[s.start:s.start + s.budget] = KIND_IDS[position_kind(s.kind)]
        spos[s.start:s.start + s.budget] = np.arange(s.budget)
    return kinds, spos


def _slot_rows(slots) -> tuple[np.ndarray, dict]:
    """(the scaffold positions of ``slots`` in order [N], slot index -> the row its first position
    takes among them): the rows a step is asked for, and where each slot's logits sit in its answer."""
    rows, at = [], {}
    for s in slots:
        at[s.index] = len(rows)
        rows += range(s.start, s.start + s.budget)
    return np.asarray(rows, np.int64), at


def _log_softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def _choice_score(logp, slot, tokens, null_id):
    seq = list(tokens) + [null_id] * (slot.budget - len(tokens))
    return float(sum(logp[slot.start + j, t] for j, t in enumerate(seq)))


def best_span(start, end, max_len=48, length_penalty: float = 0.0, stops=None):
    """(first, last) maximizing start[first] + end[last] - length_penalty * (last - first) with
    first <= last < first + max_len; with ``stops`` ([T] bool) a span ends before the first stop
    token after its start (a value does not run on into the next sentence)."""
    T = len(start)
    best, arg = -np.inf, (0, 0)
    stop_at = np.flatnonzero(stops) if stops is not None else np.zeros(0, np.int64)
    # end scores: running best over a window, O(T * max_len) but T is a few hundred
    for i in np.argsort(-start)[: min(T, 16)]:
        j_hi = min(T, i + max_len)
        k = np.searchsorted(stop_at, i, side="right")     # the first stop after the start
        if k < len(stop_at):
            j_hi = min(j_hi, int(stop_at[k]))
        window = end[i:j_hi] - length_penalty * np.arange(j_hi - i)
        j = i + int(np.argmax(window))
        s = start[i] + window[j - i]
        if s > best:
            best, arg = s, (int(i), int(j))
    return arg


_UPPER_NEXT = re.compile(r"\s+[A-Z]")
# a title or an initial before a name: "Dr. John Ichiuji", "St. Louis", "John R. Smith" (178 values of
# ../shared/data's calls hold "Dr. " and a name, 34 "E. ", 15 "St. ")
_ABBREVIATION = re.compile(r"(?<![A-Za-z])(?:Dr|Mr|Mrs|Ms|Mt|St|Ste|Jr|Sr|Prof|[A-Z])\.$")


def token_texts(text_of, ctx_ids) -> list[str]:
    """The text of each context token on its own."""
    return [text_of(ctx_ids[i:i + 1]) for i in range(len(ctx_ids))]


def sentence_stops(texts: list[str]) -> np.ndarray:
    """[T] bool: context tokens (``texts``, token_texts) that end a sentence (".", "?", "!" or ";"
    before whitespace and, for ".", a capital: "U.S. in May" goes on, "2004. Finally" stops; a title
    or an initial does not: "Dr. John", "St. Louis") or hold a line break. A copied value stops
    before them: "United States" not "United States. Additionally, I also ...".
    """
    out = np.zeros(len(texts), bool)
    for i, t in enumerate(texts):
        nxt = "".join(texts[i + 1:i + 3])
        end = t.rstrip(" ")
        out[i] = ("\n" in t
                  or (end[-1:] in ("?", "!", ";") and (nxt[:1].isspace() or end != t))
                  or (end[-1:] == "." and _UPPER_NEXT.match(t[len(end):] + nxt) is not None
                      and not _ABBREVIATION.search("".join(texts[max(0, i - 3):i]) + end)))
    return out


_LISTING = re.compile(r"<tools>.*?</tools>", re.DOTALL)


def _covering(texts: list[str], spans) -> np.ndarray:
    """[T] bool: the tokens (``texts``, token_texts) that overlap the character spans [(start, end)]
    of their joined text."""
    bounds = np.cumsum([0] + [len(t) for t in texts])
    out = np.zeros(len(texts), bool)
    for a, b in spans:
        out[np.searchsorted(bounds, a, side="right") - 1:np.searchsorted(bounds, b, side="left")] = True
    return out


def _matched(texts: list[str], pattern, group: int = 0) -> np.ndarray:
    """[T] bool: the tokens (``texts``, token_texts) that overlap the characters of ``group`` of a
    match of ``pattern`` in their joined text."""
    return _covering(texts, [(m.start(group), m.end(group)) for m in pattern.finditer("".join(texts))])


def keyed_starts(texts: list[str], pointer: str, where: np.ndarray, trailing: bool = False,
                 siblings=None) -> np.ndarray:
    """[T] bool: the context tokens (``texts``, token_texts) where a number the conversation states
    under the property's name starts (runtime/keyed.py keyed_pattern), among those ``where`` allows;
    with ``trailing`` (SpanRules.trailing_keys), where none is, those the latest user message writing
    one states right before the name's last word (trailing_numbers); with ``siblings`` (the other
    property pointers of the function; SpanRules.partial_keys), where still none is, those written
    right after a word of the name that is its own (partial_pattern: "a gain of $500", gain_loss)."""
    text = "".join(texts)

    def after(pattern):
        return _covering(texts, [(m.start(1), m.start(1) + 1) for m in pattern.finditer(text)]) & where \
            if pattern is not None else np.zeros(len(texts), bool)

    out = after(keyed_pattern(pointer))
    if trailing and not out.any():
        out = _covering(texts, trailing_numbers(text, [m.span(1) for m in _REQUEST.finditer(text)], pointer)) & where
    if siblings is not None and not out.any():
        out = after(partial_pattern(pointer, siblings))
    return out


def first_untaken(keyed: np.ndarray, taken, latest: np.ndarray | None = None) -> np.ndarray:
    """SpanRules.keyed_order: of the keyed number starts (``keyed``, [T] bool), the earliest that no
    earlier call of the function copied (``taken``: context positions), in the latest user message
    (``latest``, [T] bool) where it holds one ("What if I weigh 80 kilograms instead?" after "I weigh
    70"); all of them where earlier calls took each one (a value every call shares)."""
    if latest is not None and (keyed & latest).any():
        keyed = keyed & latest
    taken = set(taken)
    left = [int(p) for p in np.flatnonzero(keyed) if int(p) not in taken]
    if not left:
        return keyed
    out = np.zeros_like(keyed)
    out[left[0]] = True
    return out


def latest_request(texts: list[str]) -> np.ndarray:
    """[T] bool: the context tokens (``texts``, token_texts) of the ChatML prompt's last user message."""
    found = list(_REQUEST.finditer("".join(texts)))
    return _covering(texts, [(found[-1].start(1), found[-1].end(1))] if found else [])


def tool_listing(texts: list[str]) -> np.ndarray:
    """[T] bool: context tokens (``texts``, token_texts) inside the system prompt's tool listing
    (``<tools>…</tools>``, both chat families). A value is copied from the conversation, not from a
    tool's description ("San Francisco" out of "The city, e.g. San Francisco, CA")."""
    return _matched(texts, _LISTING)


_WRITTEN = re.compile(r"<\|im_start\|>(?:user|tool)\n(.*?)(?:<\|im_end\|>|$)", re.DOTALL)


def written(texts: list[str]) -> np.ndarray:
    """[T] bool: context tokens (``texts``, token_texts) inside a user or tool message of the ChatML
    prompt. A free-form value comes from what was written there, never from the tool listing or
    from the arguments of a call made earlier in the turn."""
    return _matched(texts, _WRITTEN, 1)


_REQUEST = re.compile(r"<\|im_start\|>user\n(.*?)(?:<\|im_end\|>|$)", re.DOTALL)


def away_tokens(texts: list[str], request: str, spans: list[tuple[int, int]]) -> np.ndarray:
    """[T] bool: the context tokens (``texts``, token_texts) over character ``spans`` of the last user
    message (runtime/clauses.py away), found in the ChatML prompt as ``request``; all False where
    the prompt's last user message is not ``request`` (cut off by the context window, or rendered
    otherwise)."""
    found = list(_REQUEST.finditer("".join(texts))) if spans else []
    last = found[-1] if found else None
    if last is None or not last.group(1).startswith(request.rstrip()[:64]):
        return np.zeros(len(texts), bool)
    return _covering(texts, [(last.start(1) + a, last.start(1) + b) for a, b in spans])


_SIGNS = "-\u2212"
SIGN_TOKEN = re.compile(r"[=:(\[]*([-\u2212])")        # a minus sign, after "=" / ":" / a bracket ("b=-3")
_SIGNED = re.compile(r"[=:(\[]*([-\u2212])([0-9].*)")


def number_starts(texts: list[str]) -> np.ndarray:
    """[T] int: for each context token (``texts``, token_texts) where a number starts (a digit or a
    minus sign before one, also one that ends "=-" in "b=-3"; not inside a longer number or word),
    the last token of its digits; -1 elsewhere. SpanRules.copy_numbers copies a number or integer
    value only as such a span (extend_number then takes its decimals and thousands groups)."""
    T = len(texts)
    out = np.full(T, -1, np.int64)
    digits = [t.isdigit() for t in texts]             # a token of digits only, no space before them
    for i, t in enumerate(texts):
        body = t.lstrip()
        prev = "" if i == 0 or body != t else texts[i - 1][-1:]   # a token after white space starts fresh
        sign = SIGN_TOKEN.fullmatch(body) is not None and i + 1 < T and digits[i + 1]
        if body[:1] in _SIGNS + "0123456789" and (prev.isalnum() or (prev and prev in ".,_" + _SIGNS)):
            continue                                   # "=-" (b=-3) starts fresh after any word
        if body[:1].isdigit():
            j = i
        elif sign:
            j = i + 1
        else:
            continue
        while j + 1 < T and digits[j + 1]:
            j += 1
        out[i] = j
    return out


def signed_starts(starts: np.ndarray, texts: list[str], numeric: np.ndarray) -> np.ndarray:
    """``starts`` [T] with each minus sign that starts a number (number_starts ``numeric``) scored the
    better of itself and its first digit: the head and the trunk often point at "3" in "b=-3"."""
    signs = [i for i in np.flatnonzero(numeric >= 0) if i + 1 < len(texts) and texts[i].strip()[-1:] in _SIGNS]
    if not signs:
        return starts
    out = np.array(starts, np.float64)
    for i in signs:
        out[i] = max(out[i], out[i + 1])
    return out


def _number_span(starts, ends_at, kind, text_of, ctx_ids, tries: int = 8):
    """(first, last) of the number (number_starts ``ends_at``) with the best start score that reads as
    a JSON value of ``kind`` with its decimals and thousands groups (extend_number): "2.5" is no
    integer, so an integer slot takes the next best; (None, None) where none of the best ``tries`` reads."""
    for i in np.argsort(-starts, kind="stable")[:tries]:
        if not np.isfinite(starts[i]):
            break
        last = extend_number(text_of, ctx_ids, int(i), int(ends_at[i]))
        if span_value(text_of, ctx_ids, int(i), last, kind) is not None:
            return int(i), last
    return None, None


def snap_to_words(text_of, ctx_ids, first, last, reach: int = 4, chunks: bool = False):
    """Widen a span that starts or ends inside a word to the whole word ("z Panisse" -> "Chez
    Panisse"): a copied value is made of whole words of the conversation. ``chunks``: words are
    everything between white space ("2022" -> "2022-03-11", "https://example.com" -> the whole
    URL; span_value trims the punctuation at its edges). A piece that decodes to U+FFFD (part of a
    character split across tokens) is always inside a word."""
    piece = lambda i: text_of(ctx_ids[i:i + 1])

    def inside(left, right):
        if not left or not right:
            return False
        if "\ufffd" in (left[-1], right[0]):
            return True
        if chunks:                                      # special tokens ("<|im_end|>") end a chunk too
            return not (left[-1].isspace() or right[0].isspace() or left.endswith("|>") or right.startswith("<|"))
        return left[-1].isalnum() and right[0].isalnum()

    for _ in range(reach):
        if first > 0 and inside(piece(first - 1), piece(first)):
            first -= 1
    for _ in range(reach):
        if last + 1 < len(ctx_ids) and inside(piece(last), piece(last + 1)):
            last += 1
    return first, last


_NAME_WORD = r"[A-Z][a-z][\w'&-]*"                     # "DiCaprio", not "ID", "CA" or "ABC123"
_NAME_AFTER = re.compile(rf"(?: {_NAME_WORD}(?![\w'&-]))+")
_NAME_BEFORE = re.compile(rf"(?<=[\w,] )(?:{_NAME_WORD} )+$")


def name_run(texts: list[str], first: int, last: int, reach: int = 3) -> tuple[int, int]:
    """A copied span widened to the whole run of capitalized words it stands in ("Leonardo" of
    "Leonardo DiCaprio" -> "Leonardo DiCaprio", "Green" of "Sea Green" -> "Sea Green"; up to
    ``reach`` words each way): words joined by single spaces, no punctuation between them; a run
    that opens a sentence or a message is no name ("Find Leonardo DiCaprio" stays "Leonardo
    DiCaprio"). Only where the span's own edge word is a name too; names are capitalized words
    with a lower-case second letter (not "ID", "CA" or "ABC123"); whole tokens only."""
    bounds = np.cumsum([0] + [len(t) for t in texts])
    text = "".join(texts)
    a, b = int(bounds[first]), int(bounds[last + 1])
    b = a + len(text[a:b].rstrip())                   # a span that ends in a space token ends before it
    words = text[a:b].split()
    if not words:
        return first, last
    named = lambda word: re.fullmatch(_NAME_WORD, word) is not None
    if named(words[-1]) and (m := _NAME_AFTER.match(text, b)):
        ends = [w.end() for w in re.finditer(_NAME_WORD, text[b:m.end()])][:reach]
        for end in reversed(ends):                     # the farthest end that is a token boundary
            k = int(np.searchsorted(bounds, b + end))
            if k < len(bounds) and bounds[k] == b + end:
                last = k - 1
                break
    lead = len(text[a:b]) - len(text[a:b].lstrip())
    if named(words[0]) and (m := _NAME_BEFORE.search(text, 0, a + lead)):
        starts = [w.start() for w in re.finditer(_NAME_WORD, m.group(0))][-reach:]
        for start in starts:                           # the farthest start that is a token boundary
            k = int(np.searchsorted(bounds, m.start() + start - 1))
            if k < len(bounds) and bounds[k] == m.start() + start - 1:
                first = k
                break
    return first, last


def widen_generated(args: dict, routes: dict, request: str) -> dict:
    """SpanRules.generated_names: ``args`` with each top-level string value the head generated
    (``routes``: pointer -> "gen") that the request writes once, as whole words, widened to the run
    of capitalized words it stands in, as name_run widens a copied one ("San" of "performing in San
    Diego next month" -> "San Diego")."""
    out = dict(args)
    chars = list(request)
    for key, value in args.items():
        if routes.get("/" + esc_ptr(key)) != "gen" or not isinstance(value, str) or not value.strip():
            continue
        found = list(re.finditer(r"(?<!\w)" + re.escape(value.strip()) + r"(?!\w)", request))
        if len(found) != 1:
            continue
        first, last = name_run(chars, found[0].start(), found[0].end() - 1)
        out[key] = request[first:last + 1].strip()
    return out


_EDGE_TAIL = ".,;:!?"
_PAIRS = {")": "(", "]": "[", "}": "{"}
_CLOSING = {o: c for c, o in _PAIRS.items()}
_DOUBLE_QUOTES = '"\u201c\u201d'


_CLOCK_12H = re.compile(r"(1[0-2]|0?[1-9])(?::([0-5][0-9]))?\s*([ap])\.?\s*m\.?", re.IGNORECASE)


def clock_24h(text: str) -> str | None:
    """A time of day written on the 12-hour clock, on the 24-hour one ("1 pm" -> "13:00", "9:30
    a.m." -> "09:30", "12 am" -> "00:00"); None where ``text`` is not such a time."""
    m = _CLOCK_12H.fullmatch(text.strip())
    if m is None:
        return None
    hour = int(m.group(1)) % 12 + (12 if m.group(3).lower() == "p" else 0)
    return f"{hour:02d}:{m.group(2) or '00'}"


_ABBREVIATED = re.compile(r"(?<![\w.])(?:[A-Z]\.){2,}$|(?<!\w)(?:Inc|Ltd|Co|Corp|Jr|Sr)\.$")


def trim_edges(raw: str) -> str:
    """A copied string without the sentence punctuation at its end ("Paris," -> "Paris"), a
    possessive ("XYZ's" -> "XYZ"), a bracket its other side does not match ("(NY" -> "NY") or a
    bracket pair around all of it ("(stress, social support)" -> "stress, social support"; none of
    the 95,985 string values in ../shared/data's calls is wrapped so). The period of an
    abbreviation stays ("Washington D.C.", "Acme Inc."): of the training split's string values that
    end in one, 440 keep it, and 2 leave out a period the request writes after one
    (scripts/measure_abbreviations.py). A double quote the value holds once goes at either edge
    ('Paris?"' of a request written in quotes -> "Paris"): none of the training split's 91,020
    string values starts or ends with one."""
    while raw:
        if raw[0] in _CLOSING and _closes_at_end(raw):
            raw = raw[1:-1].strip()
        elif raw[-1] == "." and _ABBREVIATED.search(raw):
            return raw
        elif raw[-1] in _EDGE_TAIL or (raw[-1] in _PAIRS and _PAIRS[raw[-1]] not in raw):
            raw = raw[:-1].rstrip()
        elif len(raw) > 2 and raw[-2:] in ("'s", "\u2019s"):
            raw = raw[:-2]
        elif raw[0] in _CLOSING and _CLOSING[raw[0]] not in raw:
            raw = raw[1:].lstrip()
        elif raw[-1] in _DOUBLE_QUOTES and sum(raw.count(q) for q in _DOUBLE_QUOTES) == 1:
            raw = raw[:-1].rstrip()                    # 'Paris?"' of a request written in quotes
        elif raw[0] in _DOUBLE_QUOTES and sum(raw.count(q) for q in _DOUBLE_QUOTES) == 1:
            raw = raw[1:].lstrip()
        else:
            return raw
    return raw


def _closes_at_end(raw: str) -> bool:
    """Whether the bracket ``raw`` opens with is closed by its last character."""
    depth = 0
    for i, c in enumerate(raw):
        if c == raw[0]:
            depth += 1
        elif c == _CLOSING[raw[0]]:
            depth -= 1
            if depth == 0:
                return i == len(raw) - 1
    return False


QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "\u00ab": "\u00bb", "`": "`"}


def close_quote(before: str, raw: str) -> str:
    """A span that opens at a quote ends at the quote that closes it: in ``the species "iPANxs9w"
    to the agent "Amphotericin B"`` a value starting at iPANxs9w is iPANxs9w. ``before``: the text
    right before the span (the opening quote may also be the span's own first character)."""
    before = before.rstrip()
    if before[-1:] in QUOTES:
        body, close, unclosed = raw, QUOTES[before[-1]], raw
    elif raw[:1] in QUOTES:
        body, close = raw[1:].lstrip(), QUOTES[raw[0]]
        unclosed = body  # a value does not start with a quote that nothing closes
    else:
        return raw
    return body[: body.index(close)].rstrip() if close in body else unclosed


def quote_run(texts: list[str], first: int, last: int, reach: int = 48) -> tuple[int, int]:
    """A copied span that starts a quotation ends where the quotation does: in "the case titled 'Roe
    v. Wade'" a value starting at Roe is Roe v. Wade (span_value's close_quote then cuts it at the
    closing quote where it runs past it). The opening quote stands after a space, a bracket or the
    start (not the apostrophe of "Let's"), the closing one before a non-word character, both on one
    line and at most ``reach`` tokens apart; otherwise the span is kept. Whole tokens only."""
    bounds = np.cumsum([0] + [len(t) for t in texts])
    text = "".join(texts)
    a = int(bounds[first])
    a += len(text[a:int(bounds[last + 1])]) - len(text[a:int(bounds[last + 1])].lstrip())
    if a < len(text) and text[a] in QUOTES and text[a + 1:a + 2].strip():
        opening = a
    elif a > 0 and text[a - 1] in QUOTES:
        opening = a - 1
    else:
        return first, last
    if opening > 0 and (text[opening - 1].isalnum() or text[opening - 1] == "_"):
        return first, last                             # an apostrophe or a closing quote, not an opening
    close = QUOTES[text[opening]]
    line_end = text.find("\n", opening)
    end = len(text) if line_end < 0 else line_end
    at = opening + 1
    while (at := text.find(close, at, end)) >= 0:
        if at + 1 >= len(text) or not (text[at + 1].isalnum() or text[at + 1] == "_"):
            break
        at += 1
    if at < 0 or not text[opening + 1:at].strip():
        return first, last
    k = int(np.searchsorted(bounds, len(text[:at].rstrip()), side="left")) - 1   # the token of the last character
    return (first, k) if last < k <= first + reach else (first, last)


_ARTICLE = re.compile(r"(?:a|an|the) (?=\S)")


def drop_article(raw: str) -> str:
    """A copied string without a leading lowercase article ("a white powder" -> "white powder");
    a capitalised one stays ("The Central Library"). Of the ~96k string values in the training
    data's calls, one starts with a lowercase article."""
    m = _ARTICLE.match(raw)
    return raw[m.end():] if m else raw


_LEAD_WORD = re.compile(r"(?:to|in|on|for|with|by|of|about|into|near|and|or|but) (?=\S)")
_TAIL_WORD = re.compile(r"(?<=\S)(?: (?:if|it|is|are|was|were|the|a|an|and|or|to|of|in|on|for|with|at|by|from|please"
                        r"|that|which|who|me|my))+$")


def bare_words(raw: str) -> str:
    """A copied string without a leading lowercase preposition ("to Las Vegas" -> "Las Vegas") or
    lowercase function words at its end ("km/h if it" -> "km/h"). Of the 8,172 string values in
    the cpu recipe's calls, none ends with such a word and none starts with one of these
    prepositions (8 start with "at", "from" or "during", which stay: "at work"). Nor does any of
    the training split's 91,020 string values start with a lowercase "and", "or" or "but" ("and
    Samsung" -> "Samsung")."""
    m = _LEAD_WORD.match(raw)
    raw = raw[m.end():] if m else raw
    return _TAIL_WORD.sub("", raw)


_NAME_RUN = r"[A-Z][\w.'-]*(?: [A-Z][\w.'-]*)*"
_LEGS = re.compile(rf"({_NAME_RUN}),? to ({_NAME_RUN})")
_TO_WORDS = frozenset(("destination", "to", "arrival", "arrive", "arriving", "end", "target", "dest"))


def one_leg(raw: str, words) -> str:
    """SpanRules.route_legs: a string of two capitalized names joined by "to" ("San Francisco to
    Tokyo") as one of them: the second for a property whose name words (``words``) say where to
    ("destination", "to_city", "end"), else the first; ``raw`` otherwise."""
    m = _LEGS.fullmatch(raw)
    if m is None:
        return raw
    return m.group(2) if _TO_WORDS.intersection(words) else m.group(1)


def drop_name_words(raw: str, words) -> str:
    """A copied string without the property's own name word at its edges, where it is lower-case
    (``words``: key_words of the property; a plural "s" counts): "Chinese cuisine" for `cuisine` ->
    "Chinese", "dataset mnist" for `dataset` -> "mnist"; a capitalized one stays ("American
    Airlines" for `airlines`), and so does a value that is nothing else. In the training split's
    calls a string value the request writes next to its lower-case name word leaves the word out
    4,306 times (glaive 2, Seal-Tools 376, SGD 3,928), and 23 values hold it ("national database",
    "correlation analysis" for `analysis_type`; scripts/measure_name_echoes.py)."""
    names = [w for w in words if len(w) >= 3]
    if not names:
        return raw
    pattern = "(?:" + "|".join(re.escape(w) for w in names) + ")s?"
    raw = re.sub(rf"^{pattern}\s+(?=\S)", "", raw)
    return re.sub(rf"(?<=\S)\s+{pattern}$", "", raw)


def function_words(function: str) -> list[str]:
    """The lower-case words of a function's name ("ml.predict_house_price" -> ["ml", "predict",
    "house", "price"]; "getNews" -> ["get", "news"])."""
    return key_words("/" + re.sub(r"\W", "_", function)) if function else []


def span_value(text_of, ctx_ids, first, last, kind, trim: bool = False, articles: bool = False,
               bare: bool = False, free: str | None = None, name_words=(), legs=None):
    """The slot text for a copied span, or None when the span cannot fill a slot of this kind.
    ``trim``: trim_edges a string; ``articles``: drop_article a string; ``bare``: bare_words it.
    ``free``: the slot holds free-form JSON of this type ("object", "array"; literal_value).
    ``name_words``: drop_name_words a string that is not quoted. ``legs``: the property's name
    words, where a string that is not quoted is one_leg."""
    try:
        raw = text_of(ctx_ids[first:last + 1]).strip()
        if free is not None:
            return literal_value(raw, free)
        before = text_of(ctx_ids[first - 1:first]) if first > 0 else ""
        quoted = raw[:1] in QUOTES or before.rstrip()[-1:] in QUOTES
        if kind in ("string", "json"):
            raw = close_quote(before, raw)
        if trim and kind == "string":
            raw = trim_edges(raw)
        if bare and kind == "string" and not quoted:  # a quoted value is the user's words exactly
            raw = trim_edges(bare_words(raw)) if trim else bare_words(raw)
        if articles and kind == "string":
            raw = drop_article(raw)
        if name_words and kind == "string" and not quoted:
            dropped = drop_name_words(raw, name_words)
            if dropped != raw and bare:                # "news on Bitcoin" -> "on Bitcoin" -> "Bitcoin"
                dropped = trim_edges(bare_words(dropped)) if trim else bare_words(dropped)
            raw = dropped
        if legs is not None and kind == "string" and not quoted:
            raw = one_leg(raw, legs)
    except UnicodeDecodeError:
        return None
    if not raw:
        return None
    if kind == "string":
        return json.dumps(raw, ensure_ascii=False)[1:-1]
    if kind in ("number", "integer"):
        signed = _SIGNED.fullmatch(raw)
        if signed:                                     # "=-3" (b=-3), "\u22123" -> "-3"
            raw = "-" + signed.group(2)
        if _GROUPED.fullmatch(raw):
            raw = raw.replace(",", "")                  # "20,000" as written -> 20000
        try:
            v = json.loads(raw)
        except ValueError:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (kind == "integer" and not isinstance(v, int)):
            return None
        return raw
    if kind == "json":
        try:
            json.loads(raw)
            return raw
        except ValueError:
            return json.dumps(raw, ensure_ascii=False)
    return None


def fill(sc, step, ctx_ids, tokenize, text_of, steps: int = 2, span_max: int = 48, use_span: bool = True,
         anchors: dict | None = None, anchor_weight: float = 0.0, anchor_route: float | None = None,
         end_anchor=None, end_weight: float = 0.0, rules: SpanRules | None = None, named=None, taken=None,
         claimed=None, away=None, headers=None, function: str = "", prior=None, fresh=None, turn=()):
    """Fill every slot of scaffold ``sc``. Returns (ids [L], FillInfo).

    tokenize(text) -> token ids of a slot's text; text_of(ids) -> the text of context tokens.
    ``use_span=False`` is the ablation without the span path (every value generated).
    ``anchors``: slot index -> [T] the trunk's score of each context token as the value's first
    token (runtime/anchor.py); a span's start score gets ``anchor_weight`` times it, and with
    ``anchor_route`` a value the head would generate is copied instead where the trunk's guess
    matches a context token at that log-probability or more. ``end_anchor(slot, first)`` -> [T] (or
    None): the trunk's score of each context token as the end of a value copied from ``first``; the
    span's end score gets ``end_weight`` times it. ``rules``: the decoding rules of SpanRules (the
    defaults when None). ``named``: pointers of optional properties the request names
    (runtime/select.py named_properties); SpanRules.absent_bias spares them (None: spares none).
    ``taken``: slot pointer -> context positions where earlier calls of this function in the turn
    started the value they copied for it; SpanRules.fresh_repeats is taken off their start scores.
    ``claimed``: top-level property name -> context positions inside the values earlier calls of the
    turn (any function) copied for it (SpanRules.optional_echoes).
    ``away``: (request text, character spans of it) that this call's values should not come from
    (runtime/clauses.py away; away_tokens); SpanRules.other_clauses is taken off their tokens' start scores.
    ``headers``: [(start, end)) context positions of the turn's call headers and function names
    (SpanRules.own_headers: no value is copied from them).
    ``function``: the called function's name (SpanRules.function_echoes drops its words from a copied
    string's edges).
    ``prior(slot, texts)`` -> [T] or None: the span prior's bonus of each context token as a copied
    string's start (runtime/span_prior.py; ``texts``: the context's token_texts, read here once);
    SpanRules.word_prior times it is added to the start scores.
    ``fresh``: pointers of copied top-level values that may not start where ``taken`` says an
    earlier call's did, nor inside a value ``claimed`` holds for the property, nor in ``turn`` (the
    context positions of the turn's calls as written) (SpanRules.news_refill). FillInfo.news says,
    for each copied top-level value with such earlier copies, what that costs.
    """
    rules = rules or SpanRules()
    ids = np.array(sc.masked(), dtype=np.int64)
    kinds, spos = layout(sc)
    null_id = sc.null_id
    info = FillInfo()
    masked = ids.copy()
    # token logits only where a choice is scored now; generated positions ask for theirs below
    choice_rows, at = _slot_rows([s for s in sc.slots if s.kind in CHOICE_KINDS])
    tok_logits, act_logits, start, end = step(ids, kinds, spos, choice_rows)
    info.steps = 1
    width = sc.null_id + 1                             # V + 1: the vocabulary and NULL
    allowed = {s.index: np.asarray(sc.allowed_mask(s))[:width] for s in sc.slots}
    gen = []                                           # (position, slot) left to diffusion
    logp_all = None
    source = None                                      # (sentence stops, tool listing mask), made once
    said = None                                        # the user and tool messages' tokens, made once
    keyed_where = latest = None                        # where SpanRules.keyed_numbers looks; the latest
                                                       # user message (keyed_order); each made once
    echo_words = function_words(function) if rules.function_echoes else []
    copied = {}                                        # slot index -> (first, last) context tokens copied
    # an optional property (not an array item) the request does not name: leaving it out gets absent_bias
    leans_absent = lambda s: not s.required and not _is_item(s) and s.pointer not in (named or ())
    plans = {}                                         # value slot index -> (route, span first, last)
    free = {s.index: free_type(sc.schema, s) for s in sc.slots}
    literals = {}                                      # free type -> literal_ends of the context
    scored = {}                                        # copied string slot index -> its start scores
    counted = {}                                       # copied number slot index -> its start scores
    for s in sc.slots:
        if s.kind in CHOICE_KINDS:
            continue
        acts = act_logits[s.start].copy()
        if s.required and (s.kind != "string" or not rules.empty_strings):
            acts[ACTION_NULL] = -np.inf
        if not use_span:
            acts[ACTION_SPAN] = -np.inf
        if leans_absent(s):
            acts[ACTION_NULL] += rules.absent_bias
        route = int(np.argmax(acts))
        if use_span and source is None:
            texts = token_texts(text_of, ctx_ids)
            source = (sentence_stops(texts) if rules.sentence_stop else None,
                      _walled(texts, rules, headers),
                      number_starts(texts) if rules.copy_numbers else None,
                      rules.other_clauses * away_tokens(texts, *away) if away and rules.other_clauses else 0.0)
        stops, listing, numeric, elsewhere = source or (None, None, None, 0.0)  # listing: None: all may be copied
        quoted = None                                  # SpanRules.keyed_quotes: where a quoted value of it starts
        if rules.keyed_quotes and use_span and s.kind == "string" and free[s.index] is None \
                and s.pointer.count("/") == 1:                 # a top-level property, as measured
            if said is None:
                said = written(texts)
            quoted = quoted_starts(texts, s.pointer, said)
            if quoted.any():
                route = ACTION_SPAN                    # "relationship type 'DJZaRcI60Ps'": copied, never left out
            else:
                quoted = None
        anchor = anchors.get(s.index) if anchors is not None else None
        if anchor is not None and listing is not None:
            anchor = np.where(listing, -np.inf, anchor)
        if (route == ACTION_GEN and use_span and anchor_route is not None and anchor is not None
                and anchor.max() >= anchor_route):
            route = ACTION_SPAN
        number = numeric is not None and s.kind in ("number", "integer")
        if number:
            ok = numeric >= 0 if listing is None else (numeric >= 0) & ~listing
            number = bool(ok.any())                    # a number is copied from a number of the conversation
            if number:
                route = ACTION_SPAN if route == ACTION_GEN else route
                listing = ~ok
        first = last = None
        if use_span and free[s.index] is not None and route != ACTION_NULL:  # free-form JSON: a literal, whole
            if free[s.index] not in literals:
                literals[free[s.index]] = literal_ends(texts, free[s.index], written(texts))
            closes = literals[free[s.index]]
            ok = closes >= 0
            if ok.any():
                starts = start[s.start] + (anchor_weight * anchor if anchor is not None else 0) - elsewhere
                starts = np.where(ok, starts, -np.inf)
                first = int(np.argmax(starts))
                last, route, number = int(closes[first]), ACTION_SPAN, True
            elif not s.required:
                route = ACTION_NULL                    # nothing written to copy: left out
        elif route == ACTION_SPAN and (listing is None or not listing.all()):
            starts = start[s.start]
            keyed_bonus = 0.0
            if anchor is not None and anchor_weight:
                starts = starts + anchor_weight * anchor
            starts = starts - elsewhere
            bonus = prior(s, texts) if prior is not None and rules.word_prior and not number else None
            if bonus is not None:
                starts = starts + rules.word_prior * bonus
            if quoted is not None:
                starts = starts + rules.keyed_quotes * quoted
            if number:                                 # a signed number starts where its sign or digits do
                starts = signed_starts(starts, texts, numeric)
                if rules.keyed_numbers:
                    if keyed_where is None:
                        keyed_where = written(texts) & (numeric >= 0)
                        latest = latest_request(texts) if rules.keyed_order else None
                    keyed = keyed_starts(texts, s.pointer, keyed_where, rules.trailing_keys,
                                         _siblings(sc, s.pointer) if rules.partial_keys else None)
                    if rules.keyed_order:
                        keyed = first_untaken(keyed, (taken or {}).get(s.pointer, ()), latest)
                    keyed_bonus = rules.keyed_numbers * keyed
                    starts = starts + keyed_bonus
            if listing is not None:
                starts = np.where(listing, -np.inf, starts)
            if rules.cross_echoes and claimed and not _is_item(s):
                starts = _off_others(starts, s.pointer, claimed)
            if rules.fresh_repeats and taken and taken.get(s.pointer):
                starts = starts.copy()
                starts[sorted(taken[s.pointer])] -= rules.fresh_repeats
            used = _used(s, taken, claimed)
            if used and not _is_item(s):
                used = sorted(set(used) | set(turn))
                rest = starts.copy()
                rest[used] = -np.inf
                plain, other = starts - keyed_bonus, rest - keyed_bonus   # the head's own scores decide
                if np.isfinite(other.max()) and np.isfinite(plain.max()):
                    info.news[s.pointer] = float(other.max() - plain.max())
                if fresh and s.pointer in fresh:
                    starts = rest
            if number:                                 # the best-started number that reads as this kind
                first, last = _number_span(starts, numeric, s.kind, text_of, ctx_ids)
                counted[s.index] = starts
            else:
                first, last = best_span(starts, end[s.start], span_max, rules.length_penalty, stops)
                scored[s.index] = starts
        plans[s.index] = (route, first, last, number)   # number: the span is a whole number already
    if rules.optional_echoes != "keep":
        _drop_echoes(sc, plans, named, claimed if rules.optional_echoes == "turn" else None)
    stops = source[0] if source else None
    if rules.disjoint_numbers and counted:             # counted: some number was copied, so source is read
        _part_numbers(sc, plans, counted, source[2], text_of, ctx_ids)
    if rules.disjoint_spans:
        _part_spans(sc, plans, scored, end, span_max, rules.length_penalty, stops)
    prefetch = getattr(end_anchor, "prefetch", None) if end_weight else None
    if prefetch is not None:                           # every copied value's end pass in one batch
        prefetch([(s, plans[s.index][1]) for s in sc.slots
                  if s.index in plans and plans[s.index][1] is not None and not plans[s.index][3]])
    for s in sc.slots:
        sl = slice(s.start, s.start + s.budget)
        if s.kind in CHOICE_KINDS:
            if logp_all is None:
                logp_all = _log_softmax(tok_logits)
            logp = logp_all[at[s.index]:at[s.index] + s.budget]
            options = [list(c) for c in s.choices]
            if not s.required or s.kind in ("presence", "null"):
                options.append([])
            cols = np.arange(s.budget)
            scores = [float(logp[cols, c + [null_id] * (s.budget - len(c))].sum()) for c in options]
            if s.kind != "null" and leans_absent(s):
                scores[-1] += rules.absent_bias            # the optional property left out
            best = options[int(np.argmax(scores))]
            ids[sl] = best + [null_id] * (s.budget - len(best))
            info.routes[s.pointer] = "choice"
            continue
        route, first, last, whole = plans[s.index]
        if first is not None:
            extra = end_anchor(s, first) if end_anchor is not None and end_weight and not whole else None
            if extra is not None:
                hi = first + span_max
                if stops is not None:
                    after = np.flatnonzero(stops[first + 1:hi])
                    hi = first + 1 + int(after[0]) if len(after) else hi
                ends = end[s.start][first:hi] + end_weight * extra[first:hi]
                last = first + int(np.argmax(ends - rules.length_penalty * np.arange(len(ends))))
            chunky = rules.whole_chunks and s.kind == "string"
            if not whole:
                first, last = snap_to_words(text_of, ctx_ids, first, last, reach=32 if rules.whole_chunks else 4,
                                            chunks=chunky)
                if rules.name_runs and s.kind == "string":
                    first, last = name_run(texts, first, last)
                if rules.whole_quotes and s.kind == "string":
                    first, last = quote_run(texts, first, last, reach=s.budget - 1)
                if rules.whole_numbers and s.kind in ("number", "integer", "json"):
                    last = extend_number(text_of, ctx_ids, first, last)
            text = span_value(text_of, ctx_ids, first, last, s.kind, trim=chunky, articles=rules.drop_articles,
                              bare=rules.bare_words, free=free[s.index],
                              name_words=(key_words(s.pointer) if rules.name_echoes else []) + echo_words,
                              legs=key_words(s.pointer) if rules.route_legs else None)
            if rules.clock_24h and s.kind == "string" and text is not None:
                text = clock_24h(text) or text
            toks = list(tokenize(text)) if text is not None else []
            if 0 < len(toks) <= s.budget and allowed[s.index][toks].all():
                ids[sl] = toks + [null_id] * (s.budget - len(toks))
                info.routes[s.pointer] = "span"
                copied[s.index] = (first, last)
                info.spans[s.pointer] = (first, last)
                continue
            route = ACTION_GEN
        elif route == ACTION_SPAN:
            route = ACTION_GEN                         # nothing to copy from: generated
        if route == ACTION_NULL:
            ids[sl] = null_id
            info.routes[s.pointer] = "null"
            continue
        info.routes[s.pointer] = "gen"
        gen += [(p, s.index) for p in range(s.start, s.start + s.budget)]

    if rules.list_items:
        gen = _continue_lists(sc, ids, gen, copied, ctx_ids, text_of, tokenize, allowed, info)
    for k in range(steps):
        if not gen:
            break
        n_commit = math.ceil(len(gen) / (steps - k))
        pos = np.fromiter((p for p, _ in gen), np.int64, len(gen))
        # step 1 reads the fully masked scaffold, as the routing pass did; later steps the partial fill
        tok_logits = step(masked if k == 0 else ids, kinds, spos, pos)[0]
        info.steps += 1
        rows = np.where(np.stack([allowed[si] for _, si in gen]), tok_logits, -np.inf)  # [n, V+1]
        pick = rows.argmax(-1)
        top = rows[np.arange(len(gen)), pick]
        conf = -np.log(np.exp(rows - top[:, None]).sum(-1))                # log-prob of the pick
        chosen = set(np.argsort(-conf, kind="stable")[:n_commit].tolist())
        for i in chosen:
            ids[gen[i][0]] = pick[i]
        gen = [g for i, g in enumerate(gen) if i not in chosen]
    if not rules.empty_strings:
        _drop_empty_optionals(sc, ids)
    return ids, info


@dataclass(frozen=True)
class SpanRules:
    """Decoding rules on top of the head's scores, chosen on the dev split with the gold function
    given (227 calls, start anchors at the pipeline's settings; values exact / calls exact, all rules
    off: 41.5% / 20.7%; length_penalty alone 0.05 / 0.1 / 0.15 / 0.25 / 0.5 / 1: values 47.1 / 49.0 /
    50.0 / 50.6 / 46.7 / 42.5%; absent_bias 0.5 / 1 / 2 / 3 with the others: calls 35.2 / 35.2 / 37.4 /
    37.4%; all on but whole_chunks, the request's named properties spared: 56.0% / 39.2%; all on:
    57.3% / 41.9%; README and
    docs/dev-e2e-rules for the pipeline end to end). ``SpanRules.off()``: the ablation.

    length_penalty: per extra token, subtracted from a span's score (the shortest span the head is
        nearly as sure of wins: "2022-01-01", not "2022-01-01 in the morning").
    sentence_stop: a copied span does not cross a sentence end (sentence_stops).
    empty_strings: allow "" as a value: a required string may route NULL, and an optional value
        marked present may stay empty. Off, a required string is copied or generated, and a
        present-marked optional value left empty is dropped.
    absent_bias: added to the score of leaving an optional property out (its presence or NULL
        route; array items are not affected).
    whole_numbers: a number copied from the conversation takes its decimals and thousands groups
        ("90.5", "100,000"), not just the digits before the first "." or ",".
    list_items: where an array's first item is copied and the conversation goes on with a list
        ("5, 10, 15 and 20"), the next items are that list's elements, in order; items past its end
        are left out (list_elements). A list longer than the array's item places (the scaffold's
        array_items, 6) is copied whole: the pipeline appends the rest (FillInfo.beyond,
        with_beyond) where the schema allows.
    whole_chunks: a copied string is whole white-space-delimited chunks ("2022-03-11", not "2022";
        the whole URL), trimmed of the sentence punctuation at its edges (trim_edges); every copied
        span snaps over up to 32 tokens of its word, not 4 ("rs6034464", not "rs60344").
    conversation_only: a value is copied from the conversation, never from the system prompt's tool
        listing (tool_listing; "San Francisco" out of a description's "e.g. San Francisco, CA").
        Off: on the dev split it changed 7 items' calls, none to right, and lost one value (values
        exact 47.4% against 47.6% end to end; 57.1% / 57.3% with the gold function): some values
        are in the listing ("home" from a description's list of positions).
    list_goes_on: where a call's value sits in a list the request closes with "and" / "or" and an
        element of that list has no call yet, the turn goes on with another call of the same
        function whatever the another-call head says (runtime/pipeline.py; next_in_list).
    lists_first: where list_goes_on has an element left for a call's function, the element's call is
        the next one, even where the another-call head asks for another call (those follow the list),
        and it is the last call with only that value moved, not a fresh fill, which moves every
        value off the words earlier calls copied ("I weigh 70 kilograms and my height is 1.75 and
        1.93 meters": weight stays 70). Off: the list goes on only where the head says "end", and
        the element replaces its value in a fresh fill.
    copy_numbers: a number or integer value is copied from a number of the conversation (number_starts:
        whole numbers, never "6, 80" or the "2" of "x2"), the best-started one that reads as the slot's
        kind ("2.5" is no integer), wherever the conversation has one; it is generated only where it
        has none. On the dev split 133 of the 138 numbers calls hold are written in the request; the
        head's generated numbers and copied spans that run past a number were errors. With the gold
        function: calls 41.9 -> 42.7%, values 57.3 -> 58.7% (16 values fixed, 8 broken, most of both
        in merged repeats); end to end (docs/dev-e2e-numbers) calls 19.1 -> 20.6%, values 47.4 -> 47.9%.
    clock_24h: a copied string that is a time on the 12-hour clock is written on the 24-hour one ("1 pm"
        -> "13:00"; clock_24h), the training data's convention: 37 of its 43 times of day are written
        HH:MM. With the gold function: values 58.7 -> 59.3% (three fixed, none broken), calls unchanged;
        end to end (docs/dev-e2e-clock) values 47.9 -> 48.3%, calls 20.6% both.
    fresh_repeats: where a turn calls a function again, subtracted from the start score of the
        context positions its earlier calls copied the same property's value from (merged requests
        say "... 70 kilograms and 1.75 meters. Also ... 40 kilograms and 0.59 meters": the second
        call's height is the other one). A value both calls share and the request writes once
        still wins where nothing else scores near it. End to end on dev, calls exact / values exact
        (off: 27.2% / 56.0%): 1: 27.9 / 56.2%, 2: 27.9 / 56.9% (docs/dev-e2e-fresh), 4: 29.4 / 57.8%
        (docs/dev-e2e-fresh4), 8: 29.4 / 57.8%; the smaller of the tied best. At 4 the merged BMI
        and loan requests get both calls right (each had copied a value of the first call again).
    optional_echoes: "turn": an optional property's copied value that overlaps a value another
        property holds (a required one of this call, or any an earlier call of the turn copied) is
        left out ("years_of_experience": 2021 where 2021 was the first call's year); "call": only
        against this call's required values; "keep": off. A property the request names is spared.
        End to end on dev (136 tool items), calls exact and values exact stay 29.4% / 57.8% in all
        three; values precise (of the values the calls hold, the share equal to the reference's):
        keep 54.1%, call 54.9%, turn 56.2% (docs/dev-e2e-echoes).
    drop_articles: a copied string drops a leading lowercase article ("a crime scene" -> "crime
        scene"; drop_article). End to end on dev, calls exact 29.4% both, values exact 58.0 ->
        59.1%, values precise 56.6 -> 57.3% (docs/dev-e2e-articles): six values right, none lost.
    stated_values: a call's one ISO date value takes the day (and month) of the latest date the
        conversation's prose states, its one "HH:MM" value the latest time, and its one head count
        in a string the latest count (runtime/stated.py; the pipeline applies it to the finished
        call, whatever wrote the value; the eval's AR baselines (a) and (b) run with it off). End
        to end on dev, calls exact 29.4 -> 34.6%, values exact 59.1 -> 62.1%, values precise
        57.3 -> 60.3% (docs/dev-e2e-stated, docs/dev-e2e-counts): 20 items changed, none broken.
    disjoint_spans: two properties of a call do not copy the same words. A copied string whose span
        overlaps a shorter one ("technology sector in the United States" for `sector` over "United
        States" for `country`), or the same words with a lower start + end score, is decoded again
        from its own scores around it (_part_spans): "technology". End to end on dev, calls exact /
        values exact / values precise, with fresh_calls (docs/dev-disjoint): the splits 52.6 -> 63.2%
        / 63.2 -> 67.7% / 56.6 -> 63.9%; the default dev set 33.8% both / 62.3 -> 63.0% / 60.8 ->
        62.3%. Shorter spans alone gave the splits 60.5% / 69.1%; parting equal spans gained one call
        there and lost three values over both sets.
    fresh_calls: a further call of a function the turn already called must bring news: a value that
        differs from each earlier call's and, where copied, comes from words of the conversation no
        earlier call of the function copied (runtime/pipeline.py _brings_news). A call that copies
        the first call's words again, for any property, or its own written arguments, ends the turn
        ("waste_type": "open windrow" where the first call had it as `compost_type`). A call the
        list rules keep going (list_goes_on, list_items) is theirs to judge.
    list_split: a call's copied string value that is itself a list the request closes with "and" /
        "or" ("Sonoma and Marshall" for `city`) takes its first element, and list_goes_on gives the
        others their calls. Only where the property holds one value: a string without an enum whose
        name's last word is not a plural ("ingredients", "personality_traits") and whose description
        says no "list", "comma", "separated" or "multiple"; each element at most four words, and no
        sentence (a value ending in "."). Of the 8,172 string values in the cpu recipe's calls, 10
        are such lists ("Cozy Inn Bed and Breakfast", "Buy milk, eggs, and bread"). On the dev set's
        54 listed requests (`eval dev --lists only`; docs/dev-lists), calls exact / values exact /
        values precise 5.6 / 17.9 / 56.5% -> 11.1 / 22.4 / 59.5%; with next_in_list reading a closed
        list back from its last or middle element, 16.7 / 30.6 / 65.9%; with elements of names
        ending at their capitalized words and list elements taking the enum member they name
        (runtime/pipeline.py _enum_member), 22.2 / 32.1 / 71.6%; with a long first element starting
        after its last preposition ("What's the weather in Napa and Vancouver"), 24.1 / 33.7 / 73.3%.
        The default dev set and the splits kept their calls exact.
    bare_words: a copied string drops a leading lowercase preposition and lowercase function words
        at its end (bare_words; "to Las Vegas" -> "Las Vegas"); a quoted one stays as written. On
        the default dev set one value gained ("to Las Vegas"), none lost.
    named_members: an optional property a call leaves out takes the member of its string enum that
        the request names in so many words ("some Reggae songs" -> genre "Reggae"; the first of a
        list of them, "Pop and Country", whose others list_goes_on calls for); not flags ("True",
        "dontcare") or members under three letters (runtime/pipeline.py with_named_members). On the
        default dev set one call became exact (FindAttractions "Park"), nothing else changed; the
        splits and the listed requests kept every answer (docs/dev-lists).
    other_clauses: taken off the start scores of the request's segments that belong to another
        listed tool and hold none of this call's tool's words (runtime/clauses.py away). Off (0) by
        default: on the default dev set's 49 Seal-Tools items (the ones with requests for several
        tools; docs/dev-clauses), calls exact / values exact / values precise were 16.3 / 61.4 /
        56.8% at 0, 16.3 / 61.8 / 53.4% at 2, and 16.3 / 61.1 / 52.3% at 4 (without
        percent_fractions and the bracket trim, which add 0.3 points of values at 0): the values the
        rule moves off another tool's sentence land on other wrong words as often as on right
        ones, and the changed first calls let the turn go on with extra calls. The splits and the
        listed requests kept every answer at 4.
    percent_fractions: a number the request writes as a percentage ("9%") is divided by 100 where
        its property's description asks for a decimal ("e.g., 0.05 for 5%"; runtime/percent.py).
        On the default dev set it changes three Seal-Tools counterfactuals, whose reference keeps
        the original record's 0.05 for the "9%" the rewritten request says (so none scores right
        either way); in ../shared/data's calls it holds for 61 of 62 such values.
    keyed_numbers: added to the start score of each number the conversation writes right after the
        property's name ("acceleration of 9.8", "b=-3"; runtime/keyed.py); 100 outweighs any start
        score, so the head only picks among such numbers where there are several. On the training
        split, 217 of the 221 number values written so are one of those numbers. On dev, calls exact
        / values exact / values precise: the default set 35.3 / 63.7 / 63.6% either way (one wrong
        value changed to another), the splits the same answers, the listed requests 25.9 / 34.2 /
        77.0 -> 27.8 / 36.2 / 78.9% (with next_in_list finding "10" whole, not in "$1000";
        docs/dev-s18).
    name_runs: a copied string whose edge word is a name takes the whole run of capitalized words it
        stands in ("Leonardo" -> "Leonardo DiCaprio", "Green" -> "Sea Green"; name_run). Were every
        copy exact, it would widen 9 of Seal-Tools' 1,194 capitalized values, none of glaive's 106
        and 948 of SGD's 25,854 (mostly "New York" for "New York City";
        scripts/measure_name_runs.py). On dev no answer changed right or wrong (three wrong values
        changed; docs/dev-s18).
    numbers_owed: where the another-call head says "end" after a first request's call and the
        request writes a number no call of the turn holds, one more call is made, kept only where it
        holds one of those numbers (runtime/owed.py; runtime/pipeline.py). Of the training split's
        2,180 first requests answered with one call, 8 write a number the call does not hold
        (scripts/measure_owed.py). On dev it changed no answer (docs/dev-s18).
    whole_quotes: a copied string that starts a quotation ends where the quotation does ("Roe" of
        "the case 'Roe v. Wade'" -> "Roe v. Wade"; quote_run). Of the 650 training-split string
        values that start a quotation, 2 end before it does ("Local" of "'Local charity event raises
        ...'"; scripts/measure_quotes.py).
    name_echoes: a copied string drops the property's own lower-case name word at its edges
        ("Chinese cuisine" for `cuisine` -> "Chinese"; drop_name_words), unless it is quoted.
    disjoint_numbers: two number properties of a call copy two different numbers of the
        conversation ("the LCM of 18 and 12": 18 and 12, not 12 twice; _part_numbers). None of the
        109 training-split calls with two or more number values has two hold the same number
        (scripts/measure_disjoint_numbers.py).
    canonical_case: a string value that the conversation's tool results write in another case only
        takes their spelling ("pacific central station" -> "Pacific Central Station"; enum members
        stay as chosen; runtime/canonical.py, runtime/pipeline.py). Of the training split's 2,277
        values the user writes in another case only, it respells 679 right and none wrong, and 5
        of the values the user writes right (scripts/measure_canonical_case.py).
    own_headers: no value is copied from the turn's call headers and function names
        ("hotel_name": "ReserveHotel" from the call's own header; _walled). None of the training
        split's 91,020 string values is its function's name. On dev it moved two wrong values
        to other wrong ones (docs/dev-s19).
        On dev, calls exact / values exact / values precise (docs/dev-s19): whole_quotes and
        name_echoes (with keyed_numbers reading a long name word by its first five letters, "weighs
        80 kg") took the default set from 35.3 / 63.7 / 63.6% to 35.3 / 63.9 / 65.7% and the splits
        from 63.2 / 67.7 / 69.7% to 63.2 / 69.1 / 71.2%; with disjoint_numbers, the abbreviation's
        period (trim_edges), lists past the item places and canonical_case, the default set is at
        36.8 / 64.3 / 66.0% (two SGD calls gained by canonical_case) and the splits the same. The
        listed requests kept every answer.
    named_choices: a string-enum value a call holds takes the one member the request names in so
        many words ("compounded monthly" -> "monthly" where the head chose "quarterly"; runtime/
        pipeline.py with_named_members; not where the request names two or more members, nor flags
        such as "True" or "dontcare", nor members under three letters). Of the training split's
        2,523 enum values whose request names one member so, 2,513 are that member (SGD's misses are
        "not too expensive" for "moderate" and "amusement park" for "Theme Park"; scripts/
        measure_named_choices.py).
    function_echoes: name_echoes for the called function's lower-case name words too ("news on
        Bitcoin" for get_news's `topic` -> "Bitcoin", "green bird" for identify_bird's `color` ->
        "green"; function_words). Where the request writes a training-split string value next to
        one of those words, the value leaves it out 2,331 times (SGD 2,201, Seal-Tools 125, glaive
        5), and 5 Seal-Tools values hold it at an edge ("makeup artist" for getMakeupandHairArtist;
        scripts/measure_name_echoes.py).
    keyed_order: where the conversation writes several numbers under a property's name, the turn's
        first call of the function takes the earliest and each further call the earliest no earlier
        call copied ("weighs 80 kg, also ... weighs 60 kg": 80, then 60; first_untaken), where the
        head chose among them before; those of the latest user message first, where it writes one
        ("What if I weigh 80 kilograms instead?" after "I weigh 70"). The request's order is the
        calls' order: of the training split's 229 number values keyed so, 228 are the first keyed
        number (scripts/measure_keyed.py); only 3 calls there have two keyed numbers to choose
        from, so the dev split's merged repeats decide.
    iso_dates: a string value of a property named a date ("date", "start_date") that is one full
        date written out ("20th May 2021", "March 11, 2022") is written YYYY-MM-DD, and one that is an
        ISO date with words after it loses the words ("2022-01-01 in the morning"; runtime/stated.py
        iso_dates; not for an enum, nor where the description asks for "MM/DD/YYYY" or the like).
        Of the training split's 18,309 such values 18,295 are YYYY-MM-DD, 133 of them dates the
        request writes in words, and 3 are a full date in words ("15th June 2023";
        scripts/measure_iso_dates.py). The eval's AR baselines run with it off.
    generated_names: name_runs for a string value the head generated: where the request writes it
        once as whole words, it takes the run of capitalized words it stands in ("San" of "in San
        Diego next month" -> "San Diego"; widen_generated). name_runs' measure holds for it.
        On dev, calls exact / values exact / values precise (docs/dev-s20): named_choices took the
        default set from 36.8 / 64.3 / 66.0% to 37.5 / 64.6 / 66.4% (an SGD CheckBalance call
        exact); with function_echoes, keyed_order (a merged BMI repeat exact), the stated years and
        the lone quote, 38.2 / 65.5 / 67.2%; with iso_dates (one value) and generated_names (no
        change), 38.2 / 65.7 / 67.4%. No answer lost; the splits and the listed requests kept
        theirs.
    trailing_keys: keyed_numbers for a number written right before the last word of the property's
        name ("a 7 days trip" for `days`, "book 2 rooms" for `number_of_rooms`), where none is
        written after the name; the latest user message writing one decides, and a number word
        there ("I just want one room") is count_words' case (runtime/keyed.py trailing_numbers).
        Of the training split's values so written, 1,377 are the number the rule picks and 19
        another (scripts/measure_trailing_keys.py).
    count_words: where that latest message's number is a word ("I just want one room", "with four
        chords"), the call's number value is that number, whatever wrote it (runtime/keyed.py
        count_words; the pipeline applies it to the finished call; the eval's AR baselines run with
        it off). Of the training split's values so written, 1,377 are that number and 21 another.
    owed_repeats: where the call numbers_owed asked for repeats the function of the turn's latest
        call, holds none of the owed numbers, and the request writes as many of them as that call
        holds numbers, a number value that repeats that call's takes the owed number written in its
        place ("filed in 2019, also ... in the year 2018": the first call took 2018 and the second
        2018 again, so it takes 2019; runtime/owed.py pay_owed), instead of the call being dropped.
        numbers_owed's measure is its ground: a number the user writes is nearly always some call's
        value.
    echo_repeats: a further call of a function the turn already called, one of whose values is
        copied from words an earlier call of the turn copied for a property of another name, ends
        the turn instead of being made ("between New York City and Washington D.C." answered twice,
        the second call's origin "Washington D" inside the first's destination; runtime/pipeline.py).
        Of the training split's 1,545 values of later calls in a turn that the request writes once,
        2 overlap an earlier value of a property of another name, and 10 one of the same name in
        another function (patient_id), which the rule leaves alone (scripts/measure_cross_calls.py).
        Scoring such words down instead (a value moved elsewhere) lost 8 values and gained 2 on the
        default dev set (docs/dev-s21): the head's next choice is as often wrong.
    route_legs: a copied string that is two capitalized names joined by "to" ("San Francisco to
        Tokyo") is one of them: the second for a property whose name says where to (destination,
        to_city, end), else the first (one_leg). None of the training split's 80,991 string values
        is so written; where the request writes "X to Y", 322 of 338 values of where-to properties
        are Y and 223 of 299 values of other properties X (scripts/measure_route_legs.py).
    caseless_lists: the list rules (list_goes_on, list_items) find a call's string value in the
        request in another case too, where it is not written as the call holds it ("Music" of "an
        international music and Sports event", read after canonical_case or an enum member): the
        element after it is then the next call's. Of the training split's listed requests' later
        calls, next_in_list reads 1,406 values right, 110 wrong and 173 not at all as it was; with
        this, 1,547 / 114 / 28 (scripts/measure_list_next.py; the original requests never call one
        function twice in their first turn).
    word_prior: added, times the span prior's log-probability of the word a context token is in, to a
        copied top-level string's start scores (runtime/span_prior.py, runtime/pipeline.py _prior;
        trained on the training split's words, ``edgeagent train --stage span-prior``; not dates and
        times, which stated_values, iso_dates and clock_24h write). On dev (docs/dev-s23), calls exact
        / values exact at 0 and 1: the default set 39.0 / 65.9% -> 39.0 / 68.8%, the splits 63.2 /
        69.1% -> 68.4 / 73.5%, the listed requests the same answers (33.3 / 44.9%); with dates and
        times too, the listed requests lost three calls ("2nd" copied for GetWeather's date).
    news_refill: a further call of a function the turn called already, that copies the words an
        earlier call copied and otherwise chooses as it did (no news: the turn would end there), is
        filled again with one copied top-level value kept off those words (and off the turn's
        written calls, which are context too): the value whose other words cost the head least
        first (FillInfo.news, the start score given up, without the keyed-number bonus), up to three,
        taking the first fill that brings news and holds a number the request writes and no call
        holds; only where there is such a number (runtime/owed.py: a number the user writes is nearly
        always some call's value) ("... change in time of 4 seconds, then repeat with a change in time
        of 10 seconds": the second call was the first again; runtime/pipeline.py _news). Found on
        BFCL's parallel items; on dev (docs/dev-s24), without the owed-number condition, it changed no
        exact call of the three sets (two negatives that made a wrong call made one more).
    named_flags: an optional flag the call leaves out (a boolean, or a string enum with "True") is
        set true where the request names the property (runtime/select.py named_properties: "with
        details", "no entry fee" for free_entry; runtime/pipeline.py named_flags). Of the training
        split's optional flags of called functions that the request so names, 158 are true, 34
        absent and 1 false (SGD 154 / 15 / 1, glaive 4 / 0 / 0, Seal-Tools 0 / 19 / 0). On dev
        (docs/dev-s24): the listed requests gain one exact call (is_unisex) and three values, the
        default set one value, the splits nothing.
    partial_keys: where neither the property's whole name nor trailing_keys keys a number, one
        written right after a word of the name that is its own (four letters or more, in no other
        property name of the function) gets the keyed_numbers bonus ("an initial investment of $2000
        with a gain of $500": gain_loss 500, where the head took 5000; runtime/keyed.py
        partial_pattern). Of the training split's 275 number values their whole name keys none of,
        36 are written so, and 33 are the first number so written (scripts/measure_partial_keys.py).
    keyed_quotes: added to a copied string's start score where a quoted text written right after the
        property's name starts ("the relationship type 'DJZaRcI60Ps'"; runtime/keyed.py
        quoted_pattern), and such a property, optional or not, is copied, never left out or
        generated; whole_quotes then ends it at the closing quote. Top-level properties only, as
        measured (an array's items keyed too took "Hearts" from the call's own suit). Of the
        training split's top-level string properties of called functions so written, 216 of 230 required values are the first quoted
        text (3 a later one) and 22 of 25 optional ones (3 left out; scripts/measure_keyed_quotes.py).
        On dev (docs/dev-s24), at 100: the default set gains an exact call (getKinshipData's
        relationship_type, which the head left out) and two values; the splits and listed requests
        keep their answers.
    cross_echoes: a copied top-level value may not start inside words an earlier call of the turn
        copied for a property of another name (the values of later calls nearly never do:
        scripts/measure_cross_calls.py, 2 of 1,545). Off: on the default dev set it changed 30
        items and lost an exact call and three values (docs/dev-s24/echoes-default): the head's
        next choice is as often wrong, as scoring such words down was in the twenty-first session.
    alike_lists: the list rules (list_goes_on, list_items) read no element that opens in lower case
        after a value the request writes capitalized: "Manhattan, offering Thai food and a vegan
        menu" lists no place, "Manchester United and who are they playing against" no team. Of the
        training split's 2,180 first requests answered by one call, list_goes_on read an element
        after the call's own values (a call the turn does not have) in 19, with this in 8; the
        listed requests' later calls are read as before, 1,547 right, 114 wrong, 28 not at all
        (scripts/measure_list_next.py).
    owed_template: a further call of the turn's latest function, in a first request, that would end
        the turn (it repeats an earlier call, brings no news, or echoes another property's words)
        while the request owes numbers (numbers_owed), is made as that latest call with each of its
        written numbers replaced by the owed number of the same rank, where the request writes as
        many owed numbers as the call holds written ones (pay_owed on the call itself: "an object
        accelerated at 5 m/s^2 over 100 meters. The second object is accelerated at 10 m/s^2 over 200
        meters"; runtime/pipeline.py _owed_template). numbers_owed's measure is its ground, as for
        owed_repeats: a number the user writes is nearly always some call's value. Found by
        reading BFCL parallel items, whose repeated calls the echo and news rules ended.
    """

    length_penalty: float = 0.25
    sentence_stop: bool = True
    empty_strings: bool = False
    absent_bias: float = 2.0
    whole_numbers: bool = True
    list_items: bool = True
    whole_chunks: bool = True
    conversation_only: bool = False
    list_goes_on: bool = True
    lists_first: bool = True
    copy_numbers: bool = True
    clock_24h: bool = True
    fresh_repeats: float = 4.0
    optional_echoes: str = "turn"
    drop_articles: bool = True
    stated_values: bool = True
    disjoint_spans: bool = True
    fresh_calls: bool = True
    list_split: bool = True
    bare_words: bool = True
    named_members: bool = True
    other_clauses: float = 0.0
    percent_fractions: bool = True
    keyed_numbers: float = 100.0
    name_runs: bool = True
    numbers_owed: bool = True
    whole_quotes: bool = True
    name_echoes: bool = True
    disjoint_numbers: bool = True
    canonical_case: bool = True
    own_headers: bool = True
    named_choices: bool = True
    function_echoes: bool = True
    keyed_order: bool = True
    iso_dates: bool = True
    generated_names: bool = True
    trailing_keys: bool = True
    count_words: bool = True
    owed_repeats: bool = True
    echo_repeats: bool = True
    route_legs: bool = True
    caseless_lists: bool = True
    word_prior: float = 1.0
    news_refill: bool = True
    named_flags: bool = True
    partial_keys: bool = True
    keyed_quotes: float = 100.0
    cross_echoes: bool = False
    alike_lists: bool = True
    owed_template: bool = True

    def __post_init__(self):
        if self.optional_echoes not in ("keep", "call", "turn"):
            raise ValueError(f"SpanRules.optional_echoes: expected 'keep', 'call' or 'turn', "
                             f"got {self.optional_echoes!r}")

    @classmethod
    def off(cls) -> SpanRules:
        return cls(length_penalty=0.0, sentence_stop=False, empty_strings=True, absent_bias=0.0,
                   whole_numbers=False, list_items=False, whole_chunks=False, conversation_only=False,
                   list_goes_on=False, lists_first=False, copy_numbers=False, clock_24h=False, fresh_repeats=0.0,
                   optional_echoes="keep", drop_articles=False, stated_values=False,
                   disjoint_spans=False, fresh_calls=False, list_split=False,
                   bare_words=False, named_members=False, other_clauses=0.0,
                   percent_fractions=False, keyed_numbers=0.0, name_runs=False,
                   numbers_owed=False, whole_quotes=False, name_echoes=False,
                   disjoint_numbers=False, canonical_case=False,
                   own_headers=False, named_choices=False,
                   function_echoes=False, keyed_order=False,
                   iso_dates=False, generated_names=False, trailing_keys=False, word_prior=0.0,
                   count_words=False, owed_repeats=False, echo_repeats=False,
                   route_legs=False, caseless_lists=False, news_refill=False,
                   named_flags=False, partial_keys=False, keyed_quotes=0.0, cross_echoes=False,
                   alike_lists=False, owed_template=False)


def top_property(pointer: str) -> str:
    """The top-level property a slot's value belongs to: "/a/0" -> "a"."""
    return pointer.split("/")[1] if pointer.count("/") else pointer


def _drop_echoes(sc, plans: dict, named, claimed) -> None:
    """SpanRules.optional_echoes: an optional property's copied value (not an array item, not named
    by the request) that overlaps what another property holds (a required value of this call;
    with ``claimed``, a value an earlier call of the turn copied for another property) is planned
    absent instead."""
    spans = {}                                         # top-level property -> positions its values copy
    for s in sc.slots:
        route, first, last, _ = plans.get(s.index, (None, None, None, None))
        if first is not None and s.required:
            spans.setdefault(top_property(s.pointer), set()).update(range(first, last + 1))
    for key, at in (claimed or {}).items():
        spans.setdefault(key, set()).update(at)
    for s in sc.slots:
        route, first, last, _ = plans.get(s.index, (None, None, None, None))
        if first is None or s.required or _is_item(s) or s.pointer in (named or ()):
            continue
        own = top_property(s.pointer)
        if any(key != own and not at.isdisjoint(range(first, last + 1)) for key, at in spans.items()):
            plans[s.index] = (ACTION_NULL, None, None, False)


def _part_spans(sc, plans: dict, scored: dict, end, span_max: int, length_penalty: float, stops) -> None:
    """SpanRules.disjoint_spans: two properties of a call do not copy the same words. Where a copied
    string's span overlaps one that outranks it (a shorter span: "Long Beach on tomorrow to Las
    Vegas" over "Long Beach"; or the same length with a higher start + end score, numbers above
    strings), it is decoded again from its own start and end scores with every span that outranks it
    ruled out: no start inside one, no end past the start of one it begins before. The lowest-ranked
    first; a span left nowhere to go keeps its plan."""
    slots = {s.index: s for s in sc.slots}
    spans = {i: (plans[i][1], plans[i][2], top_property(s.pointer)) for i, s in slots.items()
             if i in plans and plans[i][1] is not None and not _is_item(s)}
    rank = lambda i: (spans[i][1] - spans[i][0],        # lower ranks first: longer, then less sure
                      -(scored[i][spans[i][0]] + end[slots[i].start][spans[i][1]]) if i in scored else -np.inf)
    for i in sorted((i for i in spans if i in scored), key=rank, reverse=True):
        first, last, key = spans[i]
        above = [(spans[j][0], spans[j][1]) for j in spans if spans[j][2] != key and rank(j) < rank(i)]
        if not any(f <= last and first <= l for f, l in above):
            continue
        starts = scored[i].copy()
        walls = np.zeros(len(starts), bool) if stops is None else stops.copy()
        for f, l in above:
            starts[f:l + 1] = -np.inf
            walls[f] = True                            # a span that starts before it ends before it
        if not np.isfinite(starts).any():
            continue
        first, last = best_span(starts, end[slots[i].start], span_max, length_penalty, walls)
        if not np.isfinite(starts[first]):
            continue
        route, _, _, number = plans[i]
        plans[i] = (route, first, last, number)
        spans[i] = (first, last, key)


def _walled(texts: list[str], rules: SpanRules, headers) -> np.ndarray | None:
    """[T] bool: the context tokens no value is copied from (the tool listing under
    SpanRules.conversation_only, the turn's call headers under own_headers); None where all may be."""
    walled = tool_listing(texts) if rules.conversation_only else None
    if rules.own_headers and headers:
        walled = np.zeros(len(texts), bool) if walled is None else walled.copy()
        for a, b in headers:
            walled[max(a, 0):max(b, 0)] = True
    return walled


def _part_numbers(sc, plans: dict, counted: dict, numeric, text_of, ctx_ids) -> None:
    """SpanRules.disjoint_numbers: two number properties of a call do not copy the same number of
    the conversation ("the LCM of 18 and 12": num1 18 and num2 12, not 12 twice). Where they would,
    the one surer of its start keeps it, and the other takes its best-started number that no surer
    one holds and that reads as its kind; one left nothing keeps its plan. Array items are the list
    rules' to judge."""
    slots = {s.index: s for s in sc.slots}
    mine = [i for i in counted if plans[i][1] is not None and not _is_item(slots[i])]
    held = []                                          # (first, last) of the numbers surer slots hold
    for i in sorted(mine, key=lambda i: -counted[i][plans[i][1]]):
        route, first, last, number = plans[i]
        if any(f <= first <= l for f, l in held):
            starts = counted[i].copy()
            for f, l in held:
                starts[f:l + 1] = -np.inf
            other, other_last = _number_span(starts, numeric, slots[i].kind, text_of, ctx_ids)
            if other is not None:
                first, last = other, other_last
                plans[i] = (route, first, last, number)
        held.append((first, last))


def quoted_starts(texts: list[str], pointer: str, where: np.ndarray) -> np.ndarray:
    """[T] bool: the context tokens (``texts``, token_texts) where a quoted text written right after the
    property's name starts (runtime/keyed.py quoted_pattern: "relationship type 'DJZaRcI60Ps'"), among
    those ``where`` allows (SpanRules.keyed_quotes)."""
    pattern = quoted_pattern(pointer)
    if pattern is None:
        return np.zeros(len(texts), bool)
    text = "".join(texts)
    return _covering(texts, [(m.start(1), m.start(1) + 1) for m in pattern.finditer(text)]) & where


def _siblings(sc, pointer: str) -> list[str] | None:
    """The pointers of the other top-level properties of ``sc``'s schema, for a top-level ``pointer``
    (SpanRules.partial_keys); None for a nested one."""
    props = (sc.schema or {}).get("properties") if isinstance(sc.schema, dict) else None
    if pointer.count("/") != 1 or not isinstance(props, dict):
        return None
    return ["/" + esc_ptr(k) for k in props if "/" + esc_ptr(k) != pointer]


def _off_others(starts: np.ndarray, pointer: str, claimed: dict) -> np.ndarray:
    """SpanRules.cross_echoes: ``starts`` with the context positions inside values earlier calls of the
    turn copied for a property of another name (``claimed``) ruled out, where some start is left."""
    key = top_property(pointer)
    other = sorted({p for name, at in claimed.items() if name != key for p in at if 0 <= p < len(starts)})
    if not other:
        return starts
    kept = starts.copy()
    kept[other] = -np.inf
    return kept if np.isfinite(kept).any() else starts


def _used(slot, taken, claimed) -> list[int]:
    """The context positions where earlier calls of the turn copied ``slot``'s value: the starts
    ``taken`` holds for its pointer and the words ``claimed`` holds for its top-level property."""
    at = set((taken or {}).get(slot.pointer, ())) | set((claimed or {}).get(top_property(slot.pointer), ()))
    return sorted(at)


def _is_item(slot) -> bool:
    return slot.schema_pointer.endswith("/items")


_NUMBER_TAIL = re.compile(r"(?:(?:,[0-9]{3}(?![0-9]))+(?:\.[0-9]+)?|\.[0-9]+)?(?:[eE][-+]?[0-9]+(?![0-9A-Za-z]))?")


def extend_number(text_of, ctx_ids, first, last, reach: int = 12) -> int:
    """The last token of a number span widened over the decimals and thousands groups that follow
    it in the conversation ("90" before ".5" -> "90.5"), where the span holds only digits."""
    if not re.fullmatch(r"\s*(?:[=:(\[]*[-\u2212])?[0-9]+", text_of(ctx_ids[first:last + 1])):
        return last
    pieces = [text_of(ctx_ids[i:i + 1]) for i in range(last + 1, min(len(ctx_ids), last + 1 + reach))]
    m = _NUMBER_TAIL.match("".join(pieces))
    if not m:
        return last
    n = 0
    for k, piece in enumerate(pieces):                 # whole tokens only: stop where the match ends
        n += len(piece)
        if n == m.end():
            return last + 1 + k
        if n > m.end():
            break
    return last


BEYOND_ITEMS = 64                                      # a list's values read past an array's item places


def _continue_lists(sc, ids, gen, copied, ctx_ids, text_of, tokenize, allowed, info):
    """SpanRules.list_items: fill items 1.. of every array whose item 0 was copied; returns what is
    left to diffusion. Where the list goes on past the array's item places, with every place filled,
    its further values (up to BEYOND_ITEMS) go to ``info.beyond`` (with_beyond appends them)."""
    by_ptr = {}
    for s in sc.slots:
        by_ptr.setdefault(s.pointer, []).append(s)
    done = set()
    for s in sc.slots:
        head, _, idx = s.pointer.rpartition("/")
        if s.index not in copied or not _is_item(s) or idx != "0" or s.kind not in ("string", "number", "integer"):
            continue
        items = [by_ptr[s.pointer]]
        while f"{head}/{len(items)}" in by_ptr:
            items.append(by_ptr[f"{head}/{len(items)}"])
        first, last = copied[s.index]
        values = list_elements(text_of(ctx_ids[last + 1: last + 400]), s.kind, BEYOND_ITEMS)
        lead = LIST_LEAD.search(text_of(ctx_ids[max(0, first - 80):first])) if s.kind != "string" else None
        if lead:                                        # "5, 10, 15" copied from "10": the list starts at 5
            values = [*LIST_NUMBER.findall(lead.group(0)), text_of(ctx_ids[first:last + 1]).strip(), *values]
        else:
            items = items[1:]
        for k, group in enumerate(items):
            value_slots = [t for t in group if t.kind == s.kind]
            if len(value_slots) != 1 or any(t.kind != "presence" for t in group if t is not value_slots[0]):
                break                                   # not a scalar item laid out like item 0
            v = value_slots[0]
            text = None
            if k < len(values):
                text = json.dumps(values[k], ensure_ascii=False)[1:-1] if s.kind == "string" else values[k]
            toks = list(tokenize(text)) if text else []
            if text and not (0 < len(toks) <= v.budget and allowed[v.index][toks].all()):
                break
            for t in group:
                fill_ids = toks if t is v else (list(t.choices[0]) if toks else [])
                ids[t.start:t.start + t.budget] = fill_ids + [sc.null_id] * (t.budget - len(fill_ids))
                done.add(t.index)
            info.routes[v.pointer] = "list" if toks else "null"
            if k == len(items) - 1 and toks and len(values) > len(items):   # the list goes on past the places
                info.beyond[head] = _list_values(values[len(items):], s.kind)
    return [g for g in gen if g[1] not in done]


def _list_values(texts: list[str], kind: str) -> list:
    """List elements as JSON values of ``kind``, up to the first that does not read as one."""
    out = []
    for text in texts:
        try:
            value = text if kind == "string" else json.loads(text)
        except ValueError:
            break
        if kind == "integer" and not isinstance(value, int):
            break
        out.append(value)
    return out


def with_beyond(args: dict, beyond: dict) -> dict:
    """``args`` with each array at a pointer of ``beyond`` (FillInfo.beyond) extended by its values."""
    out = json.loads(json.dumps(args))
    for pointer, values in beyond.items():
        node = out
        try:
            for key in pointer.strip("/").split("/"):
                node = node[int(key)] if isinstance(node, list) else node[key]
        except (KeyError, IndexError, ValueError, TypeError):
            continue
        if isinstance(node, list):
            node.extend(values)
    return out


def _drop_empty_optionals(sc, ids) -> None:
    """Set the presence slot of an optional value whose value slots are all NULL back to absent."""
    null_id = sc.null_id
    for p in sc.slots:
        if p.kind != "presence" or ids[p.start] == null_id:
            continue
        inner = [s for s in sc.slots if s is not p and (s.pointer == p.pointer or s.pointer.startswith(p.pointer + "/"))]
        if inner and all((ids[s.start:s.start + s.budget] == null_id).all() for s in inner):
            ids[p.start:p.start + p.budget] = null_id


_GROUPED = re.compile(r"-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")


def _number_prefix(text: str, pattern) -> bool:
    return any(pattern.fullmatch(text + tail) for tail in ("", "0", "1"))


def constrained_number(logits, slot, allowed, text_of, null_id):
    """Left-to-right greedy fill of one number/integer slot that always yields a valid lexeme.

    logits [budget, V+1] of the slot's positions; the allowed tokens are filtered by a prefix
    check so that the text stays a JSON number (integer) prefix, and NULL closes it once complete.
    """
    pattern = _INTEGER if slot.kind == "integer" else _NUMBER
    cand = np.flatnonzero(allowed[:null_id])
    texts = {int(t): text_of([t]) for t in cand}
    out, text = [], ""
    for j in range(slot.budget):
        row = logits[j]
        complete = pattern.fullmatch(text) is not None
        last = j == slot.budget - 1
        order = cand[np.argsort(-row[cand])]
        pick = None
        for t in order:
            nxt = text + texts[int(t)]
            if (pattern.fullmatch(nxt) if last else _number_prefix(nxt, pattern)):
                pick = int(t)
                break
        if complete and (pick is None or row[null_id] >= row[pick]):
            break
        if pick is None:
            return None
        out.append(pick)
        text += texts[pick]
    if pattern.fullmatch(text) is None:
        return None
    return out + [null_id] * (slot.budget - len(out))


def repair_string(text: str, budget: int, tokenize, null_id: int) -> list[int]:
    """Slot ids for the longest valid string value the generated ``text`` (a JSON string body) holds."""
    text = text.replace("\ufffd", "")
    try:
        value = json.loads('"' + text + '"')
    except ValueError:
        value = text.replace("\\", "")
    while True:
        toks = list(tokenize(json.dumps(value, ensure_ascii=False)[1:-1])) if value else []
        if len(toks) <= budget:
            return toks + [null_id] * (budget - len(toks))
        value = value[: max(0, min(len(value) - 1, len(value) * budget // len(toks)))]


def repair_union(text: str, budget: int, tokenize, null_id: int) -> list[int]:
    """Slot ids for a union value (a ``json`` slot) that fits none of its types: the number or
    boolean a JSON string holds ('"5"' -> 5), else null."""
    try:
        inner = json.loads(text)
        value = json.loads(inner) if isinstance(inner, str) else None
    except ValueError:
        value = None
    candidate = json.dumps(value) if isinstance(value, (int, float, bool)) else "null"
    toks = list(tokenize(candidate))
    if len(toks) > budget:
        toks = list(tokenize("null"))
    return toks + [null_id] * (budget - len(toks))


def fill_and_decode(sc, step, ctx_ids, tokenize, text_of, steps: int = 1, use_span: bool = True,
                    anchors: dict | None = None, anchor_weight: float = 0.0, anchor_route: float | None = None,
                    end_anchor=None, end_weight: float = 0.0, rules: SpanRules | None = None, named=None,
                    taken=None, claimed=None, away=None, headers=None, function: str = "", prior=None,
                    fresh=None, turn=()):
    """``fill`` then assemble: (arguments dict or None, ids, FillInfo, error message or None).

    A fill that does not assemble is repaired slot by slot, as the compiler names them: a string
    keeps its longest valid value (broken UTF-8 or stray escapes dropped), a number or integer is
    re-decoded left to right under a JSON-number prefix check, a union value (json) that fits none
    of its types becomes the scalar a quoted text holds ("5" -> 5), else null. What still fails is
    reported, never returned as a call.
    """
    ids, info = fill(sc, step, ctx_ids, tokenize, text_of, steps, use_span=use_span, anchors=anchors,
                     anchor_weight=anchor_weight, anchor_route=anchor_route, end_anchor=end_anchor,
                     end_weight=end_weight, rules=rules, named=named, taken=taken,
                     claimed=claimed, away=away, headers=headers, function=function, prior=prior, fresh=fresh,
                     turn=turn)
    for _ in range(len(sc.slots) + 1):
        try:
            return sc.decode(ids), ids, info, None
        except ValueError as e:
            err, ptr = str(e), getattr(e, "pointer", None)
        bad = [s for s in sc.slots if s.pointer == ptr and s.kind in ("string", "number", "integer", "json",
                                                                      "presence", "null")]
        if not bad or ptr in info.repaired:
            break
        info.repaired.append(ptr)
        rows, at = _slot_rows([s for s in bad if s.kind in ("number", "integer")])
        logits = None                                  # read once, where the first number is re-decoded
        for s in bad:
            sl = slice(s.start, s.start + s.budget)
            if s.kind in ("presence", "null"):
                # a value was filled under a marker that says "absent" / "null": the value wins
                mark = list(s.choices[0]) if s.kind == "presence" else []
                ids[sl] = mark + [sc.null_id] * (s.budget - len(mark))
                continue
            if s.kind in ("string", "json"):
                toks = [int(t) for t in ids[sl] if t != sc.null_id]
                kind = free_type(sc.schema, s)
                if kind is not None:
                    ids[sl] = repair_free(text_of(toks), kind, s.budget, tokenize, sc.null_id)
                    continue
                repair = repair_string if s.kind == "string" else repair_union
                ids[sl] = repair(text_of(toks), s.budget, tokenize, sc.null_id)
                continue
            if logits is None:
                logits = step(ids, *layout(sc), rows)[0]
                info.steps += 1
            toks = constrained_number(logits[at[s.index]:at[s.index] + s.budget], s, np.asarray(sc.allowed_mask(s)),
                                      text_of, sc.null_id)
            if toks is not None:
                ids[sl] = toks
    return None, ids, info, err
