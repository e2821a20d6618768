"""`edgeagent chat`: a multi-turn conversation in the terminal on the routed pipeline.

Chat answers stream as they are decoded (`bot> ...`); tool calls are shown as
`call> name {arguments}`. A call's result comes from `--tools-module` (the Python function of
that name runs; an exception becomes the result text, the chat goes on) or is pasted at the
`tool> ` prompt. The model then continues with the results, for at most --max-tool-rounds rounds
of calls per user turn. At the `you> ` prompt: /reset forgets the conversation, /exit (or end
of input) leaves.
"""

from __future__ import annotations

import enum
import importlib.util
import inspect
import json
import re
import types
import typing
from pathlib import Path

import click

from .infer import _backend_options, _load_tools, make_pipeline

_make_pipeline = make_pipeline  # tests swap in a tiny pipeline here

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _type_schema(tp, where: str) -> dict:
    """JSON Schema of a parameter annotation; a type the scaffold cannot lay out is an error naming `where`."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is inspect.Parameter.empty or tp is typing.Any:
        return {"type": "string"}
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}
    if origin is typing.Literal:
        kinds = {_SCALARS.get(type(a)) for a in args}
        if None in kinds or len(kinds) != 1:
            raise ValueError(f"{where}: Literal values must be all str, all int, all float or all bool")
        return {"type": kinds.pop(), "enum": list(args)}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _type_schema(typing.Literal[tuple(m.value for m in tp)], where)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            inner = _type_schema(rest[0], where)
            if isinstance(inner.get("type"), str) and inner["type"] not in ("array", "object"):
                return {**inner, "type": [inner["type"], "null"]}
            return {"anyOf": [inner, {"type": "null"}]}
        raise ValueError(f"{where}: only Optional[X] unions are supported, got {tp}")
    if tp is list or origin is list:
        return {"type": "array", "items": _type_schema(args[0] if args else str, f"{where}[]")}
    if typing.is_typeddict(tp):
        hints = typing.get_type_hints(tp)
        return {"type": "object", "properties": {k: _type_schema(v, f"{where}.{k}") for k, v in hints.items()},
                "required": sorted(tp.__required_keys__)}
    raise ValueError(f"{where}: cannot turn {tp!r} into a tool parameter (use str, int, float, bool, Literal, "
                     "Enum, list[...], Optional[...] or a TypedDict)")


def _parse_doc(doc: str) -> tuple[str, dict]:
    """(summary, {parameter: description}) of a docstring with a Google-style `Args:` section."""
    summary = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
    params, current, in_args = {}, None, False
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.lower() in ("args:", "arguments:", "parameters:"):
            in_args = True
            continue
        if not in_args:
            continue
        if stripped.endswith(":") and not line.startswith((" ", "\t")):
            break  # Returns:, Raises:, ...
        m = re.match(r"^(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$", stripped)
        if m:
            current = m.group(1)
            params[current] = m.group(2).strip()
        elif stripped and current:
            params[current] = (params[current] + " " + stripped).strip()
    return summary, params


def function_schema(fn) -> dict:
    """An OpenAI tool for a Python function: parameters from its signature, descriptions from its docstring."""
    hints = typing.get_type_hints(fn)
    summary, docs = _parse_doc(inspect.getdoc(fn) or "")
    props, required = {}, []
    for name, p in inspect.signature(fn).parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        schema = _type_schema(hints.get(name, p.annotation), f"{fn.__name__}({name})")
        if docs.get(name):
            schema["description"] = docs[name]
        if p.default is p.empty:
            required.append(name)
        else:
            try:
                json.dumps(p.default)
                schema["default"] = p.default
            except TypeError:
                pass
        props[name] = schema
    fn_spec = {"name": fn.__name__, "parameters": {"type": "object", "properties": props, "required": required}}
    if summary:
        fn_spec["description"] = summary
    return {"type": "function", "function": fn_spec}


def tools_from_module(path: Path) -> tuple[list, dict]:
    """(OpenAI tools, {name: function}) of the public functions defined in the Python file `path`."""
    spec = importlib.util.spec_from_file_location(f"edgeagent_user_tools_{Path(path).stem}", path)
    if spec is None or spec.loader is None:
        raise click.ClickException(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        raise click.ClickException(f"{path}: importing the tools module failed: {type(e).__name__}: {e}") from None
    names = getattr(module, "__all__", None) or [
        n for n, obj in vars(module).items()
        if inspect.isfunction(obj) and obj.__module__ == module.__name__ and not n.startswith("_")]
    functions = {n: getattr(module, n) for n in names}
    try:
        return [function_schema(f) for f in functions.values()], functions
    except ValueError as e:
        raise click.ClickException(f"{path}: {e}") from None


def call_tool(fn, arguments: dict) -> str:
    """The result text of one call: the function's return value (JSON unless a str), or its error."""
    try:
        result = fn(**arguments)
    except Exception as e:  # a tool's failure is the model's to read, never the chat's end
        return f"error: {type(e).__name__}: {e}"
    return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, default=str)


