"""Truthful augmentations of records. Each is a pure function of its inputs and a seed: it
returns a new record (or None when the record does not qualify) and never mutates its input.

- :func:`shuffle_tools`: permute the tool list.
- :func:`add_distractors`: add tools of other records that cannot answer the request.
- :func:`make_negative`: MediaTek-style negative (arXiv 2412.01130): the same query with every
  called function removed from the tools; the target is a templated refusal (:data:`REFUSALS`).
- :func:`merge_parallel`: two independent single-call requests joined into one parallel request.
- :func:`resample_numbers`: a counterfactual: the numbers the user wrote, changed in the request
  and in the call alike.
- :func:`merge_repeat`: a request and its counterfactual joined: one function called twice.
- :func:`split_request`: a multi-call request cut into its single requests, one sentence each.
- :func:`list_values`: one value the user wrote becomes a list of two or three ("in San Jose and
  Sunnyvale"), answered by one call per element: BFCL's parallel shape, which no record has.

"Cannot answer" is decided by a heuristic, :func:`related`: two tools are related when they
share a domain (the SGD service group, else the dataset) or a content word of their names
(``get_weather`` ~ ``WeatherForecast``; verbs such as get/find/search do not count).
Derived records keep their parents' split keys (``meta["split_keys"]``), so a negative or a
merge of train records is train, and one touching dev is dev.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import re
from dataclasses import dataclass

from .records import dataset_of, tool_names
from .split import split_keys

# Templated answers of negatives: they refuse and mention no tool name.
REFUSALS = (
    "I'm sorry, but I can't help with that: none of the functions available to me can do it.",
    "Unfortunately, that request is outside what my available tools support, so I can't complete it.",
    "I don't have a way to do that with the tools I currently have. Is there something else I can help with?",
    "Sorry, I'm not able to carry out that request with the functions I have access to.",
    "That isn't something I can do with my current tools. Let me know if I can help with anything else.",
)
REFUSALS_ZH = (
    "抱歉，我目前可用的功能无法完成这个请求。",
    "很抱歉，这超出了我现有工具的能力范围，我无法完成这个请求。还有其他可以帮您的吗？",
)

# SGD service prefix -> domain group (as in shared/data/convert.py).
SGD_GROUPS = {
    "Restaurants": "food", "Flights": "travel", "Buses": "travel", "Trains": "travel",
    "RentalCars": "travel", "RideSharing": "travel", "Travel": "travel", "Hotels": "travel",
    "Movies": "media", "Media": "media", "Events": "media", "Music": "media", "Banks": "money",
    "Payment": "money", "Homes": "home", "Services": "services", "Weather": "weather",
    "Calendar": "calendar", "Alarm": "calendar", "Messaging": "messaging",
}
_SGD_SERVICE = re.compile(r"\[service: ([A-Za-z]+)_\d+")

# Words of function names that say what a tool does, not what it is about.
_GENERIC = frozenset(
    "get set find search create make calculate calc check retrieve fetch list add update delete remove "
    "generate convert lookup look up query compute analyze analyse track send request reserve "
    "buy schedule play show view read write info information details detail data by for of the a an "
    "to and in on from with new my api tool tools service all current".split()
)
_CJK = re.compile(r"[\u3400-\u9fff]")
# "Hi, " / "Hello there! " opening the second half of a merged request
_GREETING = re.compile(r"^(?:hi|hello|hey|greetings|good (?:morning|afternoon|evening))(?: there)?[,!.]?\s+", re.I)


@functools.lru_cache(maxsize=65536)
def name_words(name: str) -> frozenset[str]:
    """Content words of a function name: camelCase/snake_case split, lower-cased, plural 's' cut."""
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)
    words = set()
    for p in parts:
        w = p.lower()
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        if w not in _GENERIC and not w.isdigit() and len(w) > 1:
            words.add(w)
    return frozenset(words)


def tool_domain(tool: dict, dataset: str) -> str:
    """SGD tools: their service group (``travel``, ``food``...); others: their dataset."""
    m = _SGD_SERVICE.search(tool["function"].get("description", ""))
    if m:
        return "sgd:" + SGD_GROUPS.get(m.group(1), m.group(1))
    return dataset


def _norm_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def related(tool_a: dict, domain_a: str, tool_b: dict, domain_b: str) -> bool:
    """Could one of the two tools stand in for the other? (same domain, same normalized name,
    or a shared content word of the names)."""
    na, nb = tool_a["function"]["name"], tool_b["function"]["name"]
    return (domain_a == domain_b or _norm_name(na) == _norm_name(nb)
            or bool(name_words(na) & name_words(nb)))


@dataclass(frozen=True)
class PoolTool:
    tool: dict
    domain: str
    record_id: str


def tool_pool(records) -> list[PoolTool]:
    """Every distinct tool (by name and domain) of ``records``, in a stable order."""
    seen, out = set(), []
    for rec in records:
        ds = dataset_of(rec)
        for tool in rec.get("tools", []):
            dom = tool_domain(tool, ds)
            key = (tool["function"]["name"], dom)
            if key not in seen:
                seen.add(key)
                out.append(PoolTool(tool, dom, rec["id"]))
    return out


def _derived(rec: dict, new_id: str, augment: str, sources: list[dict], **meta) -> dict:
    out = {"id": new_id, "source": rec["source"], "messages": [], "tools": [],
           "meta": {**copy.deepcopy(rec.get("meta") or {}), **meta}}
    out["meta"]["dataset"] = dataset_of(rec)
    out["meta"]["split_keys"] = sorted({k for p in sources for k in split_keys(p)})
    out["meta"]["augment"] = list((rec.get("meta") or {}).get("augment", [])) + [augment]
    return out


def _variant(rec: dict, tools: list[dict], augment: str) -> dict:
    """``rec`` with other tools. Messages and tool dicts are shared with ``rec``, not copied:
    records are read-only values here (an SGD dialogue is large)."""
    meta = dict(rec.get("meta") or {})
    meta["augment"] = list(meta.get("augment", [])) + [augment]
    meta.setdefault("split_keys", split_keys(rec))
    return {**rec, "tools": tools, "meta": meta}


def shuffle_tools(rec: dict, seed: int) -> dict:
    """The same record with its tools in a random order."""
    tools = list(rec["tools"])
    random.Random(seed).shuffle(tools)
    return _variant(rec, tools, "shuffle")


def add_distractors(rec: dict, pool: list[PoolTool], seed: int, k: int = 2, tries: int = 50) -> dict | None:
    """The same record with up to ``k`` extra tools from ``pool`` at random positions.

    A distractor is never related (:func:`related`) to any tool of ``rec``, nor to another
    distractor, and never comes from ``rec`` itself. None if no candidate qualifies.
    """
    rng = random.Random(seed)
    ds = dataset_of(rec)
    have = [(t, tool_domain(t, ds)) for t in rec["tools"]]
    picked: list[PoolTool] = []
    for _ in range(tries):
        if len(picked) == k or not pool:
            break
        cand = pool[rng.randrange(len(pool))]
        if cand.record_id == rec["id"]:
            continue
        if any(related(cand.tool, cand.domain, t, d) for t, d in have):
            continue
        have.append((cand.tool, cand.domain))
        picked.append(cand)
    if not picked:
        return None
    tools = list(rec["tools"])
    for cand in picked:
        tools.insert(rng.randrange(len(tools) + 1), cand.tool)
    return _variant(rec, tools, "distractors")


def make_negative(rec: dict, seed: int, pool: list[PoolTool] | None = None) -> dict | None:
    """A negative from ``rec`` whose first assistant turn is a call: the same opening request, the tools minus
    every function called there and every tool related to one (so nothing left can answer),
    target = a templated refusal. If no tool is left, up to 3 unrelated tools from ``pool`` are
    offered instead. None when ``rec`` does not open with user turn(s) answered by a call, or
    nothing can be offered.
    """
    msgs = rec["messages"]
    first = next((i for i, m in enumerate(msgs) if m["role"] == "assistant" and m.get("tool_calls")), None)
    # Only a call that answers the opening request directly: if the assistant had already
    # asked for the missing function's arguments, a refusal would contradict the context.
    if first is None or any(m["role"] == "assistant" for m in msgs[:first]):
        return None
    rng = random.Random(seed)
    ds = dataset_of(rec)
    called = {c["function"]["name"] for c in msgs[first]["tool_calls"]}
    called_tools = [(t, tool_domain(t, ds)) for t in rec["tools"] if t["function"]["name"] in called]
    # "related" without the domain clause here: SGD keeps other intents of the same service
    # group only when their names share nothing with the called ones (FindBus vs GetRide).
    keep = [
        t for t in rec["tools"]
        if t["function"]["name"] not in called
        and not any(name_words(t["function"]["name"]) & name_words(c["function"]["name"]) for c, _ in called_tools)
    ]
    removed = [n for n in tool_names(rec) if n not in {t["function"]["name"] for t in keep}]
    out = _derived(rec, f"{rec['id']}#neg", "negative", [rec], target_only=True,
                   parent=rec["id"], removed_tools=removed)
    if not keep and pool:
        tmp = add_distractors({**rec, "tools": [t for t, _ in called_tools]}, pool, seed, k=3)
        if tmp is not None:
            keep = [t for t in tmp["tools"] if t["function"]["name"] not in called]
    if not keep:
        return None
    context = list(msgs[:first])  # shared, read-only (see _variant)
    user_text = " ".join(m["content"] for m in context if m["role"] == "user")
    answer = rng.choice(REFUSALS_ZH if _CJK.search(user_text) else REFUSALS)
    out["messages"] = context + [{"role": "assistant", "content": answer}]
    out["tools"] = list(keep)
    return out


def single_call(rec: dict) -> bool:
    """One user turn, then an assistant turn with exactly one call (tool results may follow)."""
    msgs = [m for m in rec["messages"] if m["role"] != "system"]
    return (len(msgs) >= 2 and msgs[0]["role"] == "user" and msgs[1]["role"] == "assistant"
            and len(msgs[1].get("tool_calls") or []) == 1
            and sum(m["role"] == "user" for m in msgs) == 1)


def merge_reason(a: dict, b: dict) -> str | None:
    """Why ``a`` and ``b`` cannot be merged, or None if they can."""
    if a["id"] == b["id"]:
        return "same record"
    if not (single_call(a) and single_call(b)):
        return "both must be single-turn with a single call"
    fa, fb = (_first_call(r)["function"]["name"] for r in (a, b))
    if fa == fb:
        return f"both call {fa}"
    ta = {t["function"]["name"]: t for t in a["tools"]}
    for t in b["tools"]:
        other = ta.get(t["function"]["name"])
        if other is not None and other != t:
            return f"tool {t['function']['name']!r} has different definitions"
    if bool(_CJK.search(_user(a))) != bool(_CJK.search(_user(b))):
        return "different languages"
    return None


def _first_call(rec: dict) -> dict:
    return next(m for m in rec["messages"] if m.get("tool_calls"))["tool_calls"][0]


def _user(rec: dict) -> str:
    return next(m for m in rec["messages"] if m["role"] == "user")["content"]


def _join(first: str, second: str) -> str:
    """'A. Also, b.' -- lower-case b's first letter unless it looks like a name or 'I'."""
    if _CJK.search(first + second):
        return first.strip() + " 另外，" + second.strip()
    first, second = first.strip(), _GREETING.sub("", second.strip()) or second.strip()
    if first and first[-1] not in ".!?":
        first += "."
    word = second.split(" ", 1)[0]
    looks_proper = (word == "I" or word.startswith(("I'", "I’")) or any(c.isupper() for c in word[1:])
                    or f" {word}" in second)  # capitalized again mid-sentence: a name
    if word[:1].isupper() and not looks_proper:
        second = second[0].lower() + second[1:]
    return f"{first} Also, {second}"


