"""SmolLM3's chat template with `xml_tools`, reproduced in Python.

Source followed: the `chat_template` of HuggingFaceTB/SmolLM3-3B (tokenizer_config.json), read
from a verbatim copy in huggingface/swift-jinja's test fixtures (`ChatTemplates.swift`,
`smollm3`), cross-checked against the rendered header quoted by other ports (a Java oracle test
and a C++ port found by the code search). What it does, and what we keep:

- System turn: "## Metadata" (knowledge cutoff, today's date, "Reasoning Mode: /think|/no_think"),
  then "## Custom Instructions" (the user's system prompt with `/think`, `/no_think` removed, or a
  default persona per mode), then with tools "### Tools" listing each tool inside `<tools>…</tools>`
  as Jinja's `tool | string`, i.e. Python's `str(dict)` (single quotes, True/None), and the call
  instructions. The template closes the system turn with `<|im_end|>` only when tools are listed;
  without tools the turn runs straight into the next `<|im_start|>` (a quirk of the original,
  reproduced so the 3B model sees what it was tuned on).
- Mode: `enable_thinking` (default true) picks the mode, and a `/think` or `/no_think` flag in the
  system prompt overrides it. `/system_override` replaces the whole system turn.
- Assistant turns: in /no_think mode each starts with an empty `<think>\\n\\n</think>\\n`; in /think
  mode the content is written as is (its `<think>…</think>` is part of the content).
- Tool results: a **user** turn holding the result text, unwrapped (as the template does).
- Deviation: the template drops `tool_calls` from history; we render them as the model writes
  them (the `<tool_call>` blocks of its own instructions), so training targets and history agree.
"""

from __future__ import annotations

import datetime

from .hermes import assistant_body, check_listing, normalize_tool, text_of, tool_lines

KNOWLEDGE_CUTOFF = "June 2025"
DEFAULT_NO_THINK = "You are a helpful AI assistant named SmolLM, trained by Hugging Face.\n\n"
DEFAULT_THINK = (
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face. Your role as an assistant "
    "involves thoroughly exploring questions through a systematic thinking process before providing "
    "the final precise and accurate solutions. This requires engaging in a comprehensive cycle of "
    "analysis, summarizing, exploration, reassessment, reflection, backtracking, and iteration to "
    "develop well-considered thinking process. Please structure your response into two main sections: "
    "Thought and Solution using the specified format: <think> Thought section </think> Solution "
    "section. In the Thought section, detail your reasoning process in steps. Each step should include "
    "detailed considerations such as analysing questions, summarizing relevant findings, brainstorming "
    "new ideas, verifying the accuracy of the current steps, refining any errors, and revisiting "
    "previous steps. In the Solution section, based on various attempts, explorations, and "
    "reflections from the Thought section, systematically present the final solution that you deem "
    "correct. The Solution section should be logical, accurate, and concise and detail necessary "
    "steps needed to reach the conclusion.\n\n"
)
TOOLS_INTRO = (
    "You may call one or more functions to assist with the user query.\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n\n<tools>\n"
)
TOOLS_OUTRO = (
    "</tools>\n\nFor each function call, return a json object with function name and arguments "
    "within <tool_call></tool_call> XML tags:\n"
    '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
)
EMPTY_THINK = "<think>\n\n</think>\n"

_MODES = {None: None, "think": "/think", "no_think": "/no_think", "chat": "/no_think", "tool": "/no_think",
          "/think": "/think", "/no_think": "/no_think"}


def reasoning_mode(messages: list, mode: str | None = None) -> str:
    """"/think" or "/no_think": `mode` (default think, as `enable_thinking`), then system-prompt flags win."""
    if mode not in _MODES:
        raise ValueError(f"mode: expected one of {sorted(k for k in _MODES if k)} or None, got {mode!r}")
    resolved = _MODES[mode] or "/think"
    if messages and isinstance(messages[0], dict) and messages[0].get("role") == "system":
        system = text_of(messages[0], "messages[0]")
        if "/no_think" in system:
            resolved = "/no_think"
        elif "/think" in system:
            resolved = "/think"
    return resolved


def _system_turn(messages: list, tools: list | None, rmode: str, today: str, listing: str = "json") -> str:
    system = None
    if messages and isinstance(messages[0], dict) and messages[0].get("role") == "system":
        system = text_of(messages[0], "messages[0]")
    custom = system.replace("/no_think", "").replace("/think", "").rstrip() if system is not None else ""
    if system is not None and "/system_override" in system:
        return "<|im_start|>system\n" + custom.replace("/system_override", "").rstrip() + "<|im_end|>\n"
    out = ["<|im_start|>system\n## Metadata\n\n", f"Knowledge Cutoff Date: {KNOWLEDGE_CUTOFF}\n",
           f"Today Date: {today}\n", f"Reasoning Mode: {rmode}\n\n", "## Custom Instructions\n\n"]
    if custom:
        out.append(custom + "\n\n")
    else:
        out.append(DEFAULT_THINK if rmode == "/think" else DEFAULT_NO_THINK)
    if tools:
        lines = "".join(str(normalize_tool(t, f"tools[{i}]")) + "\n" for i, t in enumerate(tools)) \
            if listing == "json" else tool_lines(tools, listing)
        out.append("### Tools\n\n" + TOOLS_INTRO + lines + TOOLS_OUTRO + "\n\n<|im_end|>\n")
    return "".join(out)


def _assistant(message: dict, rmode: str, where: str) -> str:
    body = assistant_body(message, "smollm3", where).lstrip("\n")
    if rmode == "/think":
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        return f"<think>\n{reasoning}\n</think>\n{body}" if reasoning else body
    return EMPTY_THINK + body


def render_prompt(messages: list, tools: list | None, add_generation_prompt: bool = True,
                  mode: str | None = None, today: str | None = None, listing: str = "json") -> str:
    """SmolLM3 prompt text. `today` is the "Today Date" line (default: today, "%d %B %Y");
    pass a fixed one for reproducible training data. `listing`: "json" writes each tool as the
    template does (a Python dict); the others as hermes.tool_lines."""
    check_listing(listing)
    rmode = reasoning_mode(messages, mode)
    today = today or datetime.date.today().strftime("%d %B %Y")
    out = [_system_turn(messages, tools, rmode, today, listing)]
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        role = m.get("role") if isinstance(m, dict) else None
        if role == "user":
            out.append(f"<|im_start|>user\n{text_of(m, where)}<|im_end|>\n")
        elif role == "assistant":
            out.append(f"<|im_start|>assistant\n{_assistant(m, rmode, where)}<|im_end|>\n")
        elif role == "tool":
            out.append(f"<|im_start|>user\n{text_of(m, where)}<|im_end|>\n")
        elif role != "system":
            raise ValueError(f"{where}.role: expected system, user, assistant or tool, got {role!r}")
    if add_generation_prompt:
        out.append("<|im_start|>assistant\n" + ("" if rmode == "/think" else EMPTY_THINK))
    return "".join(out)


def render_target(message: dict, mode: str | None = None) -> str:
    """The assistant text after the generation prompt, end marker included.

    `mode` must be the resolved mode of the prompt (`reasoning_mode(messages, mode)`); in /think
    mode a `reasoning_content` field becomes the `<think>` block.
    """
    rmode = reasoning_mode([], mode)
    body = _assistant(message, rmode, "message")
    return (body[len(EMPTY_THINK):] if rmode == "/no_think" else body) + "<|im_end|>"
