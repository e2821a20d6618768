"""Tool calls as text: the `<tool_call>` block both families write, and its parser.

SmolLM2 (Hermes-style ChatML) and SmolLM3 (`xml_tools`) write a call the same way:

    <tool_call>
    {"name": "get_weather", "arguments": {"city": "Paris"}}
    </tool_call>

one block per call, parallel calls as several blocks separated by a newline. The key order is
fixed (`name` first) so the runtime can force `call_header()`, decode the name under a trie of
the available names, force `CallSyntax.name_end`, fill the arguments from the scaffold and force
`CallSyntax.footer`.

Lean on purpose (standard library only): the runtime imports this.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
END_MARKERS = ("<|im_end|>", "<|endoftext|>")


@dataclass(frozen=True)
class CallSyntax:
    """The literal pieces around one call: header + json(name)[1:-1] + name_end + args + footer."""

    header: str = TOOL_CALL_OPEN + '\n{"name": "'
    name_end: str = '", "arguments": '
    footer: str = "}\n" + TOOL_CALL_CLOSE
    separator: str = "\n"  # between the blocks of parallel calls


_SYNTAX = {"smollm2": CallSyntax(), "smollm3": CallSyntax(), "chatml": CallSyntax()}


def call_syntax(family: str) -> CallSyntax:
    """The call syntax of a chat-template family ("smollm2", "smollm3", "chatml")."""
    try:
        return _SYNTAX[family]
    except KeyError:
        raise ValueError(f"unknown chat-template family {family!r}; "
                         f"known families: {sorted(_SYNTAX)}") from None


def call_header(family: str) -> str:
    """The text the trunk writes before a function name: `<tool_call>\\n{"name": "`."""
    return call_syntax(family).header


def dump_arguments(arguments: dict) -> str:
    """Arguments as the trunk sees them: `json.dumps` with default separators, UTF-8 kept."""
    return json.dumps(arguments, ensure_ascii=False)


def normalize_call(call: dict, where: str = "tool_call") -> tuple[str, dict]:
    """(name, arguments dict) of an OpenAI tool call; `arguments` may be a dict or a JSON string.

    Accepts `{"type": "function", "function": {"name", "arguments"}}` or the bare
    `{"name", "arguments"}`. Errors name the bad field, e.g. `messages[2].tool_calls[0].function.name`.
    """
    if not isinstance(call, dict):
        raise ValueError(f"{where}: expected an object, got {type(call).__name__}")
    fn, fwhere = call, where
    if "function" in call:
        fn, fwhere = call["function"], f"{where}.function"
        if not isinstance(fn, dict):
            raise ValueError(f"{fwhere}: expected an object, got {type(fn).__name__}")
    name = fn.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{fwhere}.name: expected a non-empty string, got {name!r}")
    args = fn.get("arguments", {})
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as e:
            raise ValueError(f"{fwhere}.arguments: not valid JSON ({e.msg} at char {e.pos})") from None
    if not isinstance(args, dict):
        raise ValueError(f"{fwhere}.arguments: expected a JSON object, got {type(args).__name__}")
    return name, args


def render_call(name: str, arguments: dict, family: str) -> str:
    """One `<tool_call>` block, exactly as the trunk should write it."""
    s = call_syntax(family)
    return s.header + json.dumps(name, ensure_ascii=False)[1:-1] + s.name_end + dump_arguments(arguments) + s.footer


def render_calls(tool_calls: list, family: str, where: str = "tool_calls") -> str:
    """Several calls (parallel), one block each, joined by the family's separator."""
    if not isinstance(tool_calls, list):
        raise ValueError(f"{where}: expected a list of tool calls, got {type(tool_calls).__name__}")
    blocks = [render_call(*normalize_call(c, f"{where}[{i}]"), family) for i, c in enumerate(tool_calls)]
    return call_syntax(family).separator.join(blocks)


def openai_call(name: str, arguments: dict) -> dict:
    """A tool call in the data's OpenAI form (arguments as a dict, as in shared/data)."""
    return {"type": "function", "function": {"name": name, "arguments": arguments}}


@dataclass
class ToolCallError:
    """A `<tool_call>` block that could not be read: where it starts, its text, and why."""

    offset: int
    text: str
    reason: str


@dataclass
class ParsedReply:
    """Model text split into OpenAI parts. Malformed blocks stay in `content` and are listed in `errors`."""

    content: str
    tool_calls: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    reasoning: str | None = None


_BLOCK = re.compile(re.escape(TOOL_CALL_OPEN) + r"(.*?)" + re.escape(TOOL_CALL_CLOSE), re.DOTALL)


def _read_block(body: str) -> list[tuple[str, dict]]:
    """The calls in one block body; raises ValueError with a reason. A JSON list holds several calls."""
    body = body.strip()
    if not body:
        raise ValueError("empty block")
    try:
        value = json.loads(body)
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON ({e.msg} at char {e.pos})") from None
    items = value if isinstance(value, list) else [value]
    calls = []
    for i, item in enumerate(items):
        where = f"call[{i}]" if isinstance(value, list) else "call"
        if isinstance(item, dict) and "arguments" not in item and "parameters" in item:
            item = {**item, "arguments": item["parameters"]}
        if isinstance(item, dict) and "function" not in item and "arguments" not in item:
            raise ValueError(f"{where}: missing 'arguments'")
        calls.append(normalize_call(item, where))
    return calls


def parse_reply(text: str, family: str) -> ParsedReply:
    """Split model output into reasoning, content, tool calls and errors. Never raises on bad text.

    A leading `<think>…</think>` becomes `reasoning`; end markers (`<|im_end|>`) are dropped;
    each well-formed `<tool_call>` block becomes an OpenAI tool call (arguments as a dict);
    a malformed or unclosed block is kept in `content` and reported in `errors`.
    """
    call_syntax(family)
    text = text or ""
    for marker in END_MARKERS:
        cut = text.find(marker)
        if cut >= 0:
            text = text[:cut]
    reasoning = None
    stripped = text.lstrip()
    if stripped.startswith(THINK_OPEN):
        close = stripped.find(THINK_CLOSE)
        if close >= 0:
            reasoning = stripped[len(THINK_OPEN):close].strip()
            text = stripped[close + len(THINK_CLOSE):]
    kept, calls, errors, pos = [], [], [], 0
    for m in _BLOCK.finditer(text):
        kept.append(text[pos:m.start()])
        try:
            calls.extend(openai_call(n, a) for n, a in _read_block(m.group(1)))
        except ValueError as e:
            errors.append(ToolCallError(m.start(), m.group(0), str(e)))
            kept.append(m.group(0))
        pos = m.end()
    rest = text[pos:]
    opened = rest.find(TOOL_CALL_OPEN)
    if opened >= 0:
        errors.append(ToolCallError(pos + opened, rest[opened:], "unclosed <tool_call> block (truncated output?)"))
    kept.append(rest)
    content = "".join(kept).strip()
    return ParsedReply(content=content, tool_calls=calls, errors=errors, reasoning=reasoning)


def parse_tool_calls(text: str, family: str) -> tuple[str, list]:
    """(content, tool_calls) of model output; see `parse_reply` for reasoning and errors."""
    r = parse_reply(text, family)
    return r.content, r.tool_calls