def _joined_turns(a: dict, first: str, second: str, calls: list[dict]) -> list[dict]:
    """``a``'s system turns, the user turn "first. Also, second", and one assistant turn with ``calls``."""
    system = [m for m in a["messages"] if m["role"] == "system"]
    return copy.deepcopy(system) + [
        {"role": "user", "content": _join(first, second)},
        {"role": "assistant", "content": "", "tool_calls": copy.deepcopy(calls)},
    ]


def merge_parallel(a: dict, b: dict) -> dict:
    """One parallel request from two independent single-call records: user turn "A. Also, B",
    tools = union (a's, then b's new ones), target = a's call then b's call. Tool results and
    final answers are dropped. Raises ValueError (see :func:`merge_reason`) if they do not qualify.
    """
    reason = merge_reason(a, b)
    if reason:
        raise ValueError(f"cannot merge {a['id']} and {b['id']}: {reason}")
    out = _derived(a, f"merge:{a['id']}+{b['id']}", "merge", [a, b], target_only=True,
                   parents=[a["id"], b["id"]])
    out["messages"] = _joined_turns(a, _user(a), _user(b), [_first_call(a), _first_call(b)])
    names = set(tool_names(a))
    out["tools"] = copy.deepcopy(a["tools"] + [t for t in b["tools"] if t["function"]["name"] not in names])
    if dataset_of(a) != dataset_of(b):
        out["meta"]["datasets"] = sorted({dataset_of(a), dataset_of(b)})
    return out


