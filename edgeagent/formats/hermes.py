"""SmolLM2 / generic ChatML with Hermes-style tools.

SmolLM2-135M-Instruct's own template is plain ChatML (a default system prompt when none is given)
and its instruct data had no function calling, so the tool format is ours to choose. We follow
NousResearch Hermes-2-Pro: the tools go in the system prompt as JSON inside `<tools>…</tools>`,
each call is a `<tool_call>` block (`calls.py`), and tool results come back in a ChatML turn with
role **tool**, one `<tool_response>` block per result (consecutive results share one turn, in
call order). Role "tool" rather than "user" so that a result can never be mistaken for the user.

`chat_template()` returns the same format as a Jinja chat template, saved with the fetched
checkpoint so that `tokenizer.apply_chat_template(messages, tools=tools)` agrees with
`render_prompt` (a test checks it).
"""

from __future__ import annotations

import json

from .calls import render_calls

SMOLLM2_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
TOOLS_INTRO = (
    "You are a function calling AI model. You are provided with function signatures within "
    "<tools></tools> XML tags. You may call one or more functions to assist with the user query. "
    "Don't make assumptions about what values to plug into functions. Here are the available tools:\n"
    "<tools>\n"
)
TOOLS_OUTRO = (
    "</tools>\n\n"
    "For each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n"
    '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
)


def normalize_tool(tool: dict, where: str = "tools[0]") -> dict:
    """A tool in OpenAI form `{"type": "function", "function": {...}}`; a bare function is wrapped."""
    if not isinstance(tool, dict):
        raise ValueError(f"{where}: expected an object, got {type(tool).__name__}")
    fn = tool.get("function", tool)
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
        raise ValueError(f"{where}.function.name: expected a non-empty string")
    return tool if "function" in tool else {"type": "function", "function": tool}


def text_of(message: dict, where: str) -> str:
    """A message's content as text.

    A string as it is; a list of OpenAI content parts (``[{"type": "text", "text": ...}]``) as its
    text parts joined (any other part type is an error naming it); None as "" where the role may
    leave it out (an assistant turn that only calls, a tool). A tool's other content (its JSON
    result) is written as JSON; for the other roles it is an error.
    """
    if not isinstance(message, dict):
        raise ValueError(f"{where}: expected an object, got {type(message).__name__}")
    content, role = message.get("content"), message.get("role")
    if isinstance(content, str):
        return content
    if content is None:
        if role in ("user", "system"):
            raise ValueError(f"{where}.content: a {role} message needs a string content, got null")
        return ""
    if role == "tool":    # text parts, or the tool's JSON result (a list of typed objects included)
        if isinstance(content, list) and content and all(_is_text_part(p) for p in content):
            return "".join(p["text"] for p in content)
        return json.dumps(content, ensure_ascii=False)
    if isinstance(content, list) and content and all(isinstance(p, dict) and "type" in p for p in content):
        return "".join(_part_text(part, f"{where}.content[{j}]") for j, part in enumerate(content))
    raise ValueError(f"{where}.content: expected a string or a list of text parts, got {type(content).__name__}")


def _is_text_part(part) -> bool:
    return isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)


def _part_text(part: dict, where: str) -> str:
    if part["type"] != "text":
        raise ValueError(f"{where}.type: only text parts are supported, got {part['type']!r}")
    if not isinstance(part.get("text"), str):
        raise ValueError(f"{where}.text: expected a string")
    return part["text"]


def assistant_body(message: dict, family: str, where: str = "message") -> str:
    """Content then the tool-call blocks (a newline between), as the trunk writes them."""
    content = text_of(message, where)
    calls = message.get("tool_calls") or []
    if not calls:
        return content
    blocks = render_calls(calls, family, f"{where}.tool_calls")
    return content + "\n" + blocks if content else blocks


LISTINGS = ("json", "signature", "described")


def check_listing(listing: str) -> None:
    if listing not in LISTINGS:
        raise ValueError(f"listing: expected one of {list(LISTINGS)}, got {listing!r}")


def tool_lines(tools: list, listing: str = "json") -> str:
    """The tools, one per line: as JSON ("json", the Hermes listing), or as a signature
    ``name(arg: type, opt?: "a" | "b"): description`` that leaves the schema's structure to the
    scaffold compiler ("signature"; "described" adds each argument's description)."""
    check_listing(listing)
    tools = [normalize_tool(t, f"tools[{i}]") for i, t in enumerate(tools)]
    if listing == "json":
        return "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tools)
    return "".join(signature(t["function"], described=listing == "described") + "\n" for t in tools)


def signature(fn: dict, described: bool = False) -> str:
    """``get_weather(city: string, unit?: "celsius" | "fahrenheit"): Get the weather.`` A property
    not in ``required`` is marked ``?``; ``described`` appends "city: City name." per property."""
    params = fn.get("parameters") or {}
    props = params.get("properties") or {}
    required = set(params.get("required") or [])
    args = ", ".join(f"{k}{'' if k in required else '?'}: {type_text(v)}" for k, v in props.items())
    out = f"{fn['name']}({args})"
    about = " ".join(str(fn.get("description") or "").split())
    if about:
        out += ": " + about
    if described:
        notes = [f"{k}: {' '.join(str(v['description']).split())}" for k, v in props.items()
                 if isinstance(v, dict) and v.get("description")]
        if notes:
            out += ("" if out.endswith((".", "!", "?")) else ".") + " " + "; ".join(notes)
    return out


