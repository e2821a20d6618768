"""The routed pipeline (DESIGN §1) on a backend: one request in, one OpenAI-style response out.

prompt -> trunk prefill -> mode (head, or tool_choice / explicit flags) ->
  chat | think: greedy decoding by the trunk;
  tool: the call header is forced, the name chosen by the tool-selection head among the listed
        tools (or decoded by the trunk under a trie of the available names), the
        arguments filled by the slot filler in the schema's scaffold, validated, prefilled into
        the trunk's cache in one pass; the another-call head decides whether a call follows.

The decoding rules (SpanRules, runtime/rules.py) that rewrite a filled call's values live in
runtime/rewrite.py, those that decide whether and how a turn goes on in runtime/further.py, and
the schema check every call passes in runtime/validate.py.

Numpy and token ids only: no torch. Requests are OpenAI chat format with tools; a bad request
raises RequestError naming the field, and never leaves the pipeline in a broken state.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np
from jsonschema.exceptions import SchemaError as JsonSchemaError

from edgeagent.formats import call_syntax, render_prompt, resolve_mode
from edgeagent.formats.hermes import LISTINGS
from edgeagent.heads.spec import MODES
from edgeagent.runtime.anchor import EndAnchors, TokenTexts, slot_anchors, slot_prefixes
from edgeagent.runtime.canonical import tool_texts
from edgeagent.runtime.clauses import away
from edgeagent.runtime.fill import fill_and_decode, token_texts, top_property, widen_generated, with_beyond
from edgeagent.runtime.frames import holds_new, next_frame
from edgeagent.runtime.further import (brings_news, ends_turn, list_next, next_call, owed_template, refill_for_news,
                                       with_values)
from edgeagent.runtime.gate import first_request
from edgeagent.runtime.names import NameTrie
from edgeagent.runtime.owed import clauses_owed, held_numbers, holds_clause, numbers_owed, pay_owed
from edgeagent.runtime.parts import holds_part, ordinal_parts, part_text, walls
from edgeagent.runtime.rewrite import rewrite_values
from edgeagent.runtime.rules import SpanRules
from edgeagent.runtime.select import (call_features, dialog_features, last_user_text, match_features, message_turns,
                                      named_properties)
from edgeagent.runtime.span_prior import Words, value_kind
from edgeagent.runtime.stated import prose_of
from edgeagent.runtime.validate import json_pointer, schema_violation, validator
from edgeagent.scaffold import SchemaError, compile_schema


class RequestError(ValueError):
    """A request the pipeline cannot serve; ``field`` names the bad part."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