# --- counterfactual values -------------------------------------------------------------------

def _opening_call_turn(rec: dict) -> int | None:
    """Index of the first assistant turn when it calls tools and only user/system turns precede it."""
    msgs = rec["messages"]
    first = next((i for i, m in enumerate(msgs) if m["role"] == "assistant"), None)
    if first is None or not msgs[first].get("tool_calls"):
        return None
    if any(m["role"] not in ("user", "system") for m in msgs[:first]):
        return None
    return first


def _number_re(text: str) -> re.Pattern:
    """A number written on its own: not part of a longer number, word or decimal."""
    return re.compile(r"(?<![\w.,])" + re.escape(text) + r"(?![\w]|[.,]\d)")


def _leaves(value):
    """Every scalar inside a JSON value."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _swap_numbers(value, new: dict):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return new.get((type(value), value), value)
    if isinstance(value, dict):
        return {k: _swap_numbers(v, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap_numbers(v, new) for v in value]
    return value


def _resample(v, rng: random.Random):
    """Another number written the same way: a year stays a year, digits and decimals are kept."""
    if isinstance(v, int):
        a = abs(v)
        if 1900 <= v <= 2100:
            return rng.randint(1950, 2035)
        if a < 10:
            n = rng.randint(2, 9)
        else:
            d = len(str(a))
            n = rng.randint(10 ** (d - 1), 10 ** d - 1)
            if a % 10 == 0:                       # round numbers stay round ("500 dollars")
                n = max(10 ** (d - 1), n - n % (10 ** (len(str(a)) - len(str(a).rstrip("0")))))
        return -n if v < 0 else n
    text = repr(v)
    if "e" in text or "inf" in text or "nan" in text:
        return None
    whole, _, frac = text.partition(".")
    digits = len(whole.lstrip("-"))
    lo = 0 if digits == 1 else 10 ** (digits - 1)
    n = rng.randint(lo, 10 ** digits - 1) + round(rng.random(), len(frac))
    n = round(n, len(frac))
    return -n if v < 0 else n


def resample_numbers(rec: dict, seed: int, validator=None) -> dict | None:
    """A counterfactual of ``rec``'s opening call: every number argument that the user wrote
    (exactly as JSON writes it, on its own) is replaced by another number of the same form, in
    the user's words and in the call alike. The call stays true to the request, and a head can
    no longer guess the value from the function alone: it must read it.

    Returns a single-turn record (the user turn(s) and the call turn), or None when no number
    qualifies. A number that also appears inside a string argument, in the system prompt, or
    whose replacement breaks the tool's schema (enum, bounds) is left alone.
    """
    turn = _opening_call_turn(rec)
    if turn is None:
        return None
    rng = random.Random(seed)
    msgs = rec["messages"]
    users = [m["content"] for m in msgs[:turn] if m["role"] == "user"]
    system = " ".join(m["content"] for m in msgs[:turn] if m["role"] == "system")
    calls = msgs[turn]["tool_calls"]
    leaves = [v for c in calls for v in _leaves(c["function"]["arguments"])]
    found = [v for v in leaves if _is_number(v)]
    strings = [v for v in leaves if isinstance(v, str)]
    schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in rec["tools"]}
    new: dict = {}
    taken = {json.dumps(v) for v in found}
    for v in dict.fromkeys((type(v), v) for v in found):
        text = json.dumps(v[1])
        pat = _number_re(text)
        if not any(pat.search(u) for u in users) or pat.search(system) or any(text in s for s in strings):
            continue
        for _ in range(20):
            n = _resample(v[1], rng)
            if n is None:
                break
            nt = json.dumps(n)
            if nt not in taken and not any(_number_re(nt).search(u) for u in users):
                trial = {**new, v: n}
                if all(_valid_args(schemas.get(c["function"]["name"]), _swap_numbers(c["function"]["arguments"], trial),
                                   validator) for c in calls):
                    new[v] = n
                    taken.add(nt)
                break
    if not new:
        return None
    out = _derived(rec, f"{rec['id']}#cf{seed % 1000}", "counterfactual", [rec], target_only=True,
                   parent=rec["id"], swapped={json.dumps(k[1]): v for k, v in new.items()})
    ctx = []
    for m in msgs[:turn]:
        if m["role"] == "user":
            content = m["content"]
            for (_, old), n in new.items():
                content = _number_re(json.dumps(old)).sub(json.dumps(n), content)
            m = {**m, "content": content}
        ctx.append(m)
    out["messages"] = ctx + [{"role": "assistant", "content": "", "tool_calls": [
        {**c, "function": {**c["function"], "arguments": _swap_numbers(c["function"]["arguments"], new)}}
        for c in calls]}]
    out["tools"] = rec["tools"]
    return out


def _valid_args(schema, args, validator) -> bool:
    if schema is None:
        return False
    if validator is None:
        validator = _default_validator()
    try:
        validator.schema_validator(schema).validate(args)
    except Exception:  # jsonschema.ValidationError, or a schema the validator refuses
        return False
    return True


@functools.lru_cache(maxsize=1)
def _default_validator():
    from .records import Validator

    return Validator()


def opening_request(rec: dict) -> tuple[str, dict] | None:
    """(user text, call) when ``rec`` opens with one user turn answered by exactly one call."""
    turn = _opening_call_turn(rec)
    if turn is None:
        return None
    users = [m for m in rec["messages"][:turn] if m["role"] == "user"]
    calls = rec["messages"][turn]["tool_calls"]
    if len(users) != 1 or len(calls) != 1:
        return None
    return users[0]["content"], calls[0]


def merge_repeat(a: dict, b: dict) -> dict:
    """One parallel request that calls the same function twice. ``a`` and ``b`` open with one
    request to the same function, with the same tools (a record and its counterfactual, or two
    counterfactuals). User turn "A. Also, B", target = both calls; later turns are dropped."""
    oa, ob = opening_request(a), opening_request(b)
    if oa is None or ob is None:
        raise ValueError(f"cannot merge {a['id']} and {b['id']}: both must open with one request answered by one call")
    if oa[1]["function"]["name"] != ob[1]["function"]["name"] or a["tools"] != b["tools"]:
        raise ValueError(f"cannot merge {a['id']} and {b['id']}: they must call one function with the same tools")
    if oa[0].strip() == ob[0].strip():
        raise ValueError(f"cannot merge {a['id']} and {b['id']}: the two requests are the same")
    out = _derived(a, f"repeat:{a['id']}+{b['id']}", "repeat", [a, b], target_only=True,
                   parents=[a["id"], b["id"]])
    out["messages"] = _joined_turns(a, oa[0], ob[0], [oa[1], ob[1]])
    out["tools"] = copy.deepcopy(a["tools"])
    return out


# --- single requests split from a multi-call request -------------------------------------------

# a sentence ends at . ! or ? before white space and a capital letter, a digit or a quote
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'“‘])")
# words that tie a sentence to the one before it ("Finally, ", "After that, ", "Then ")
_LEAD = re.compile(r"^(?:(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|then|next|finally|lastly|also|additionally"
                   r"|furthermore|moreover|afterwards?|after that|subsequently|in addition|besides|and)\b,?\s+)+",
                   re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """``text`` cut at its sentence ends (a period, "!" or "?" before a capitalized word)."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def _words(text: str) -> re.Pattern:
    """``text`` as its own words, in any case: not inside a longer word or number."""
    return re.compile(r"(?<!\w)" + re.escape(text) + r"(?!\w)", re.IGNORECASE)


