"""Schema-constrained autoregressive argument decoding by the trunk itself (baseline a, DESIGN §4).

The same scaffold the slot filler fills, walked left to right by the trunk:

- literal JSON (braces, keys, colons, separators, quotes) is forced: pending literal text is
  tokenized and prefilled in one pass when the trunk next has to choose ("jumped over");
- a string / integer / number / json slot is decoded token by token, greedily, under the slot's
  allowed-token mask and a prefix check (a valid JSON string body, number or scalar at every step);
  the trunk ends the slot (NULL) when it prefers a token that closes the value (the closing quote,
  ``,``, ``}``, ``]``, or a merge of them) over the best allowed token; the budget caps the length;
- choice slots (enums, booleans) take the choice with the best summed token log-prob, plus the
  log-prob of closing the value after it; optional members, array items and nullable values are
  present when the trunk's log-prob of their literal (``, "key": ``; ``null``; not ``]``) says so.

The slot tokens are written into the scaffold ids and assembled by ``sc.decode``: the result is a
schema-valid argument dict or a clear error, never invalid JSON. Numpy and token ids only.
"""

from __future__ import annotations

import codecs
import re
import weakref

import numpy as np

from edgeagent.runtime.fill import _INTEGER, _NUMBER, _number_prefix
from edgeagent.scaffold import ArgumentError, compile_schema
from edgeagent.scaffold import jsonlex
from edgeagent.scaffold.reference import _json_matches, is_free
from edgeagent.scaffold.vocab import entry_for

_STRUCT = set(',}] "')
_HALF = np.log(0.5)


class ContextFull(ValueError):
    pass


def _log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    m = x.max()
    return x - m - np.log(np.exp(x - m).sum())


def _logsumexp(x):
    if len(x) == 0:
        return -np.inf
    m = x.max()
    return float(m + np.log(np.exp(x - m).sum()))


class Cursor:
    """The trunk's cache plus what was fed through it; ``mark``/``rewind`` undo a scored guess."""

    def __init__(self, backend, cache, logits, length: int):
        self.b, self.cache, self.logits, self.length = backend, cache, np.asarray(logits), length
        self.chunks: list[tuple[list[int], np.ndarray]] = []

    def feed(self, tokens):
        tokens = [int(t) for t in tokens]
        if not tokens:
            return self.logits
        if self.length + len(tokens) > self.b.max_len:
            raise ContextFull("the conversation and its calls outgrow the model's context")
        logits, hidden, self.cache = self.b.prefill(np.asarray(tokens, np.int64), self.cache)
        self.logits = np.asarray(logits)
        self.length += len(tokens)
        self.chunks.append((tokens, hidden))
        return self.logits

    def mark(self):
        return self.length, len(self.chunks), self.logits

    def rewind(self, mark):
        length, n_chunks, logits = mark
        self.cache = self.b.truncate(self.cache, length)
        self.length, self.logits = length, logits
        del self.chunks[n_chunks:]

    def fed(self):
        ids = [t for toks, _ in self.chunks for t in toks]
        states = np.concatenate([h for _, h in self.chunks]) if self.chunks else np.zeros((0, 0), np.float32)
        return ids, states


class _Vocab:
    """Per-tokenizer tables: token bytes/texts and the tokens that close a value."""

    def __init__(self, tokenizer):
        self.bytes = entry_for(tokenizer).token_bytes
        self.size = len(self.bytes)
        texts = {}
        close_str, close_val, close_arr = [], [], []
        for i, b in enumerate(self.bytes):
            if not b:
                continue
            try:
                t = b.decode("utf-8")
            except UnicodeDecodeError:
                continue
            texts[i] = t
            if set(t) <= _STRUCT:
                if t[0] == '"':
                    close_str.append(i)
                elif t[0] in ",}]":
                    close_val.append(i)
                if t[0] == "]":
                    close_arr.append(i)
        self.close = {"string": np.array(close_str, np.int64), "value": np.array(close_val, np.int64),
                      "array": np.array(close_arr, np.int64)}


_VOCABS: dict = {}
_TREES = weakref.WeakKeyDictionary()