@dataclass
class PipelineConfig:
    steps: int = 1              # diffusion steps T (T = 1, 2, 4 tie on the dev split; 1 is fastest)
    max_new_tokens: int = 256   # chat / think answers
    max_calls: int = 8          # parallel calls in one turn
    max_ctx: int = 1024         # context states the slot filler reads (the last ones)
    use_span: bool = True       # False: the ablation without the span path
    args_decoder: str = "diffusion"  # "ar": the trunk decodes the arguments under the schema (baseline)
    prefix_cache: bool = True   # reuse the trunk's cache for the prompt prefix shared with the last request
    # span starts steered by the trunk's guess at each value's first token (runtime/anchor.py), and a
    # value copied rather than generated where that guess matches the context at this log-probability;
    # chosen on the dev split (`edgeagent train --recipe cpu --stage dev --anchor-weights 0.5,1,2,4
    # --anchor-routes=-0.7,-2.3`): values exact 31.3% -> 37.6%, calls 11.9% -> 18.5%. 0 / None: off.
    # The route's threshold was chosen again for the gpu recipe's heads (gold function, 227 calls:
    # -2.3 gave 41.0% calls / 60.4% values, -0.7 43.2% / 60.8%; end to end on dev, calls exact
    # 23.5% -> 26.5%, docs/dev-e2e-route)
    anchor_weight: float = 2.0
    anchor_route: float | None = -0.7
    # a copied span's end steered by the trunk's chance of closing the value there (dev, `--end-weights
    # 0.5,1,2,4` on the anchors above: values 47.9 / 48.8 / 50.6 / 51.2%, calls 29.1 / 29.5 / 31.3 / 31.3%).
    # Off since the decoding rules (`rules`): end to end on dev (docs/dev-e2e-rules) weight 4 and 0 tie
    # on calls exact (17.6%), values 47.4% / 46.1%, and weight 0 saves a trunk branch per copied value
    # (call latency p50 2.66 -> 2.13 s)
    end_weight: float = 0.0
    # which tool a call uses, among two or more: "head" (the tool-selection head, where the heads
    # have one) or "trunk" (the trunk writes the name under the trie of listed names)
    select: str = "head"
    # decoding rules over the slot filler's scores (span length, sentence ends, optional values,
    # lists; runtime/rules.py SpanRules); SpanRules.off() is the ablation
    rules: SpanRules = field(default_factory=SpanRules)
    # how the prompt lists the tools: "json" (the Hermes listing), or a one-line signature per tool,
    # "signature" / "described" (formats/hermes.py tool_lines); None: the listing the heads were
    # trained on (the backend's `listing`). The heads read trunk states of the prompt, so another
    # listing than theirs costs accuracy (shipped heads on dev, signature: calls exact 29.4% -> 21.3%;
    # heads continued two CPU epochs on signature prompts: 25.7%, so json stays; README)
    listing: str | None = None
    # whether a first request that lists tools gets a call: the heads' tool gate (runtime/gate.py: the
    # mode head's vote weighed with how the request matches the tools), where the heads have one;
    # False: the mode head's argmax alone (dev, first requests: calls 95.1% / prose 86.9% right with
    # it, 97.5% / 78.8% without; README "The tool gate")
    gate: bool = True
    # the gate's threshold on p(call); None: the one saved with the gate (tool_gate.json)
    gate_threshold: float | None = None

    def __post_init__(self):
        for name, allowed in (("select", ("head", "trunk")), ("args_decoder", ("diffusion", "ar")),
                              ("listing", LISTINGS + (None,))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"PipelineConfig.{name}: expected one of {allowed}, got {getattr(self, name)!r}")
        if self.gate_threshold is not None and not 0.0 <= self.gate_threshold <= 1.0:
            raise ValueError(f"PipelineConfig.gate_threshold: expected a probability in [0, 1] or null, "
                             f"got {self.gate_threshold!r}")


