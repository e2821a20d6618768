"""Score one response against one BFCL item, the way BFCL's eval_runner does, plus structure checks.

A response is ``{"id", "mode", "content", "tool_calls": [{"function": {"name", "arguments"}}],
"timings": {...}}`` with ``arguments`` a JSON string (OpenAI style). ``tool_calls`` may be absent,
None or empty: no call.

BFCL's rules, mirrored from ``bfcl_eval/eval_checker/eval_runner.py`` for a function-calling
model (whose ``decode_ast`` is ``[{name: json.loads(arguments)}]``):

- AST categories: a call whose arguments do not decode fails the item (``ast_decoder:decoder_failed``);
  a decoded output not of the form ``[{name: {param: value}}]`` fails it
  (``ast_decoder:decoder_wrong_output_format``); otherwise ``ast_checker`` decides, dispatching on
  the category name (``parallel`` in the name -> any order; ``multiple`` -> one call among
  several functions; else exactly one call).
- irrelevance categories: correct iff the output holds no function call. As in BFCL, output that
  fails to decode counts as "no call" (and so as correct); the structure metrics still record it.

A response that breaks the response contract itself (not a dict, ``tool_calls`` not a list, a
call without a string name or string arguments) is wrong in every category, with the reason.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field

from jsonschema import Draft202012Validator

from .bfcl import CHECKER_MODEL_NAME, BfclItem, is_irrelevance, load_ast_checker


class ResponseError(ValueError):
    """The response breaks the response contract (not a model error: a harness or pipeline bug)."""


@dataclass
class CallCheck:
    """Structure of one tool call, judged against the request's tools (not against BFCL's answer)."""

    name: str
    parsed: bool = False          # arguments are a JSON object
    known_name: bool = False      # the name is one of the request's tools
    valid: bool = False           # parsed, known name, and the arguments pass the tool's schema
    invented_params: list[str] = field(default_factory=list)  # not in the schema's properties
    error: str | None = None


@dataclass
class ItemResult:
    id: str
    category: str
    correct: bool
    error_type: str | None = None
    error: str | None = None
    mode: str | None = None       # the response's "mode" (chat | think | tool), as the router chose
    n_calls: int = 0
    calls: list[CallCheck] = field(default_factory=list)
    timings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _raw_calls(response) -> list[tuple[str, str]]:
    """[(name, arguments string)] of a response; raises ResponseError on a broken contract."""
    if not isinstance(response, dict):
        raise ResponseError(f"response is {type(response).__name__}, expected a dict")
    calls = response.get("tool_calls")
    if calls is None:
        return []
    if not isinstance(calls, list):
        raise ResponseError(f"tool_calls is {type(calls).__name__}, expected a list")
    out = []
    for i, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise ResponseError(f"tool_calls[{i}] has no function.name string")
        if not isinstance(fn.get("arguments"), str):
            raise ResponseError(f"tool_calls[{i}].function.arguments is "
                                f"{type(fn.get('arguments')).__name__}, expected a JSON string")
        out.append((fn["name"], fn["arguments"]))
    return out


class Validators:
    """jsonschema validators of one request's tools, built once per item."""

    def __init__(self, request: dict):
        self.schemas = {t["function"]["name"]: t["function"]["parameters"] for t in request["tools"]}
        self._validators: dict[str, Draft202012Validator] = {}

    def check(self, name: str, arguments: str) -> CallCheck:
        c = CallCheck(name=name, known_name=name in self.schemas)
        try:
            args = json.loads(arguments)
        except (json.JSONDecodeError, RecursionError) as e:
            c.error = f"arguments are not JSON: {e}"
            return c
        if not isinstance(args, dict):
            c.error = f"arguments are a JSON {type(args).__name__}, not an object"
            return c
        c.parsed = True
        if not c.known_name:
            c.error = f"invented function name {name!r}"
            return c
        schema = self.schemas[name]
        c.invented_params = sorted(k for k in args if k not in schema.get("properties", {}))
        v = self._validators.get(name)
        if v is None:
            v = self._validators[name] = Draft202012Validator(schema)
        err = next(iter(v.iter_errors(args)), None)
        if err is not None:
            path = "/".join(str(p) for p in err.absolute_path)
            c.error = f"schema: {err.message[:200]}" + (f" (at {path})" if path else "")
        c.valid = err is None
        return c


def _decode(item: BfclItem, raw: list[tuple[str, str]]):
    """BFCL's FC decode_ast: [{bfcl name: json.loads(arguments)}]; raises on undecodable JSON."""
    return [{item.bfcl_name(name): json.loads(arguments)} for name, arguments in raw]


def _is_call_format(decoded) -> bool:
    # bfcl_eval.utils.is_function_calling_format_output
    return isinstance(decoded, list) and all(
        isinstance(d, dict) and len(d) == 1 and isinstance(next(iter(d.values())), dict) for d in decoded)


def _is_empty(decoded) -> bool:
    # bfcl_eval.utils.is_empty_output
    return not _is_call_format(decoded) or len(decoded) == 0 or (len(decoded) == 1 and len(decoded[0]) == 0)


def score(item: BfclItem, response) -> ItemResult:
    """Score one response (any object: a broken one is recorded as wrong, never raised)."""
    res = ItemResult(id=item.id, category=item.category, correct=False)
    if isinstance(response, dict) and isinstance(response.get("mode"), str):
        res.mode = response["mode"]
    if isinstance(response, dict) and isinstance(response.get("timings"), dict):
        res.timings = {k: v for k, v in response["timings"].items()
                       if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if isinstance(response, dict) and response.get("error"):
        # kept where the item still counts as right (an irrelevance item answered by an error)
        res.error = str(response["error"])[:500]
    try:
        raw = _raw_calls(response)
    except ResponseError as e:
        res.error_type, res.error = "response_error", str(e)
        return res
    res.n_calls = len(raw)
    validators = Validators(item.request)
    res.calls = [validators.check(name, arguments) for name, arguments in raw]

    try:
        decoded = _decode(item, raw)
        decode_error = None
    except (json.JSONDecodeError, RecursionError) as e:
        decoded, decode_error = None, str(e)

    if is_irrelevance(item.category):
        has_call = decoded is not None and not _is_empty(decoded)
        res.correct = not has_call
        if has_call:
            res.error_type = "irrelevance_error:decoder_success"
            res.error = "made a function call when none fits"
        return res

    if decoded is None:
        res.error_type, res.error = "ast_decoder:decoder_failed", f"Failed to decode AST. {decode_error}"
        return res
    if not _is_call_format(decoded):
        res.error_type = "ast_decoder:decoder_wrong_output_format"
        res.error = "arguments must be a JSON object per call"
        return res
    checker = load_ast_checker()
    try:
        out = checker.ast_checker(item.functions, decoded, copy.deepcopy(item.ground_truth),
                                  checker.Language.PYTHON, item.category, CHECKER_MODEL_NAME)
    except Exception as e:  # the checker assumes well-typed output; odd values can make it raise
        res.error_type, res.error = "checker_exception", f"{type(e).__name__}: {e}"
        return res
    res.correct = bool(out["valid"])
    if not res.correct:
        res.error_type = out.get("error_type")
        res.error = json.dumps(out.get("error"), ensure_ascii=False, default=str)[:500]
    return res


def failed(item: BfclItem, error: str, error_type: str = "predictor_error") -> ItemResult:
    """The result of an item whose response never came (the predictor raised, or skipped it)."""
    return ItemResult(id=item.id, category=item.category, correct=False, error_type=error_type, error=error)
