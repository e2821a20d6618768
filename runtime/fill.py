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
from functools import cached_property

import numpy as np

from edgeagent.heads.spec import ACTION_GEN, ACTION_NULL, ACTION_SPAN, KIND_IDS, position_kind
from edgeagent.runtime.keyed import key_words, keyed_pattern, partial_pattern, quoted_pattern, trailing_numbers
from edgeagent.runtime.literal import free_type, literal_ends, literal_value, repair_free
from edgeagent.runtime.lists import LIST_LEAD, LIST_NUMBER, list_elements
from edgeagent.runtime.rules import SpanRules
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
_JOINED_AFTER = re.compile(rf"(?:(?: of(?: the)?)? {_NAME_WORD}(?![\w'&-]))+")        # " Museum of Art"
_JOINED_BEFORE = re.compile(rf"(?<=[\w,] )(?:{_NAME_WORD} (?:of (?:the )?)?)+$")      # "Metropolitan Museum of "


def name_run(texts: list[str], first: int, last: int, reach: int = 3, joined: bool = False) -> tuple[int, int]:
    """A copied span widened to the whole run of capitalized words it stands in ("Leonardo" of
    "Leonardo DiCaprio" -> "Leonardo DiCaprio", "Green" of "Sea Green" -> "Sea Green"; up to
    ``reach`` words each way): words joined by single spaces, no punctuation between them; a run
    that opens a sentence or a message is no name ("Find Leonardo DiCaprio" stays "Leonardo
    DiCaprio"). Only where the span's own edge word is a name too; names are capitalized words
    with a lower-case second letter (not "ID", "CA" or "ABC123"); whole tokens only. ``joined``
    (SpanRules.of_names): "of" or "of the" between two names joins them into one run ("Art" of "the
    Metropolitan Museum of Art" -> "Metropolitan Museum of Art")."""
    after, before = (_JOINED_AFTER, _JOINED_BEFORE) if joined else (_NAME_AFTER, _NAME_BEFORE)
    bounds = np.cumsum([0] + [len(t) for t in texts])
    text = "".join(texts)
    a, b = int(bounds[first]), int(bounds[last + 1])
    b = a + len(text[a:b].rstrip())                   # a span that ends in a space token ends before it
    words = text[a:b].split()
    if not words:
        return first, last
    named = lambda word: re.fullmatch(_NAME_WORD, word) is not None
    if named(words[-1]) and (m := after.match(text, b)):
        ends = [w.end() for w in re.finditer(_NAME_WORD, text[b:m.end()])][:reach]
        for end in reversed(ends):                     # the farthest end that is a token boundary
            k = int(np.searchsorted(bounds, b + end))
            if k < len(bounds) and bounds[k] == b + end:
                last = k - 1
                break
    lead = len(text[a:b]) - len(text[a:b].lstrip())
    if named(words[0].rstrip(_EDGE_TAIL)) and (m := before.search(text, 0, a + lead)):   # "Art." of "...of Art."
        starts = [w.start() for w in re.finditer(_NAME_WORD, m.group(0))][-reach:]
        for start in starts:                           # the farthest start that is a token boundary
            k = int(np.searchsorted(bounds, m.start() + start - 1))
            if k < len(bounds) and bounds[k] == m.start() + start - 1:
                first = k
                break
    return first, last


def widen_generated(args: dict, routes: dict, request: str, joined: bool = False) -> dict:
    """SpanRules.generated_names: ``args`` with each top-level string value the head generated
    (``routes``: pointer -> "gen") that the request writes once, as whole words, widened to the run
    of capitalized words it stands in, as name_run widens a copied one ("San" of "performing in San
    Diego next month" -> "San Diego"; ``joined``: across "of", SpanRules.of_names)."""
    out = dict(args)
    chars = list(request)
    for key, value in args.items():
        if routes.get("/" + esc_ptr(key)) != "gen" or not isinstance(value, str) or not value.strip():
            continue
        found = list(re.finditer(r"(?<!\w)" + re.escape(value.strip()) + r"(?!\w)", request))
        if len(found) != 1:
            continue
        first, last = name_run(chars, found[0].start(), found[0].end() - 1, joined=joined)
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


# where a span moved past a lone article stops: punctuation, quotes, brackets, a special token ("<|")
_PAST_ARTICLE_WALLS = set(".?!,;:<\"'()[]{}")