def _tools(request) -> list:
    tools = request.get("tools") or []
    if not isinstance(tools, list):
        raise RequestError("tools", "expected a list")
    out = []
    for i, t in enumerate(tools):
        fn = t.get("function", t) if isinstance(t, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise RequestError(f"tools[{i}].function.name", "expected a non-empty string")
        params = fn.get("parameters") or {"type": "object", "properties": {}}
        if not isinstance(params, dict):
            raise RequestError(f"tools[{i}].function.parameters", "expected a JSON Schema object")
        try:
            validator(params)
        except JsonSchemaError as e:
            raise RequestError(f"tools[{i}].function.parameters{json_pointer(e.path)}",
                               f"not a valid JSON Schema: {e.message}") from None
        except (TypeError, ValueError) as e:
            raise RequestError(f"tools[{i}].function.parameters", f"not a JSON value: {e}") from None
        out.append({"type": "function", "function": {**fn, "parameters": params}})
    names = [t["function"]["name"] for t in out]
    if len(set(names)) != len(names):
        raise RequestError("tools", "function names must be unique")
    return out


def _tool_choice(request, names):
    choice = request.get("tool_choice", "auto")
    if choice in (None, "auto", "none", "required"):
        return choice or "auto", None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if name in names:
            return "named", name
        raise RequestError("tool_choice.function.name", f"{name!r} is not one of the tools {names}")
    raise RequestError("tool_choice", f"expected auto, none, required or a function, got {choice!r}")


class Pipeline:
    def __init__(self, backend, config: PipelineConfig | None = None):
        self.b = backend
        self.cfg = config or PipelineConfig()
        self.tok = backend.tokenizer
        self.syntax = call_syntax(backend.family)
        self._seg: dict[str, list[int]] = {}
        self._scaffolds: dict[str, object] = {}
        self._texts: TokenTexts | None = None   # built on the first anchored call
        # (prompt ids, their cache, their hidden states) of the last request: a prompt that starts
        # the same way (a multi-turn chat, a fixed tool list) prefills only what is new.
        self._prefix: tuple[list[int], object, np.ndarray] | None = None
        self.stop_ids = {i for i in (self.tok.token_to_id("<|im_end|>"), self.tok.token_to_id("<|endoftext|>"))
                         if i is not None}

    @property
    def listing(self) -> str:
        """How this pipeline's prompts list the tools: the config's listing, else the heads'."""
        return self.cfg.listing or getattr(self.b, "listing", "json")

    def seg(self, text: str) -> list[int]:
        ids = self._seg.get(text)
        if ids is None:
            ids = self._seg[text] = self.tok.encode(text, add_special_tokens=False).ids
        return ids

    def tokenize(self, text: str) -> list[int]:
        return self.tok.encode(text, add_special_tokens=False).ids

    def text_of(self, ids) -> str:
        return self.tok.decode([int(i) for i in ids], skip_special_tokens=False)

    def scaffold(self, schema: dict, where: str):
        key = json.dumps(schema, sort_keys=True)
        sc = self._scaffolds.get(key)
        if sc is None:
            try:
                sc = compile_schema(schema, self.tok)
            except SchemaError as e:
                raise RequestError(f"{where}{e.pointer}", e.reason) from None
            self._scaffolds[key] = sc
        return sc

    def respond(self, request: dict, on_token=None) -> dict:
        """One response: {"id", "mode", "content", "tool_calls", "timings"} (see the infer command).

        ``on_token(text)``, when given, receives the text of a chat/think answer as it is decoded
        (pieces that join to the unstripped answer; a piece never splits a UTF-8 character).
        """
        t0 = time.perf_counter()
        if not isinstance(request, dict):
            raise RequestError("request", "expected a JSON object")
        messages = request.get("messages")
        if not isinstance(messages, list) or not messages:
            raise RequestError("messages", "expected a non-empty list of messages")
        tools = _tools(request)
        names = [t["function"]["name"] for t in tools]
        choice, forced_name = _tool_choice(request, names)
        if choice in ("required", "named") and not tools:
            raise RequestError("tool_choice", f"{choice!r} needs at least one tool")
        try:
            prompt = render_prompt(messages, tools, self.b.family, True,
                                   resolve_mode(messages, self.b.family, None), listing=self.listing)
        except (ValueError, TypeError, KeyError) as e:
            where, sep, reason = str(e).partition(": ")    # "messages[2].content: ..." names its field
            if sep and where.startswith("messages[") and " " not in where:
                raise RequestError(where, reason) from None
            raise RequestError("messages", str(e)) from None
        ids = self.tokenize(prompt)
        if len(ids) + 16 > self.b.max_len:
            raise RequestError("messages", f"the prompt is {len(ids)} tokens; this model's context holds "
                                           f"{self.b.max_len} (shorten the conversation or the tool list)")
        logits, hidden, cache, reused = self._prefill_prompt(ids)
        t_prefill = time.perf_counter() - t0
        mode_logits = np.asarray(self.b.mode_logits(hidden[-1]), dtype=np.float64)
        turns = message_turns(messages)
        features = self._features(messages, tools, turns) if tools else None
        first = first_request(turns)
        mode = self._mode(mode_logits, choice, features, first)
        timings = {"prefill_s": t_prefill, "prompt_tokens": len(ids), "reused_tokens": reused}
        if mode != "tool":
            content, n = self._generate(logits, cache, len(ids), on_token)
            timings.update(decode_tokens=n, total_s=time.perf_counter() - t0)
            return {"id": request.get("id"), "mode": mode, "content": content, "tool_calls": [],
                    "timings": timings}
        select = features if forced_name is None and len(tools) > 1 and self.cfg.select == "head" \
            and getattr(self.b, "has_select", False) else None
        calls, errors, routes = self._calls(ids, hidden, cache, tools, forced_name, select,
                                            last_user_text(messages), prose_of(messages), first,
                                            tool_texts(messages), prose_of(messages, ("user",)))
        timings.update(call_s=time.perf_counter() - t0, total_s=time.perf_counter() - t0)
        out = {"id": request.get("id"), "mode": "tool", "content": "", "tool_calls": calls, "timings": timings,
               "routes": routes}
        if errors:
            out["errors"] = errors
        return out

    def _prefill_prompt(self, ids: list[int]):
        """(logits of the last token, hidden [n, H], cache, tokens reused from the last prompt).

        The last request's cache is truncated to the shared prefix and extended: positions before
        it are untouched by everything that request appended after its prompt. At least one token
        is always prefilled (its logits start the answer).
        """
        reused, prev = 0, self._prefix
        self._prefix = None  # a failure below must not leave a half-written cache for the next request
        if self.cfg.prefix_cache and prev is not None:
            old_ids, old_cache, old_hidden = prev
            limit = min(len(old_ids), len(ids) - 1)
            while reused < limit and old_ids[reused] == ids[reused]:
                reused += 1
        if reused:
            cache = self.b.truncate(old_cache, reused)
            logits, new_hidden, cache = self.b.prefill(np.asarray(ids[reused:], np.int64), cache)
            hidden = np.concatenate([old_hidden[:reused], new_hidden])
        else:
            logits, hidden, cache = self.b.prefill(np.asarray(ids, np.int64), self.b.new_cache())
        if self.cfg.prefix_cache:
            self._prefix = (list(ids), cache, hidden)
        return logits, hidden, cache, reused

    def _generate(self, logits, cache, length, on_token=None):
        out, sent = [], ""
        for _ in range(self.cfg.max_new_tokens):
            t = int(np.argmax(logits))
            if t in self.stop_ids or length + 1 >= self.b.max_len:
                break
            out.append(t)
            if on_token is not None:
                text = self.text_of(out)
                if not text.endswith("\ufffd"):  # wait for the rest of a multi-byte character
                    on_token(text[len(sent):])
                    sent = text
            logits, _, cache = self.b.prefill(np.asarray([t], np.int64), cache)
            length += 1
        text = self.text_of(out)
        if on_token is not None and len(text) > len(sent):
            on_token(text[len(sent):])
        return text.strip(), len(out)

    def _anchors(self, sc, cache, length, logits, ctx_ids):
        """(slot index -> the trunk's score of each context token as the value's first token, the
        end scorer for fill (None if off)): runtime/anchor.py, on branches of ``cache``."""
        if self._texts is None:
            self._texts = TokenTexts(self.tok, min(len(logits), self.tok.get_vocab_size()))
        prefixes = slot_prefixes(sc, self.tokenize)
        starts = slot_anchors(self.b, cache, length, prefixes, self._texts, ctx_ids)
        ends = EndAnchors(self.b, cache, length, prefixes, ctx_ids, self._texts, self.tokenize, self.text_of) \
            if self.cfg.end_weight else None
        return starts, ends

    def _prior(self, ctx_ids, schema: dict, listed_tools: list, name: str, calls: list):
        """SpanRules.word_prior: ``prior(slot, texts=None)`` -> [T] the span prior's bonus of each
        context token as the start of a top-level string value of ``name``, or None (no prior, or
        another slot); ``texts``: the context's token_texts where the filler has them already.
        ``calls``: the turn's calls so far, whose string values the prior reads as taken. The
        context's words are read once, where the first string slot asks."""
        span_prior = getattr(self.b, "span_prior", None)
        props = schema.get("properties") if isinstance(schema, dict) else None
        if span_prior is None or not self.cfg.rules.word_prior or not isinstance(props, dict):
            return None
        read: dict = {}                                  # "texts", "words", "taken": made once, on first use

        def prior(slot, texts=None):
            key = slot.pointer[1:]
            if slot.kind != "string" or "/" in key or not isinstance(props.get(key), dict) \
                    or value_kind(key) in ("date", "time"):   # stated_values, iso_dates and clock_24h write those
                return None
            if not read:
                read["texts"] = texts if texts is not None else token_texts(self.text_of, ctx_ids)
                read["words"] = Words("".join(read["texts"]))
                held = [json.loads(c["function"]["arguments"]) for c in calls]
                read["taken"] = tuple(v for args in held if isinstance(args, dict) for v in args.values()
                                      if isinstance(v, str))
            return span_prior.token_bonus(read["texts"], read["words"], key, props, listed_tools, name,
                                          read["taken"])

        return prior

    def _mode(self, mode_logits: np.ndarray, choice: str, features, first: bool) -> str:
        """chat | think | tool: tool_choice first, then the tool gate where the heads have one, tools
        are listed and the conversation is its ``first`` request, else the mode head's argmax
        (``mode_logits`` [3] is changed in place)."""
        if choice in ("required", "named"):
            return "tool"
        if choice == "none" or features is None:
            mode_logits[MODES.index("tool")] = -np.inf
        gate = getattr(self.b, "tool_gate", None) if self.cfg.gate else None
        if features is not None and choice == "auto" and gate is not None and first:
            if gate.calls(mode_logits, features[0], self.cfg.gate_threshold):
                return "tool"
            mode_logits[MODES.index("tool")] = -np.inf
        return MODES[int(np.argmax(mode_logits))]

    def _features(self, messages, tools, turns):
        """(match features [K, N_MATCH], dialog features [K, N_DIALOG]) of the listed tools against
        the request and the conversation's ``turns`` (runtime/select.py message_turns): what the
        tool gate and the selection head read."""
        listed = _listed(tools)
        return match_features(last_user_text(messages), listed), dialog_features(turns, listed)

    def _calls(self, ids, hidden, cache, tools, forced_name, match=None, request_text: str = "",
               prose: list[str] | None = None, first: bool = False, tool_said: list[str] | None = None,
               said: list[str] | None = None):
        by_name = {t["function"]["name"]: (i, t["function"]["parameters"]) for i, t in enumerate(tools)}
        listed_tools = _listed(tools)
        seq = list(ids)
        states = [hidden]
        calls, errors, routes = [], [], []
        trie = NameTrie(by_name, self.tokenize) if forced_name is None and match is None else None
        end_token = self.seg(self.syntax.name_end)[0]
        names = list(by_name)
        called: set[int] = set()

        def feed(tokens):
            nonlocal cache
            if len(seq) + len(tokens) > self.b.max_len:
                raise RequestError("messages", "the conversation and its calls outgrow the model's context")
            lg, h, cache = self.b.prefill(np.asarray(tokens, np.int64), cache)
            seq.extend(tokens)
            states.append(h)
            return lg

        pin = forced_name                      # the function the next call must use
        listed: dict = {}                      # values the next call takes from the request's lists
        moved = None                           # SpanRules.lists_first: the next call's arguments, made already
        taken: dict[str, dict[str, set[int]]] = {}  # function -> pointer -> where its values were copied from
        claimed: dict[str, set[int]] = {}      # top-level property -> positions inside values copied for it
        held: dict[str, set[int]] = {}         # function -> positions inside the values its calls copied
        due: set[float] | None = None          # SpanRules.numbers_owed: the next call must hold one of these
        owed: list[str] = []                   # SpanRules.clauses_owed: the next call must hold a value of one
        part_due: str | None = None            # SpanRules.ordinal_parts: the next call must hold a value of it
        frame_due = None                       # SpanRules.keyed_frames: the frame the next call is for,
        frame_fn, frame_owed = None, False     # if of this function; owed: it must hold a new value of it
        frame_at = 0                           # where the latest frame starts in the request
        headers: list[tuple[int, int]] = []  # [start, end) sequence positions of each call's header and name
        # SpanRules.ordinal_parts: "The first triangle ... The second triangle ...", a call for each part
        parts = ordinal_parts(request_text) if self.cfg.rules.ordinal_parts and first else []
        for k in range(self.cfg.max_calls):
            at_header = len(seq)
            header = self.seg((self.syntax.separator if k else "") + self.syntax.header)
            if pin is not None:
                name, pending = pin, header + self.seg(json.dumps(pin, ensure_ascii=False)[1:-1])
            elif match is not None:  # the selection head; the header and the name go in together
                scores = np.asarray(self.b.select_logits(call_features(match[0], called, match[1])), np.float64)
                # a near-tie (tools with the same features) goes to the first listed one on every backend
                name = names[int(np.flatnonzero(scores >= scores.max() - 1e-4)[0])]
                pending = header + self.seg(json.dumps(name, ensure_ascii=False)[1:-1])
            else:  # the header goes in with the name's first stretch (all of it, for one tool)
                name, pending = trie.decode(feed, end_token, before=header)
            logits = feed(list(pending) + self.seg(self.syntax.name_end))
            headers.append((at_header, len(seq)))
            index, schema = by_name[name]
            same = [json.loads(c["function"]["arguments"]) for c in calls if c["function"]["name"] == name]
            called.add(index)
            sc = self.scaffold(schema, f"tools[{index}].function.parameters")
            # A scaffold longer than the slot filler reads (a schema with many or long slots) is
            # written by the trunk under the same schema constraint: a call rather than an error.
            too_long = len(sc.masked()) > getattr(self.b, "max_scaffold_len", len(sc.masked()))
            if moved is not None:              # the last call with its list's next element: nothing to fill
                args, err, route, written, spans, moved = moved, None, {"": "list"}, False, {}, None
            elif self.cfg.args_decoder == "ar" or too_long:
                from edgeagent.runtime.ar_decode import ar_arguments

                # the trunk writes the arguments itself (they are in its cache already)
                args, cache, fed, fed_states, err = ar_arguments(self.b, cache, sc, logits, len(seq))
                seq.extend(fed)
                states.append(fed_states)
                route, written = {"": "ar" if self.cfg.args_decoder == "ar" else "ar-long-scaffold"}, True
                spans = {}
            else:
                ctx = np.concatenate(states)[-self.cfg.max_ctx:]
                ctx_ids = np.asarray(seq[-self.cfg.max_ctx:], np.int64)
                offset = len(seq) - len(ctx_ids)   # sequence position of the context's first token
                before = {ptr: {p - offset for p in at if p >= offset} for ptr, at in taken.get(name, {}).items()}
                elsewhere = {key: {p - offset for p in at if p >= offset} for key, at in claimed.items()}

                def step(s_ids, kinds, spos, rows=None, _ctx=ctx):
                    return self.b.fill_step(s_ids, kinds, spos, _ctx, rows)

                anchors = end_anchor = None
                if (self.cfg.anchor_weight or self.cfg.anchor_route is not None or self.cfg.end_weight) \
                        and self.cfg.use_span:
                    anchors, end_anchor = self._anchors(sc, cache, len(seq), logits, ctx_ids)
                prior = self._prior(ctx_ids, schema, listed_tools, name, calls)
                named = named_properties([s.pointer for s in sc.slots], request_text)
                where_not = (request_text, away(request_text, listed_tools, index)) \
                    if self.cfg.rules.other_clauses else None
                walled = walls(request_text, parts, [c["function"]["name"] for c in calls], name, schema,
                               listed_tools) if parts else None
                walled = list(frame_due.walls) if walled is None and frame_due is not None and name == frame_fn \
                    else walled

                def fill_call(fresh=None):
                    got = fill_and_decode(sc, step, ctx_ids, self.tokenize, self.text_of, steps=self.cfg.steps,
                                          use_span=self.cfg.use_span, anchors=anchors,
                                          anchor_weight=self.cfg.anchor_weight, anchor_route=self.cfg.anchor_route,
                                          end_anchor=end_anchor, end_weight=self.cfg.end_weight,
                                          rules=self.cfg.rules, named=named, taken=before, claimed=elsewhere,
                                          away=where_not, headers=[(a - offset, b - offset) for a, b in headers],
                                          function=name, prior=prior, fresh=fresh,
                                          turn=range(max(len(ids) - offset, 0), len(ctx_ids)),
                                          walls=(request_text, walled) if walled else None)
                    return got[0], got[2], got[3], {ptr: range(offset + first, offset + last + 1)
                                                    for ptr, (first, last) in got[2].spans.items()}

                args, info, err, spans = fill_call()
                if args is not None and self.cfg.rules.news_refill and same and due is None and not listed:
                    redone = refill_for_news(fill_call, args, info, spans, same, held.get(name, set()) | set(
                        range(len(ids), len(seq))), numbers_owed(request_text, [
                            json.loads(c["function"]["arguments"]) for c in calls]))
                    if redone is not None:
                        args, info, err, spans = redone
                route, written = info.routes, False
                if args is not None and self.cfg.rules.generated_names:
                    widened = widen_generated(args, route, request_text, joined=self.cfg.rules.of_names)  # "San Diego"
                    args = widened if schema_violation(widened, schema) is None else args
                if args is not None and info.beyond:   # a list longer than the array's item places
                    longer = with_beyond(args, info.beyond)
                    args = longer if schema_violation(longer, schema) is None else args
            if args is not None:               # the value rules (runtime/rewrite.py)
                args = rewrite_values(args, schema, self.cfg.rules, request_text, prose, said, tool_said, written,
                                      bool(listed))
            if args is not None and (broken := schema_violation(args, schema)):
                args, err = None, f"arguments {broken}"
            if args is None:
                errors.append({"call": k, "function": name, "error": err})
                break
            if due is not None and self.cfg.rules.owed_repeats and not written and calls \
                    and calls[-1]["function"]["name"] == name and held_numbers(args).isdisjoint(due):
                paid = pay_owed(args, same, due, request_text)   # the repeated 2018 becomes the owed 2019
                if paid != args and schema_violation(paid, schema) is None:
                    spans = {ptr: at for ptr, at in spans.items() if paid.get(top_property(ptr)) == args.get(
                        top_property(ptr))}               # a paid value was not copied where its span says
                    args = paid
            # a call the list kept going takes its elements, where they fit; any other must bring news
            stale = bool(same) and not listed and not written and self.cfg.rules.fresh_calls \
                and not brings_news(args, spans, same, held.get(name, set()) | set(range(len(ids), len(seq))))
            # SpanRules.echo_repeats: a further call that copies words an earlier call of the turn copied
            # for a property of another name ("between New York and Washington D.C." twice, the second
            # call's origin "Washington D" inside the first's destination) is no call of its own
            echoed = bool(same) and not listed and not written and self.cfg.rules.echo_repeats and any(
                key != top_property(ptr) and not at.isdisjoint(where)
                for ptr, where in spans.items() for key, at in claimed.items())
            if listed:
                args = with_values(args, listed, sc, schema)
                listed = {}
            stale = stale or args in same
            text = json.dumps(args, ensure_ascii=False)
            if stale and self.cfg.rules.list_items and not written:
                args = next_call(args, same, request_text, sc, schema, self.cfg.rules.caseless_lists,
                                  self.cfg.rules.alike_lists)
                text = json.dumps(args, ensure_ascii=False) if args is not None else text
                route = {**route, "": "next-in-list"} if args is not None else route
            if self.cfg.rules.owed_template and first and not written and same \
                    and calls[-1]["function"]["name"] == name \
                    and ends_turn(args, text, calls, name, stale or echoed, route, due) \
                    and (paid := owed_template(same, calls, request_text, schema)) is not None:
                # "5 m/s^2 ... 100 meters. The second object ... 10 m/s^2 ... 200 meters": the latest
                # call with the owed numbers in its numbers' places, rather than the turn's end
                args, stale, echoed, spans = paid, False, False, {}
                text, route = json.dumps(args, ensure_ascii=False), {**route, "": "owed-template"}
            if ends_turn(args, text, calls, name, stale or echoed, route, due) \
                    or (owed and not any(holds_clause(args, c) for c in owed)) \
                    or (part_due is not None and not holds_part(args, part_due)) \
                    or (frame_owed and not holds_new(args, frame_due)):
                break
            frame_at = frame_due.start if frame_due is not None and name == frame_fn else frame_at
            due, owed, part_due, frame_due, frame_owed = None, [], None, None, False
            if not written:
                for ptr, at in spans.items():
                    taken.setdefault(name, {}).setdefault(ptr, set()).add(at.start)
                    claimed.setdefault(top_property(ptr), set()).update(at)
                    held.setdefault(name, set()).update(at)
            calls.append({"id": f"call_{k}", "type": "function", "function": {"name": name, "arguments": text}})
            routes.append(route)
            # the filled arguments go into the trunk's cache in one pass
            feed(self.tokenize(("" if written else text) + self.syntax.footer))
            another = int(np.argmax(self.b.another_logits(states[-1][-1]))) == 1
            rules = self.cfg.rules
            if rules.list_goes_on and not written and (rules.lists_first or not another):
                listed = list_next(args, same, request_text, rules.caseless_lists, rules.alike_lists)
            if listed and rules.lists_first:
                moved, listed = with_values(args, listed, sc, schema), {}
                moved = None if moved == args else moved   # no element fits the schema: no list call
            if moved is not None or listed:
                pin = name             # "Taylor Swift and Maroon 5": Maroon 5 still wants its call
            elif another:
                pin = forced_name
                if rules.keyed_frames and first and not written:   # walls the next call if it is this function's
                    frame_due, frame_fn = next_frame(request_text, args, [json.loads(c["function"]["arguments"])
                                                                          for c in calls], frame_at), name
            elif parts and not written and walls(request_text, parts, [c["function"]["name"] for c in calls],
                                                 name, schema, listed_tools) is not None:
                pin, part_due = name, part_text(request_text, parts[len(calls)])   # "The second triangle ..."
            elif rules.keyed_frames and first and not written and (frame_due := next_frame(
                    request_text, args, [json.loads(c["function"]["arguments"]) for c in calls], frame_at)):
                pin, frame_fn, frame_owed = name, name, True   # "case number XY1234 ..., and case number GH5678"
            elif rules.numbers_owed and first and not written and (unpaid := numbers_owed(
                    request_text, [json.loads(c["function"]["arguments"]) for c in calls])):
                pin, due = forced_name, unpaid   # "also for a person who is 5.6 feet": one more call
            elif rules.clauses_owed and first and not written and (owed := clauses_owed(
                    request_text, [json.loads(c["function"]["arguments"]) for c in calls])):
                pin = forced_name               # "Also, find one for a Vegan Salad.": one more call
            else:
                break
        return calls, errors, routes


def _listed(tools: list) -> list[tuple[str, str, dict]]:
    """(name, description, parameters) of each listed tool: what runtime/select.py and
    runtime/clauses.py read."""
    return [(t["function"]["name"], t["function"].get("description") or "", t["function"].get("parameters"))
            for t in tools]