def type_text(schema) -> str:
    """A property's type in a few words: its enum's values, its types joined by "|", an array's
    item type ("array of string")."""
    if not isinstance(schema, dict):
        return "any"
    if "enum" in schema:
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return " | ".join(type_text(s) for s in schema[key])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind == "array" and isinstance(schema.get("items"), dict):
        return f"array of {type_text(schema['items'])}"
    return str(kind)


def tools_block(tools: list, listing: str = "json") -> str:
    """The Hermes tool listing for the system prompt, one tool per line (see :func:`tool_lines`)."""
    return TOOLS_INTRO + tool_lines(tools, listing) + TOOLS_OUTRO


def render_prompt(messages: list, tools: list | None, family: str, add_generation_prompt: bool = True,
                  listing: str = "json") -> str:
    """ChatML text of a conversation; `family` is "smollm2" (default system prompt) or "chatml";
    `listing` how the tools are written (:func:`tool_lines`)."""
    msgs = list(messages)
    system = None
    if msgs and isinstance(msgs[0], dict) and msgs[0].get("role") == "system":
        system = text_of(msgs.pop(0), "messages[0]")
    elif family == "smollm2":
        system = SMOLLM2_DEFAULT_SYSTEM
    if tools:
        system = (system + "\n\n" if system else "") + tools_block(tools, listing)
    out = [] if system is None else [f"<|im_start|>system\n{system}<|im_end|>\n"]
    offset = len(messages) - len(msgs)
    for i, m in enumerate(msgs):
        where = f"messages[{i + offset}]"
        role = m.get("role") if isinstance(m, dict) else None
        if role == "tool":
            first = i == 0 or msgs[i - 1].get("role") != "tool"
            last = i == len(msgs) - 1 or msgs[i + 1].get("role") != "tool"
            out.append(("<|im_start|>tool\n" if first else "\n")
                        + f"<tool_response>\n{text_of(m, where)}\n</tool_response>"
                        + ("<|im_end|>\n" if last else ""))
        elif role == "assistant":
            out.append(f"<|im_start|>assistant\n{assistant_body(m, family, where)}<|im_end|>\n")
        elif role in ("user", "system"):
            out.append(f"<|im_start|>{role}\n{text_of(m, where)}<|im_end|>\n")
        else:
            raise ValueError(f"{where}.role: expected system, user, assistant or tool, got {role!r}")
    if add_generation_prompt:
        out.append("<|im_start|>assistant\n")
    return "".join(out)


def render_target(message: dict, family: str) -> str:
    """What the trunk writes after the generation prompt for this assistant message, end marker included."""
    return assistant_body(message, family) + "<|im_end|>"


def _jinja_str(s: str) -> str:
    """A single-quoted Jinja string literal."""
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def chat_template(family: str = "smollm2") -> str:
    """This format as a Jinja chat template (for `tokenizer.chat_template`), in one line per step."""
    default = _jinja_str(SMOLLM2_DEFAULT_SYSTEM) if family == "smollm2" else "none"
    return "".join([
        "{%- if messages and messages[0]['role'] == 'system' -%}",
        "{%- set sys = messages[0]['content'] -%}{%- set loop_messages = messages[1:] -%}",
        "{%- else -%}{%- set sys = " + default + " -%}{%- set loop_messages = messages -%}{%- endif -%}",
        "{%- if tools -%}{%- set ns = namespace(s=" + _jinja_str(TOOLS_INTRO) + ") -%}",
        "{%- for tool in tools -%}{%- set t = tool if tool['function'] is defined else {'type': 'function', 'function': tool} -%}",
        "{%- set ns.s = ns.s ~ (t | tojson) ~ '\\n' -%}{%- endfor -%}",
        "{%- set sys = (sys ~ '\\n\\n' if sys else '') ~ ns.s ~ " + _jinja_str(TOOLS_OUTRO) + " -%}{%- endif -%}",
        "{%- if sys -%}{{- '<|im_start|>system\\n' ~ sys ~ '<|im_end|>\\n' -}}{%- endif -%}",
        "{%- for m in loop_messages -%}",
        "{%- if m['role'] == 'tool' -%}",
        "{%- if loop.first or loop_messages[loop.index0 - 1]['role'] != 'tool' -%}{{- '<|im_start|>tool\\n' -}}",
        "{%- else -%}{{- '\\n' -}}{%- endif -%}",
        "{{- '<tool_response>\\n' ~ m['content'] ~ '\\n</tool_response>' -}}",
        "{%- if loop.last or loop_messages[loop.index0 + 1]['role'] != 'tool' -%}{{- '<|im_end|>\\n' -}}{%- endif -%}",
        "{%- elif m['role'] == 'assistant' -%}",
        "{{- '<|im_start|>assistant\\n' -}}{%- if m['content'] -%}{{- m['content'] -}}{%- endif -%}",
        "{%- if m['tool_calls'] -%}{%- for tc in m['tool_calls'] -%}",
        "{%- set f = tc['function'] if tc['function'] is defined else tc -%}",
        "{%- if not loop.first or m['content'] -%}{{- '\\n' -}}{%- endif -%}",
        "{{- '<tool_call>\\n{\"name\": ' ~ (f['name'] | tojson) ~ ', \"arguments\": ' -}}",
        "{{- (f['arguments'] if f['arguments'] is string else (f['arguments'] | tojson)) ~ '}\\n</tool_call>' -}}",
        "{%- endfor -%}{%- endif -%}{{- '<|im_end|>\\n' -}}",
        "{%- else -%}{{- '<|im_start|>' ~ m['role'] ~ '\\n' ~ m['content'] ~ '<|im_end|>\\n' -}}{%- endif -%}",
        "{%- endfor -%}",
        "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}",
    ])