def past_article(texts: list[str], first: int, last: int, end, span_max: int, length_penalty: float):
    """SpanRules.past_articles: a span that copies a lowercase article alone ("the") starts at the
    word after it instead, and ends where the end scores say, before any punctuation or special
    token; any other span as it is."""
    nxt = last + 1
    if "".join(texts[first:nxt]).strip() not in ("the", "a", "an") or nxt >= len(texts) \
            or not texts[nxt].strip()[:1].isalnum():
        return first, last
    hi = nxt + 1
    while hi < min(len(texts), nxt + span_max) and texts[hi].strip()[:1] not in _PAST_ARTICLE_WALLS:
        hi += 1
    window = np.asarray(end[nxt:hi], np.float64) - length_penalty * np.arange(hi - nxt)
    return nxt, nxt + int(np.argmax(window))


def only_name_words(raw: str, words) -> bool:
    """Whether a copied string is nothing but lower-case name words (``words``: the property's and the
    function's, of three letters or more; a plural "s" counts): "building" for `building_name`, "cell"
    for get_cell_info's `cell_type` (SpanRules.bare_echoes)."""
    names = {w for w in words if len(w) >= 3}
    found = re.findall(r"[^\W_]+", raw)
    return bool(found) and all(w in names or (w.endswith("s") and w[:-1] in names) for w in found)


_MODIFIER_RUN = re.compile(r"(?<=[\w,] )(?:[A-Z][\w'&-]* ){1,4}$")         # "Empire State ", "American Red Cross "
_MODIFIER_WORD = re.compile(r"(?<![\w'-])(?:[a-z][a-z'-]*|\d+) $")                 # "human ", "2 "
_FUNCTION_WORDS = frozenset("a an the of in on at for to with from by and or my your our his her their its this that "
                            "these those some any each every all".split())