def _read(label: str) -> str | None:
    """One line at the prompt `label`; None at end of input."""
    try:
        return click.prompt(label, prompt_suffix="", default="", show_default=False)
    except (click.Abort, EOFError):
        return None


class ChatSession:
    """The conversation so far and one user turn at a time (with its rounds of tool calls)."""

    def __init__(self, pipe, tools: list, functions: dict, tool_choice, system: str | None, max_tool_rounds: int):
        self.pipe, self.tools, self.functions = pipe, tools, functions
        self.tool_choice, self.system, self.max_tool_rounds = tool_choice, system, max_tool_rounds
        self.reset()

    def reset(self) -> None:
        self.messages = [{"role": "system", "content": self.system}] if self.system else []

    def _respond(self, choice):
        printed = []

        def on_token(piece):
            if not printed:
                piece = piece.lstrip()
                if not piece:
                    return
                click.echo("bot> ", nl=False)
            printed.append(piece)
            click.echo(piece, nl=False)

        request = {"messages": list(self.messages), "tools": self.tools, "tool_choice": choice}
        resp = self.pipe.respond(request, on_token=on_token)
        if resp["mode"] != "tool":
            if printed:
                click.echo()
            else:
                click.echo(f"bot> {resp['content']}")
        return resp

    def turn(self, text: str) -> bool:
        """Answer one user message; False when input ended at a tool prompt."""
        from edgeagent.runtime.pipeline import RequestError

        self.messages.append({"role": "user", "content": text})
        choice = self.tool_choice
        for round_ in range(self.max_tool_rounds + 1):
            if round_ == self.max_tool_rounds and choice != "none":
                choice = "none"  # enough calls: the model answers with what it has
            try:
                resp = self._respond(choice)
            except RequestError as e:
                click.echo(f"error: {e}", err=True)
                if round_ == 0:
                    self.messages.pop()
                return True
            if resp["mode"] != "tool":
                self.messages.append({"role": "assistant", "content": resp["content"]})
                return True
            for err in resp.get("errors", []):
                click.echo(f"error> {err.get('function')}: {err.get('error')}")
            calls = resp["tool_calls"]
            if not calls:
                click.echo("bot> (no valid tool call)")
                return True
            self.messages.append({"role": "assistant", "content": "", "tool_calls": calls})
            for call in calls:
                name, arguments = call["function"]["name"], call["function"]["arguments"]
                click.echo(f"call> {name} {arguments}")
                if name in self.functions:
                    result = call_tool(self.functions[name], json.loads(arguments))
                    click.echo(f"tool> {result}")
                else:
                    line = _read("tool> ")
                    if line is None:
                        return False
                    result = re.sub(r"^\s*tool>\s*", "", line).strip()
                self.messages.append({"role": "tool", "tool_call_id": call["id"], "name": name, "content": result})
            if choice != "none":
                choice = "auto"  # after the results, the heads decide whether more calls follow
        return True


@click.command("chat")
@click.option("--tools", "tools_path", type=click.Path(exists=True, path_type=Path), default=None,
              help="A JSON file with a list of OpenAI-format tools (results are pasted at the tool> prompt).")
@click.option("--tools-module", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A Python file whose public functions are the tools (schemas from signatures and "
                   "docstrings); calls to them run, and their results go back to the model.")
@click.option("--tool-choice", default="auto", show_default=True,
              help="auto, none, required, or a function name (for the first round of each turn).")
@click.option("--system", default=None, help="A system message.")
@click.option("--max-tool-rounds", type=click.IntRange(0, 16), default=3, show_default=True,
              help="Rounds of tool calls per user turn before the model must answer in text.")
@_backend_options
def chat(tools_path, tools_module, tool_choice, system, max_tool_rounds, model, heads, artifacts, steps,
         max_new_tokens):
    """Talk to the model: streamed answers, tool calls with results run or pasted back. /reset, /exit."""
    tools, functions = _load_tools(tools_path), {}
    if tools_module is not None:
        module_tools, functions = tools_from_module(tools_module)
        tools = tools + module_tools
    names = [(t.get("function") or t).get("name") for t in tools]
    if tool_choice not in ("auto", "none", "required"):
        if tool_choice not in names:
            raise click.ClickException(f"--tool-choice {tool_choice!r} is not one of the tools {names}")
        tool_choice = {"type": "function", "function": {"name": tool_choice}}
    pipe = _make_pipeline(model, heads, artifacts, steps, max_new_tokens)
    session = ChatSession(pipe, tools, functions, tool_choice, system, max_tool_rounds)
    if names:
        click.echo(f"tools: {', '.join(names)}")
    click.echo("type /reset to start over, /exit to leave")
    while True:
        line = _read("you> ")
        if line is None:
            break
        text = line.strip()
        if not text:
            continue
        if text in ("/exit", "/quit"):
            break
        if text == "/reset":
            session.reset()
            click.echo("(conversation cleared)")
            continue
        if not session.turn(text):
            break
    click.echo()
