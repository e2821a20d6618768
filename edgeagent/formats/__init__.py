"""Conversation formats: OpenAI-style messages + tools <-> the trunk's prompt text, per family.

Families: "smollm2" (ChatML + Hermes tools, `hermes.py`), "chatml" (the same without SmolLM2's
default system prompt), "smollm3" (the `xml_tools` template, `smollm3.py`). Lean: standard
library only, shared by train/ and runtime/.

    prompt = render_prompt(messages, tools, "smollm2")
    target = render_target(assistant_message, "smollm2")
    content, tool_calls = parse_tool_calls(model_text, "smollm2")
"""

from __future__ import annotations

from . import hermes, smollm3
from .calls import (CallSyntax, ParsedReply, ToolCallError, call_header, call_syntax, dump_arguments,
                    parse_reply, parse_tool_calls, render_call, render_calls)
from .family import FAMILIES, family_of

__all__ = [
    "FAMILIES", "CallSyntax", "ParsedReply", "ToolCallError", "call_header", "call_syntax",
    "dump_arguments", "family_of", "parse_reply", "parse_tool_calls", "render_call", "render_calls",
    "render_example", "render_prompt", "render_target", "resolve_mode",
]


def _check(family: str) -> None:
    if family not in FAMILIES:
        raise ValueError(f"family: unknown chat-template family {family!r}; choose one of {list(FAMILIES)}"
                         " (family_of() gives 'unknown' when a checkpoint's template is not recognised)")


def resolve_mode(messages: list, family: str, mode: str | None = None) -> str | None:
    """The mode a prompt is rendered in: "/think" or "/no_think" for smollm3 (flags in the system
    prompt win over `mode`), None for the families that have no reasoning switch."""
    _check(family)
    return smollm3.reasoning_mode(messages, mode) if family == "smollm3" else None


def render_prompt(messages: list, tools: list | None, family: str, add_generation_prompt: bool = True,
                  mode: str | None = None, today: str | None = None, listing: str = "json") -> str:
    """Prompt text of an OpenAI conversation with tools, in the trunk's own format.

    messages: [{"role": "system"|"user"|"assistant"|"tool", "content": str, "tool_calls"?: [...]}]
    tools: OpenAI tools ({"type": "function", "function": {...}}) or bare functions; None or [] for none.
    mode: smollm3 only: "think" / "no_think" (also "chat", "tool" = no_think); None = the template default.
    today: smollm3 only: the "Today Date" line (default: today's date).
    listing: how each tool is written: "json" (the family's own listing), "signature" or
    "described" (a one-line signature, hermes.tool_lines).
    """
    _check(family)
    if not isinstance(messages, list):
        raise ValueError(f"messages: expected a list, got {type(messages).__name__}")
    if family == "smollm3":
        return smollm3.render_prompt(messages, tools, add_generation_prompt, mode, today, listing)
    return hermes.render_prompt(messages, tools, family, add_generation_prompt, listing)


def render_target(assistant_message: dict, family: str, mode: str | None = None) -> str:
    """What the trunk writes after the generation prompt for this assistant turn, `<|im_end|>` included.

    For smollm3 pass the prompt's resolved mode (`resolve_mode`); `render_example` does it for you.
    """
    _check(family)
    if not isinstance(assistant_message, dict) or assistant_message.get("role", "assistant") != "assistant":
        raise ValueError("assistant_message.role: expected an assistant message")
    if family == "smollm3":
        return smollm3.render_target(assistant_message, mode)
    return hermes.render_target(assistant_message, family)


def render_example(messages: list, tools: list | None, family: str, mode: str | None = None,
                   today: str | None = None) -> tuple[str, str]:
    """(prompt, target) of a training record whose last message is the assistant turn to learn."""
    if not messages or not isinstance(messages[-1], dict) or messages[-1].get("role") != "assistant":
        raise ValueError(f"messages[{len(messages) - 1 if messages else 0}]: the last message must be "
                         "the assistant turn to learn")
    history = messages[:-1]
    rmode = resolve_mode(history, family, mode)
    prompt = render_prompt(history, tools, family, True, rmode, today)
    return prompt, render_target(messages[-1], family, rmode)