def words_before(text: str, at: int) -> tuple[int, int] | None:
    """(start, end) of the words ``text`` writes right before ``at``, a name word's start, with one
    space between (``text[start:end]``): the run of up to four capitalized words ("Empire State" of
    "the Empire State building"; not a run that opens the text or a sentence), or one lower-case
    word that is no function word ("human" of "a human cell"), or one whole number ("2" of "2
    tickets"); None for anything else (SpanRules.modifier_echoes)."""
    left = text[:at]
    m = _MODIFIER_RUN.search(left)
    if m is None:
        m = _MODIFIER_WORD.search(left)
        if m is None or m.group(0).strip() in _FUNCTION_WORDS:
            return None
    return m.start(), m.end() - 1


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
         claimed=None, away=None, headers=None, function: str = "", prior=None, fresh=None, turn=(),
         walls=None):
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
    ``walls``: (request text, character spans of it) that no value of this call is copied from (the
    other parts of a request that numbers them, runtime/parts.py; SpanRules.ordinal_parts).
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

    Three phases (_Fill): ``plan`` routes each value slot and picks the span a copied one takes,
    then the plans are mended together (optional_echoes, disjoint_numbers, disjoint_spans);
    ``write`` puts choices, copied text and NULLs into the scaffold; ``diffuse`` generates the rest.
    """
    f = _Fill(sc, step, ctx_ids, tokenize, text_of, span_max, use_span, anchors, anchor_weight, anchor_route,
              end_anchor, end_weight, rules or SpanRules(), named, taken, claimed, away, headers, function, prior,
              fresh, turn, walls)
    ids = np.array(sc.masked(), dtype=np.int64)
    kinds, spos = layout(sc)
    # token logits only where a choice is scored now; generated positions ask for theirs below
    choice_rows, f.at = _slot_rows([s for s in sc.slots if s.kind in CHOICE_KINDS])
    f.tok_logits, act_logits, f.start, f.end = step(ids, kinds, spos, choice_rows)
    f.info.steps = 1
    for s in sc.slots:
        if s.kind not in CHOICE_KINDS:
            f.plans[s.index] = f.plan(s, act_logits[s.start].copy())
    f.mend_plans()
    gen = []                                           # (position, slot) left to diffusion
    for s in sc.slots:
        gen += f.write(s, ids)
    if f.rules.list_items:
        gen = _continue_lists(sc, ids, gen, f.copied, ctx_ids, text_of, tokenize, f.allowed, f.info)
    f.diffuse(ids, gen, steps, kinds, spos)
    if not f.rules.empty_strings:
        _drop_empty_optionals(sc, ids)
    return ids, f.info


@dataclass
class _Fill:
    """One ``fill``: its arguments, the head's first pass, and what the phases work out on the way."""

    sc: object
    step: object
    ctx_ids: object
    tokenize: object
    text_of: object
    span_max: int
    use_span: bool
    anchors: dict | None
    anchor_weight: float
    anchor_route: float | None
    end_anchor: object
    end_weight: float
    rules: SpanRules
    named: object
    taken: object
    claimed: object
    away: object
    headers: object
    function: str
    prior: object
    fresh: object
    turn: object
    walls: object
    info: FillInfo = field(default_factory=FillInfo)
    plans: dict = field(default_factory=dict)          # value slot index -> (route, span first, last, number)
    scored: dict = field(default_factory=dict)         # copied string slot index -> its start scores
    counted: dict = field(default_factory=dict)        # copied number slot index -> its start scores
    copied: dict = field(default_factory=dict)         # slot index -> (first, last) context tokens copied
    source: tuple | None = None                        # (sentence stops, walled tokens, number starts,
                                                       # other clauses' cost), made once, where spans are copied
    tok_logits: object = None                          # the first pass: choice rows' token logits,
    at: dict | None = None                             # each choice slot's first row in them,
    start: object = None                               # and every slot's start and end scores
    end: object = None

    def __post_init__(self):
        width = self.sc.null_id + 1                    # V + 1: the vocabulary and NULL
        self.allowed = {s.index: np.asarray(self.sc.allowed_mask(s))[:width] for s in self.sc.slots}
        self.free = {s.index: free_type(self.sc.schema, s) for s in self.sc.slots}
        self.echo_words = function_words(self.function) if self.rules.function_echoes else []
        self._literals = {}                            # free type -> literal_ends of the context
        schema = self.sc.schema if isinstance(self.sc.schema, dict) else {}
        free_call = self.rules.free_calls and not schema.get("required")
        self.absent_bias = 0.0 if free_call else self.rules.absent_bias   # SpanRules.free_calls

    @cached_property
    def texts(self) -> list[str]:
        return token_texts(self.text_of, self.ctx_ids)

    def sources(self) -> tuple:
        """(stops, listing, numeric, elsewhere): sentence stops, the walled tokens (None: all may be
        copied), number starts and the other clauses' cost, read once; nothing without the span path."""
        if self.use_span and self.source is None:
            texts, rules = self.texts, self.rules
            self.source = (sentence_stops(texts) if rules.sentence_stop else None,
                           _walled(texts, rules, self.headers, self.walls, self.turn),
                           number_starts(texts) if rules.copy_numbers else None,
                           rules.other_clauses * away_tokens(texts, *self.away)
                           if self.away and rules.other_clauses else 0.0)
        return self.source or (None, None, None, 0.0)

    @cached_property
    def said(self) -> np.ndarray:
        """[T] bool: the tokens of the user and tool messages (written)."""
        return written(self.texts)

    @cached_property
    def keyed_where(self) -> tuple:
        """(where a keyed number may start: a number the user or a tool writes; the latest request's
        tokens where SpanRules.keyed_order reads them, else None)."""
        return (self.said & (self.sources()[2] >= 0),
                latest_request(self.texts) if self.rules.keyed_order else None)

    @cached_property
    def logp(self) -> np.ndarray:
        """The choice rows' token log-probabilities."""
        return _log_softmax(self.tok_logits)

    def leans_absent(self, s) -> bool:
        """An optional property (not an array item) the request does not name: leaving it out gets
        SpanRules.absent_bias."""
        return not s.required and not _is_item(s) and s.pointer not in (self.named or ())

    def plan(self, s, acts) -> tuple:
        """(route, first, last, number) of value slot ``s`` from its action logits ``acts``: the head's
        route, moved by the rules, and for a copied value the context span it copies (number: the span
        is a whole number already)."""
        rules, use_span = self.rules, self.use_span
        if s.required and (s.kind != "string" or not rules.empty_strings):
            acts[ACTION_NULL] = -np.inf
        if not use_span:
            acts[ACTION_SPAN] = -np.inf
        if self.leans_absent(s):
            acts[ACTION_NULL] += self.absent_bias
        route = int(np.argmax(acts))
        stops, listing, numeric, elsewhere = self.sources()
        quoted = None                                  # SpanRules.keyed_quotes: where a quoted value of it starts
        if rules.keyed_quotes and use_span and s.kind == "string" and self.free[s.index] is None \
                and s.pointer.count("/") == 1:                 # a top-level property, as measured
            quoted = quoted_starts(self.texts, s.pointer, self.said)
            if quoted.any():
                route = ACTION_SPAN                    # "relationship type 'DJZaRcI60Ps'": copied, never left out
            else:
                quoted = None
        anchor = self.anchors.get(s.index) if self.anchors is not None else None
        if anchor is not None and listing is not None:
            anchor = np.where(listing, -np.inf, anchor)
        if (route == ACTION_GEN and use_span and self.anchor_route is not None and anchor is not None
                and anchor.max() >= self.anchor_route):
            route = ACTION_SPAN
        number = numeric is not None and s.kind in ("number", "integer")
        if number:
            ok = numeric >= 0 if listing is None else (numeric >= 0) & ~listing
            number = bool(ok.any())                    # a number is copied from a number of the conversation
            if number:
                route = ACTION_SPAN if route == ACTION_GEN else route
                listing = ~ok
        if use_span and self.free[s.index] is not None and route != ACTION_NULL:
            return self.plan_literal(s, route, anchor, elsewhere, number)
        if route == ACTION_SPAN and (listing is None or not listing.all()):
            first, last = self.copy_span(s, anchor, quoted, number, listing)
            return route, first, last, number
        return route, None, None, number

    def plan_literal(self, s, route, anchor, elsewhere, number) -> tuple:
        """A free-form JSON value (runtime/literal.py): the best-started literal the conversation
        writes, whole; an optional one with none written is left out."""
        kind = self.free[s.index]
        if kind not in self._literals:
            self._literals[kind] = literal_ends(self.texts, kind, self.said)
        closes = self._literals[kind]
        ok = closes >= 0
        if ok.any():
            starts = self.start[s.start] + (self.anchor_weight * anchor if anchor is not None else 0) - elsewhere
            first = int(np.argmax(np.where(ok, starts, -np.inf)))
            return ACTION_SPAN, first, int(closes[first]), True
        return (ACTION_NULL if not s.required else route), None, None, number

    def copy_span(self, s, anchor, quoted, number, listing) -> tuple[int, int]:
        """(first, last): the context span value slot ``s`` copies, from the head's start and end scores
        with the rules' bonuses and bars (keyed numbers, the span prior, quoted values, earlier calls'
        words)."""
        rules, texts = self.rules, self.texts
        stops, _, numeric, elsewhere = self.sources()
        starts = self.start[s.start]
        keyed_bonus = 0.0
        if anchor is not None and self.anchor_weight:
            starts = starts + self.anchor_weight * anchor
        starts = starts - elsewhere
        bonus = self.prior(s, texts) if self.prior is not None and rules.word_prior and not number else None
        if bonus is not None:
            starts = starts + rules.word_prior * bonus
        if quoted is not None:
            starts = starts + rules.keyed_quotes * quoted
        if number:                                     # a signed number starts where its sign or digits do
            starts = signed_starts(starts, texts, numeric)
            if rules.keyed_numbers:
                keyed_bonus = rules.keyed_numbers * self.keyed(s)
                starts = starts + keyed_bonus
        if listing is not None:
            starts = np.where(listing, -np.inf, starts)
        if rules.cross_echoes and self.claimed and not _is_item(s):
            starts = _off_others(starts, s.pointer, self.claimed)
        if rules.fresh_repeats and self.taken and self.taken.get(s.pointer):
            starts = starts.copy()
            starts[sorted(self.taken[s.pointer])] -= rules.fresh_repeats
        used = _used(s, self.taken, self.claimed)
        if used and not _is_item(s):
            used = sorted(set(used) | set(self.turn))
            rest = starts.copy()
            rest[used] = -np.inf
            plain, other = starts - keyed_bonus, rest - keyed_bonus   # the head's own scores decide
            if np.isfinite(other.max()) and np.isfinite(plain.max()):
                self.info.news[s.pointer] = float(other.max() - plain.max())
            if self.fresh and s.pointer in self.fresh:
                starts = rest
        if number:                                     # the best-started number that reads as this kind
            self.counted[s.index] = starts
            return _number_span(starts, numeric, s.kind, self.text_of, self.ctx_ids)
        first, last = best_span(starts, self.end[s.start], self.span_max, rules.length_penalty, stops)
        if rules.past_articles:                        # "discovered the neutron": not "the" alone
            first, last = past_article(texts, first, last, self.end[s.start], self.span_max, rules.length_penalty)
        if rules.bare_echoes and s.kind == "string":   # "a human cell": not "cell" alone
            starts, first, last = self.past_echoes(s, starts, first, last, stops)
        self.scored[s.index] = starts
        return first, last

    def past_echoes(self, s, starts, first: int, last: int, stops) -> tuple:
        """SpanRules.bare_echoes: (starts, first, last) where the span (first, last) copies nothing but
        the property's or the function's lower-case name words, unquoted: decoded again with the
        starts inside it barred (twice at most); the starts and span as they are otherwise."""
        texts, words = self.texts, key_words(s.pointer) + self.echo_words
        for _ in range(2):
            quoted = (first > 0 and texts[first - 1].rstrip()[-1:] in QUOTES) or texts[first].strip()[:1] in QUOTES
            if quoted or not only_name_words("".join(texts[first:last + 1]), words):
                break
            starts = starts.copy()
            starts[first:last + 1] = -np.inf
            before = self.words_before(first) if self.rules.modifier_echoes else None
            if before is not None:
                return starts, *before
            if not np.isfinite(starts).any():
                break
            first, last = best_span(starts, self.end[s.start], self.span_max, self.rules.length_penalty, stops)
        return starts, first, last

    def words_before(self, first: int) -> tuple[int, int] | None:
        """SpanRules.modifier_echoes: the tokens (first, last) of the words right before the copied
        span that starts at token ``first`` (fill.py words_before), where they are whole tokens."""
        texts = self.texts
        bounds = np.cumsum([0] + [len(t) for t in texts])
        text = "".join(texts)
        got = words_before(text, int(bounds[first]) + len(texts[first]) - len(texts[first].lstrip()))
        if got is None:
            return None
        at = {int(b): k for k, b in enumerate(bounds)}            # char offset -> the token that starts there
        starts = [at[x] for x in (got[0] - 1, got[0]) if x in at]  # " Empire" (or "Empire") to " State"
        j = at.get(got[1])
        return (starts[0], j - 1) if starts and j is not None else None

    def keyed(self, s) -> np.ndarray:
        """SpanRules.keyed_numbers: [T] 1 where a number written under the property's name starts
        (keyed_order: the first no earlier call of the function took, in the latest request)."""
        rules = self.rules
        where, latest = self.keyed_where
        keyed = keyed_starts(self.texts, s.pointer, where, rules.trailing_keys,
                             _siblings(self.sc, s.pointer) if rules.partial_keys else None)
        if rules.keyed_order:
            keyed = first_untaken(keyed, (self.taken or {}).get(s.pointer, ()), latest)
        return keyed

    def mend_plans(self) -> None:
        """The rules that weigh a call's plans against each other, then every copied value's end pass
        (the trunk's, where it has one) in one batch."""
        rules, plans = self.rules, self.plans
        if rules.optional_echoes != "keep":
            _drop_echoes(self.sc, plans, self.named, self.claimed if rules.optional_echoes == "turn" else None)
        if rules.disjoint_numbers and self.counted:    # counted: some number was copied, so source is read
            _part_numbers(self.sc, plans, self.counted, self.source[2], self.text_of, self.ctx_ids)
        stops = self.source[0] if self.source else None
        if rules.disjoint_spans:
            _part_spans(self.sc, plans, self.scored, self.end, self.span_max, rules.length_penalty, stops,
                        self.texts if rules.disjoint_texts else None)
        prefetch = getattr(self.end_anchor, "prefetch", None) if self.end_weight else None
        if prefetch is not None:
            prefetch([(s, plans[s.index][1]) for s in self.sc.slots
                      if s.index in plans and plans[s.index][1] is not None and not plans[s.index][3]])

    def write(self, s, ids) -> list[tuple[int, int]]:
        """Put slot ``s``'s choice, copied text or NULL into ``ids``; returns its (position, slot) pairs
        left to diffusion (a value the head generates, or a span that does not fit the slot)."""
        sl = slice(s.start, s.start + s.budget)
        if s.kind in CHOICE_KINDS:
            ids[sl] = self.choose(s)
            self.info.routes[s.pointer] = "choice"
            return []
        route, first, last, whole = self.plans[s.index]
        if first is not None:
            toks = self.span_tokens(s, first, last, whole)
            if toks is not None:
                ids[sl] = toks + [self.sc.null_id] * (s.budget - len(toks))
                self.info.routes[s.pointer] = "span"
                return []
            route = ACTION_GEN
        elif route == ACTION_SPAN:
            route = ACTION_GEN                         # nothing to copy from: generated
        if route == ACTION_NULL:
            ids[sl] = self.sc.null_id
            self.info.routes[s.pointer] = "null"
            return []
        self.info.routes[s.pointer] = "gen"
        return [(p, s.index) for p in range(s.start, s.start + s.budget)]

    def choose(self, s) -> list[int]:
        """A choice slot's ids: the best of its choices (or, where it may be left out, none) by the
        token log-probabilities, NULL-padded."""
        logp = self.logp[self.at[s.index]:self.at[s.index] + s.budget]
        options = [list(c) for c in s.choices]
        if not s.required or s.kind in ("presence", "null"):
            options.append([])
        null_id = self.sc.null_id
        cols = np.arange(s.budget)
        scores = [float(logp[cols, c + [null_id] * (s.budget - len(c))].sum()) for c in options]
        if s.kind != "null" and self.leans_absent(s):
            scores[-1] += self.absent_bias               # the optional property left out
        best = options[int(np.argmax(scores))]
        return best + [null_id] * (s.budget - len(best))

    def span_tokens(self, s, first, last, whole) -> list[int] | None:
        """The tokens of the text a copied value takes from context tokens first..last (its end decoded
        again with the trunk's end scores, edges moved by the rules); None where they do not fit the
        slot. Records the copy in FillInfo.spans."""
        rules, end_anchor = self.rules, self.end_anchor
        extra = end_anchor(s, first) if end_anchor is not None and self.end_weight and not whole else None
        if extra is not None:
            stops = self.source[0] if self.source else None
            hi = first + self.span_max
            if stops is not None:
                after = np.flatnonzero(stops[first + 1:hi])
                hi = first + 1 + int(after[0]) if len(after) else hi
            ends = self.end[s.start][first:hi] + self.end_weight * extra[first:hi]
            last = first + int(np.argmax(ends - rules.length_penalty * np.arange(len(ends))))
        chunky = rules.whole_chunks and s.kind == "string"
        text_of, ctx_ids = self.text_of, self.ctx_ids
        if not whole:
            first, last = snap_to_words(text_of, ctx_ids, first, last, reach=32 if rules.whole_chunks else 4,
                                        chunks=chunky)
            if rules.name_runs and s.kind == "string":
                first, last = name_run(self.texts, first, last, joined=rules.of_names)
            if rules.whole_quotes and s.kind == "string":
                first, last = quote_run(self.texts, first, last, reach=s.budget - 1)
            if rules.whole_numbers and s.kind in ("number", "integer", "json"):
                last = extend_number(text_of, ctx_ids, first, last)
        text = span_value(text_of, ctx_ids, first, last, s.kind, trim=chunky, articles=rules.drop_articles,
                          bare=rules.bare_words, free=self.free[s.index],
                          name_words=(key_words(s.pointer) if rules.name_echoes else []) + self.echo_words,
                          legs=key_words(s.pointer) if rules.route_legs else None)
        if rules.clock_24h and s.kind == "string" and text is not None:
            text = clock_24h(text) or text
        toks = list(self.tokenize(text)) if text is not None else []
        if not (0 < len(toks) <= s.budget and self.allowed[s.index][toks].all()):
            return None
        self.copied[s.index] = (first, last)
        self.info.spans[s.pointer] = (first, last)
        return toks

    def diffuse(self, ids, gen, steps: int, kinds, spos) -> None:
        """Masked diffusion over the ``gen`` positions: each step re-reads the scaffold and commits the
        most confident picks, on a schedule that commits everything by the last step. Step 1 reads the
        fully masked scaffold, as the routing pass did; later steps the partial fill."""
        masked = np.array(self.sc.masked(), dtype=np.int64)
        for k in range(steps):
            if not gen:
                break
            n_commit = math.ceil(len(gen) / (steps - k))
            pos = np.fromiter((p for p, _ in gen), np.int64, len(gen))
            tok_logits = self.step(masked if k == 0 else ids, kinds, spos, pos)[0]
            self.info.steps += 1
            rows = np.where(np.stack([self.allowed[si] for _, si in gen]), tok_logits, -np.inf)  # [n, V+1]
            pick = rows.argmax(-1)
            top = rows[np.arange(len(gen)), pick]
            conf = -np.log(np.exp(rows - top[:, None]).sum(-1))                # log-prob of the pick
            chosen = set(np.argsort(-conf, kind="stable")[:n_commit].tolist())
            for i in chosen:
                ids[gen[i][0]] = pick[i]
            gen = [g for i, g in enumerate(gen) if i not in chosen]


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