def _states(sentence: str, value) -> bool:
    """Whether ``sentence`` writes ``value``: a string as its own words (any case), a number on its own."""
    if _is_number(value):
        forms = {json.dumps(value)} | ({str(int(value))} if isinstance(value, float) and value.is_integer() else set())
        return any(_number_re(f).search(sentence) for f in forms)
    if isinstance(value, str) and value.strip():
        return _words(value.strip()).search(sentence) is not None
    return False  # a bool, a null or an empty string is never written as such


def _standalone(sentence: str) -> str:
    """The sentence without the words that tie it to the one before, its first letter capitalized."""
    rest = _LEAD.sub("", sentence).strip()
    return rest[:1].upper() + rest[1:] if rest else sentence


def _says_what(sentence: str, function: str) -> bool:
    """Whether ``sentence`` names what ``function`` does: a content word of its name (name_words), as a
    word's start ("cue" for understandNonverbalCues, "hematology" for getHematologyResults)."""
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", sentence)}
    return any(any(t.startswith(w) or w.startswith(t) and len(t) > 3 for t in words) for w in name_words(function))


def split_request(rec: dict) -> list[dict]:
    """Single requests from a request answered by several calls: for each call whose every value the
    request writes in one sentence, and in no other, where that sentence says what the call does (a
    word of the function's name: _says_what; "The patient's ID is ASD123." does not), that sentence
    alone (its opening "Finally, " / "Then, " dropped), answered by that call alone. A sentence that
    also writes every value of another of the calls gives nothing (it asks for both), nor does a
    call with no values or a value the request does not write (a bool, or one the data added). The
    tools stay the record's, so the other calls' functions are listed and not called. ``[]`` when
    ``rec`` does not open with one user turn answered by two or more calls."""
    turn = _opening_call_turn(rec)
    if turn is None:
        return []
    users = [m for m in rec["messages"][:turn] if m["role"] == "user"]
    calls = rec["messages"][turn]["tool_calls"]
    if len(users) != 1 or len(calls) < 2:
        return []
    parts = sentences(users[0]["content"])
    values = [list(_leaves(c["function"]["arguments"])) for c in calls]
    holds = [[all(_states(s, v) for v in vals) if vals else False for s in parts] for vals in values]
    system = [m for m in rec["messages"][:turn] if m["role"] == "system"]
    out = []
    for k, call in enumerate(calls):
        where = [i for i, ok in enumerate(holds[k]) if ok]
        if len(where) != 1 or any(holds[j][where[0]] for j in range(len(calls)) if j != k) \
                or not _says_what(parts[where[0]], call["function"]["name"]):
            continue
        split = _derived(rec, f"{rec['id']}#split{k}", "split", [rec], target_only=True, parent=rec["id"],
                         call_index=k)
        split["messages"] = copy.deepcopy(system) + [
            {"role": "user", "content": _standalone(parts[where[0]])},
            {"role": "assistant", "content": "", "tool_calls": [copy.deepcopy(call)]}]
        split["tools"] = rec["tools"]
        out.append(split)
    return out