def _vocab(tokenizer) -> _Vocab:
    v = _VOCABS.get(id(tokenizer))
    if v is None:
        v = _VOCABS[id(tokenizer)] = _Vocab(tokenizer)
    return v


def _tree(sc, tokenizer):
    """The layout tree (reference Inst nodes) of ``sc``, checked against its slots."""
    root = _TREES.get(sc)
    if root is None:
        ref = compile_schema(sc.schema, tokenizer, impl="python", **sc.budgets.kinds(), max_len=sc.budgets.max_len)
        layout = lambda s: [(x.pointer, x.kind, x.start, x.budget) for x in s.slots]  # noqa: E731
        if layout(ref) != layout(sc):
            raise ValueError("the scaffold was compiled with per-pointer budgets; AR decoding needs the default layout")
        root = _TREES[sc] = ref._cores["python"].root
    return root


def _body_prefix(text: str) -> bool:
    """Whether ``text`` can begin a JSON string body (a dangling escape is fine)."""
    if jsonlex.string_body(text) is not None:
        return True
    m = re.search(r"(\\+)(u[0-9a-fA-F]{0,3})?$", text)
    if m is None:
        return False
    head = text[:m.start(1)] + m.group(1)[:len(m.group(1)) // 2 * 2]
    dangling = len(m.group(1)) % 2 == 1
    return dangling and jsonlex.string_body(head) is not None


class _Walker:
    def __init__(self, cursor: Cursor, sc, vocab: _Vocab, tokenize):
        self.c, self.sc, self.v, self.tokenize = cursor, sc, vocab, tokenize
        self.ids = sc.masked()
        self.pending = ""
        self.decoder = None

    # literal text -------------------------------------------------------------------------------

    def lit(self, text: str):
        self.pending += text

    def flush(self):
        if self.pending:
            self.c.feed(self.tokenize(self.pending))
            self.pending = ""

    def present(self, text: str) -> bool:
        """Whether the trunk writes ``text`` next with probability >= 1/2; its tokens stay fed iff so."""
        self.flush()
        mark = self.c.mark()
        logp = 0.0
        for t in self.tokenize(text):
            logp += float(_log_softmax(self.c.logits)[t])
            if logp < _HALF:
                self.c.rewind(mark)
                return False
            self.c.feed([t])
        return True

    # slots ----------------------------------------------------------------------------------------

    def set_slot(self, index: int, toks):
        s = self.sc.slots[index]
        toks = list(toks)
        self.ids[s.start:s.start + s.budget] = toks + [self.sc.null_id] * (s.budget - len(toks))

    def null_out(self, inst):
        for i in range(inst.first, inst.end):
            self.set_slot(i, [])

    def choose(self, index: int):
        """The choice with the best sum of token log-probs (+ closing the value after it); fed."""
        self.flush()
        s = self.sc.slots[index]
        mark = self.c.mark()
        scores = []
        for choice in s.choices:
            total = 0.0
            for t in choice:
                total += float(_log_softmax(self.c.logits)[t])
                self.c.feed([t])
            total += _logsumexp(_log_softmax(self.c.logits)[self.v.close["value"]])
            scores.append(total)
            self.c.rewind(mark)
        best = list(s.choices[int(np.argmax(scores))])
        self.c.feed(best)
        self.set_slot(index, best)

    def generate(self, index: int, kind: str, node=None):
        """Greedy token-by-token fill of one value slot under its mask and a prefix check."""
        self.flush()
        s = self.sc.slots[index]
        allowed = np.asarray(self.sc.allowed_mask(s))[:self.v.size]
        closers = self.v.close["string" if kind == "string" else "value"]
        pattern = _INTEGER if kind == "integer" else _NUMBER

        def complete(text):
            if kind == "string":
                return jsonlex.string_body(text) is not None
            if kind in ("integer", "number"):
                return pattern.fullmatch(text) is not None
            try:
                return _json_matches(node, _parse(text, node))
            except ValueError:
                return False

        def prefix_ok(text):
            if kind == "string":
                return _body_prefix(text)
            if kind in ("integer", "number"):
                return _number_prefix(text, pattern)
            return _free_prefix(text, node) if is_free(node) else _scalar_prefix(text, node)

        toks, raw = [], b""
        for j in range(s.budget):
            logits = np.asarray(self.c.logits[:self.v.size], dtype=np.float64)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            done = text is not None and complete(text)
            end = float(logits[closers].max()) if done and len(closers) else -np.inf
            pick = self._best_token(logits, allowed, raw, prefix_ok, complete if j == s.budget - 1 else None,
                                    kind == "string")
            if pick is None or (done and end >= logits[pick]):
                break
            toks.append(pick)
            raw += self.v.bytes[pick]
            self.c.feed([pick])
        # an unfinished value (no valid continuation within the budget) is cut back to its longest
        # complete prefix; the trunk has seen the dropped tokens, the arguments never do
        while toks:
            try:
                if complete(b"".join(self.v.bytes[t] for t in toks).decode("utf-8")):
                    break
            except UnicodeDecodeError:
                pass
            toks.pop()
        if not toks and kind != "string":
            toks = self._fallback(s, kind, node)
        self.set_slot(index, toks)

    def _fallback(self, s, kind, node):
        """The tokens of a plain valid value for a slot the trunk left without one (seen by no one)."""
        if kind in ("integer", "number"):
            texts = ["0"]
        else:
            texts = [jsonlex.dumps(v) for v in node.values]
            texts += [{"string": '""', "integer": "0", "number": "0", "object": "{}", "array": "[]"}.get(t, "null")
                      for t in node.types]
        for text in texts:
            try:
                ok = _json_matches(node, _parse(text, node)) if kind == "json" else True
            except ValueError:
                ok = False
            toks = self.tokenize(text)
            if ok and len(toks) <= s.budget:
                return toks
        return []

    def _best_token(self, logits, allowed, raw, prefix_ok, must_complete, in_string=True):
        masked = np.where(allowed, logits, -np.inf)
        k = 64
        for order in (np.argpartition(-masked, k)[:k], np.argsort(-masked)):
            order = order[np.argsort(-masked[order], kind="stable")]
            for t in order:
                if not np.isfinite(masked[t]):
                    break
                try:
                    text = (raw + self.v.bytes[t]).decode("utf-8")
                except UnicodeDecodeError:
                    # a multi-byte character split across tokens: fine mid-value if the bytes can
                    # still become valid UTF-8
                    data = raw + self.v.bytes[t]
                    if must_complete is None and (in_string or data[:1] == b'"') and _utf8_prefix(data):
                        return int(t)
                    continue
                if (must_complete(text) if must_complete is not None else prefix_ok(text)):
                    return int(t)
        return None

    # the walk -----------------------------------------------------------------------------------

    def value(self, inst):
        node, k = inst.node, inst.node.kind
        if k == "object":
            self.lit("{")
            first = True
            for key, child, req in inst.children:
                head = ("" if first else ", ") + '"' + jsonlex.escape(key) + '": '
                if req:
                    self.lit(head)
                elif self.present(head):
                    if child.presence >= 0:
                        self.set_slot(child.presence, self.sc.slots[child.presence].choices[0])
                else:
                    self.null_out(child)
                    continue
                self.value(child)
                first = False
            self.lit("}")
        elif k == "array":
            self.lit("[")
            for i, (_, child, _) in enumerate(inst.children):
                self.flush()
                p_close = _logsumexp(_log_softmax(self.c.logits)[self.v.close["array"]])
                if p_close >= _HALF:
                    for _, rest, _ in inst.children[i:]:
                        self.null_out(rest)
                    break
                if i:
                    self.lit(", ")
                if child.presence >= 0:
                    self.set_slot(child.presence, self.sc.slots[child.presence].choices[0])
                self.value(child)
            self.lit("]")
        elif k == "string":
            self.lit('"')
            self.generate(inst.slot, "string")
            self.lit('"')
        elif k in ("integer", "number"):
            self.generate(inst.slot, k)
        elif k == "json":
            self.generate(inst.slot, "json", node)
        elif k == "choice":
            self.choose(inst.slot)
        elif k == "const":
            self.lit(jsonlex.dumps(node.value))
        else:  # nullable: a null slot, then the inner value
            inner = inst.children[0][1]
            if self.present("null"):
                self.set_slot(inst.slot, self.sc.slots[inst.slot].choices[0])
                self.null_out(inner)
            else:
                self.set_slot(inst.slot, [])
                self.value(inner)


def _utf8_prefix(data: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
        return True
    except UnicodeDecodeError:
        return False


def _parse(text: str, node):
    """The value of a json slot's text: free-form JSON (whitespace allowed) or one scalar; ValueError."""
    return jsonlex.loads(text) if is_free(node) else jsonlex.scalar(text)


_FREE_CHARS = frozenset(" \t\n\r,:-+.0123456789")
_WORDS = ("true", "false", "null")


def _free_prefix(text: str, node) -> bool:
    """Whether ``text`` can begin free-form JSON of ``node``'s type (a loose check; the value is
    parsed when it closes): it opens with the type's bracket (or begins one of the node's values,
    such as null), brackets close in order and nothing follows the last, strings hold no raw
    control character, and outside strings only JSON's own characters appear."""
    s = text.lstrip()
    if not s or any(jsonlex.dumps(v).startswith(s) for v in node.values):
        return True
    if s[0] not in ("{" if "object" in node.types else "") + ("[" if "array" in node.types else ""):
        return False
    stack, in_string, i = [], False, 0
    while i < len(s):
        c = s[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
            elif ord(c) < 0x20:
                return False
        elif c == '"':
            in_string = True
        elif c in "{[":
            stack.append("}" if c == "{" else "]")
        elif c in "}]":
            if not stack or stack.pop() != c:
                return False
            if not stack and s[i + 1:].strip():
                return False
        elif c in "eE" and i and s[i - 1].isdigit():  # an exponent
            pass
        elif c.isalpha():                              # true, false, null (or the start of one, at the end)
            m = re.match(r"[a-z]+", s[i:])
            word = m.group(0) if m else c
            if word not in _WORDS and not (i + len(word) == len(s) and any(w.startswith(word) for w in _WORDS)):
                return False
            i += len(word)
            continue
        elif c not in _FREE_CHARS:
            return False
        i += 1
    return True


def _scalar_prefix(text: str, node) -> bool:
    """Whether ``text`` can begin a JSON scalar that a json slot of ``node`` accepts."""
    if not text or any(jsonlex.dumps(v).startswith(text) for v in node.values):
        return True
    if text[0] == '"' and "string" in node.types:
        body = text[1:]
        if body.endswith('"') and jsonlex.string_body(body[:-1]) is not None:
            return True
        return _body_prefix(body)
    if "boolean" in node.types and any(w.startswith(text) for w in ("true", "false")):
        return True
    if "number" in node.types:
        return _number_prefix(text, _NUMBER)
    return "integer" in node.types and _number_prefix(text, _INTEGER)


def ar_arguments(backend, cache, sc, logits, length: int):
    """Decode one call's arguments AR by the trunk under scaffold ``sc``.

    backend: the pipeline's backend (runtime/backend.py); cache: its KV cache right after the call's
    ``name_end`` literal, ``logits`` [V] the trunk's next-token logits there and ``length`` the
    tokens in the cache. Returns (arguments dict or None, cache, fed token ids, their hidden states
    [n, H], error message or None); the cache holds exactly the fed ids (the arguments' JSON text).
    """
    tokenize = lambda text: backend.tokenizer.encode(text, add_special_tokens=False).ids  # noqa: E731
    cursor = Cursor(backend, cache, logits, length)
    try:
        walker = _Walker(cursor, sc, _vocab(backend.tokenizer), tokenize)
        walker.value(_tree(sc, backend.tokenizer))
        walker.flush()
        args, err = sc.decode(walker.ids), None
    except (ContextFull, ArgumentError) as e:
        args, err = None, f"AR decoding: {e}"
    ids, states = cursor.fed()
    return args, cursor.cache, ids, states, err