def _part_spans(sc, plans: dict, scored: dict, end, span_max: int, length_penalty: float, stops,
                texts: list[str] | None = None) -> None:
    """SpanRules.disjoint_spans: two properties of a call do not copy the same words. Where a copied
    string's span overlaps one that outranks it (a shorter span: "Long Beach on tomorrow to Las
    Vegas" over "Long Beach"; or the same length with a higher start + end score, numbers above
    strings), it is decoded again from its own start and end scores with every span that outranks it
    ruled out: no start inside one, no end past the start of one it begins before. The lowest-ranked
    first; a span left nowhere to go keeps its plan. With ``texts`` (the context's token texts;
    SpanRules.disjoint_texts) a string that copies the same text as an outranking string from other
    words ("Seattle" twice, for `from_location` and `to_location`) is decoded again the same way,
    its own words ruled out too (eight tries at most)."""
    slots = {s.index: s for s in sc.slots}
    spans = {i: (plans[i][1], plans[i][2], top_property(s.pointer)) for i, s in slots.items()
             if i in plans and plans[i][1] is not None and not _is_item(s)}
    rank = lambda i: (spans[i][1] - spans[i][0],        # lower ranks first: longer, then less sure
                      -(scored[i][spans[i][0]] + end[slots[i].start][spans[i][1]]) if i in scored else -np.inf)
    text_at = lambda f, l: "".join(texts[f:l + 1]).strip().lower() if texts is not None else None   # case aside
    for i in sorted((i for i in spans if i in scored), key=rank, reverse=True):
        first, last, key = spans[i]
        above = [(spans[j][0], spans[j][1]) for j in spans if spans[j][2] != key and rank(j) < rank(i)]
        same = {text_at(f, l) for j, (f, l, k) in spans.items()
                if texts is not None and k != key and j in scored and rank(j) < rank(i)}   # outranking texts
        if not any(f <= last and first <= l for f, l in above) and text_at(first, last) not in same:
            continue
        starts = scored[i].copy()
        walls = np.zeros(len(starts), bool) if stops is None else stops.copy()
        for f, l in above:
            starts[f:l + 1] = -np.inf
            walls[f] = True                            # a span that starts before it ends before it
        span = None
        for _ in range(8):
            if not np.isfinite(starts).any():
                break
            f, l = best_span(starts, end[slots[i].start], span_max, length_penalty, walls)
            if not np.isfinite(starts[f]):
                break
            if text_at(f, l) not in same:
                span = (f, l)
                break
            starts[f:l + 1] = -np.inf                  # the same text from other words: not these either
        if span is None:
            continue
        first, last = span
        route, _, _, number = plans[i]
        plans[i] = (route, first, last, number)
        spans[i] = (first, last, key)


def _walled(texts: list[str], rules: SpanRules, headers, walls=None, turn=()) -> np.ndarray | None:
    """[T] bool: the context tokens no value is copied from (the tool listing under
    SpanRules.conversation_only, the turn's call headers under own_headers, the request's ``walls``
    (request text, character spans; fill) with the ``turn``'s calls); None where all may be."""
    walled = tool_listing(texts) if rules.conversation_only else None
    if rules.own_headers and headers:
        walled = np.zeros(len(texts), bool) if walled is None else walled.copy()
        for a, b in headers:
            walled[max(a, 0):max(b, 0)] = True
    if walls and walls[1]:                             # and the turn's calls, which copied from them
        walled = away_tokens(texts, *walls) | (False if walled is None else walled)
        walled[list(turn)] = True
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
        inner = [s for s in sc.slots
                 if s is not p and (s.pointer == p.pointer or s.pointer.startswith(p.pointer + "/"))]
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
                    fresh=None, turn=(), walls=None):
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
                     turn=turn, walls=walls)
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