# --- listed values: one value of a request becomes a list, one call per element ----------------

# a list or a pair already beside a value ("GCD of 36 and 48", "Paris, France")
_LISTED_BEFORE = re.compile(r"(?:,|\band|\bor|&|/|-)\s*$", re.IGNORECASE)
_LISTED_AFTER = re.compile(r"^\s*(?:,|and\b|or\b|&|/|-\s*\d)", re.IGNORECASE)


def _written_once(text: str, value) -> re.Match | None:
    """The one place ``text`` writes ``value`` on its own (a number as JSON writes it, a string as its
    own words in any case), where no list or pair is beside it; None otherwise."""
    if _is_number(value):
        pat = _number_re(json.dumps(value))
    elif isinstance(value, str) and value.strip() and value == value.strip():
        pat = _words(value)
    else:
        return None
    found = list(pat.finditer(text))
    if len(found) != 1:
        return None
    m = found[0]
    before, after = text[max(0, m.start() - 12):m.start()], text[m.end():m.end() + 12]
    if _LISTED_BEFORE.search(before) or _LISTED_AFTER.search(after):
        return None
    return m


def _listed_number(v, rng: random.Random):
    """Another number beside ``v`` in a list: an integer as :func:`_resample` draws it, a decimal
    within half of ``v`` either way, with as many decimals (a rate of 0.07 stays below one)."""
    if isinstance(v, int):
        return _resample(v, rng)
    text = repr(v)
    if "e" in text or "inf" in text or "nan" in text:
        return None
    n = round(rng.uniform(0.5 * v, 1.5 * v), len(text.partition(".")[2]))
    return n if n != 0 else None


def _written_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def string_alternatives(records) -> dict:
    """(function name, parameter, its schema as JSON) -> the distinct strings ``records`` give that
    top-level parameter in an opening single call whose request writes them: the values another
    request of the same function could have asked for."""
    out: dict = {}
    for rec in records:
        opening = opening_request(rec)
        if opening is None:
            continue
        text, call = opening
        fn = call["function"]
        schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in rec["tools"]}
        props = (schemas.get(fn["name"]) or {}).get("properties") or {}
        for key, value in (fn.get("arguments") or {}).items():
            if isinstance(value, str) and key in props and _written_once(text, value) is not None:
                slot = (fn["name"], key, json.dumps(props[key], sort_keys=True))
                if value.lower() not in {v.lower() for v in out.get(slot, [])}:
                    out.setdefault(slot, []).append(value)
    return out


def list_values(rec: dict, seed: int, k: int = 2, alternatives: dict | None = None, validator=None) -> dict | None:
    """A listed request: one top-level value the user wrote for the opening call becomes a list of
    ``k`` values ("the area of a circle of radius 5" -> "... of radius 5, 8 and 12"), answered by
    ``k`` calls of the function that differ in that value alone, in the list's order. A number gets
    others of its form (:func:`_resample`); a string gets values other requests gave the same
    parameter of the same function (``alternatives``, from :func:`string_alternatives`). The value
    is written once, on its own, outside the system prompt and the call's other values, with no list
    or pair beside it ("GCD of 36 and 48" asks for one call that takes both). Each call passes the
    tool's schema. None when no value qualifies."""
    opening = opening_request(rec)
    if opening is None or k < 2:
        return None
    text, call = opening
    fn = call["function"]
    args = fn.get("arguments") or {}
    system = " ".join(m["content"] for m in rec["messages"] if m["role"] == "system")
    schema = next((t["function"].get("parameters") or {} for t in rec["tools"]
                   if t["function"]["name"] == fn["name"]), None)
    props = (schema or {}).get("properties") or {}
    others = {key: [v for v in _leaves({o: w for o, w in args.items() if o != key})] for key in args}
    candidates = []                                     # (key, where the request writes it, strings to draw)
    for key, value in args.items():
        at = _written_once(text, value) if key in props else None
        if at is None or _written_once(system, value) is not None:
            continue
        pool = None
        if isinstance(value, str):
            pool = (alternatives or {}).get((fn["name"], key, json.dumps(props[key], sort_keys=True)), [])
            near = [str(v).lower() for v in others[key] if isinstance(v, str)]
            if any(value.lower() in s or (s and s in value.lower()) for s in near) or len(pool) < k:
                continue
        elif any(isinstance(v, str) and json.dumps(value) in v for v in others[key]):
            continue
        candidates.append((key, at, pool))
    rng = random.Random(seed)
    rng.shuffle(candidates)
    for key, at, pool in candidates:
        value = args[key]
        if pool is not None:
            draws = [v for v in rng.sample(pool, len(pool)) if v.lower() != value.lower()]
        else:
            draws = [n for n in (_listed_number(value, rng) for _ in range(20)) if n is not None]
        values, said = [value], {json.dumps(value).lower()}
        for v in draws:
            if len(values) == k:
                break
            if json.dumps(v).lower() in said or _words(v if isinstance(v, str) else json.dumps(v)).search(text):
                continue
            if _valid_args(schema, {**args, key: v}, validator):
                values.append(v)
                said.add(json.dumps(v).lower())
        if len(values) < k:
            continue
        items = [at.group(0)] + [v if isinstance(v, str) else json.dumps(v) for v in values[1:]]
        out = _derived(rec, f"{rec['id']}#list{seed % 1000}", "listed", [rec], target_only=True, parent=rec["id"],
                       listed={"key": key, "values": values})
        system_turns = [m for m in rec["messages"] if m["role"] == "system"]
        out["messages"] = copy.deepcopy(system_turns) + [
            {"role": "user", "content": text[:at.start()] + _written_list(items) + text[at.end():]},
            {"role": "assistant", "content": "", "tool_calls": [
                {**copy.deepcopy(call), "function": {**copy.deepcopy(fn), "arguments": {**copy.deepcopy(args), key: v}}}
                for v in values]}]
        out["tools"] = rec["tools"]
        return out
    return None
