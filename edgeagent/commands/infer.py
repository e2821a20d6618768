"""`edgeagent run` and `edgeagent infer`: the routed pipeline from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

BACKENDS = ("torch", "onnx")


def _backend_options(f):
    f = click.option("--model", default="smollm2-135m", show_default=True,
                     help="Trunk: a model id or a local checkpoint.")(f)
    f = click.option("--heads", type=click.Path(path_type=Path), default=None,
                     help="Trained heads dir (default: the ones shipped for --model).")(f)
    f = click.option("--artifacts", type=click.Path(path_type=Path), default=None,
                     help="An exported artifact folder: run on ONNX Runtime instead of PyTorch.")(f)
    f = click.option("--steps", type=int, default=1, show_default=True,
                     help="Diffusion steps T (1, 2 and 4 tie on the dev split).")(f)
    f = click.option("--max-new-tokens", type=int, default=256, show_default=True)(f)
    return f


def make_pipeline(model, heads, artifacts, steps, max_new_tokens):
    from edgeagent.runtime.pipeline import Pipeline, PipelineConfig

    cfg = PipelineConfig(steps=steps, max_new_tokens=max_new_tokens)
    if artifacts is not None:
        try:
            from edgeagent.runtime.ort_backend import OrtBackend
        except ImportError as e:
            raise click.ClickException(f"the ONNX Runtime backend is not available: {e}") from None
        return Pipeline(OrtBackend(artifacts), cfg)
    try:
        from edgeagent.export.torch_backend import TorchBackend
    except ImportError as e:
        raise click.ClickException(f"the PyTorch backend needs the train extra (pip install 'edgeagent[train]'): {e}")
    try:
        return Pipeline(TorchBackend(model, heads), cfg)
    except FileNotFoundError as e:
        raise click.ClickException(str(e)) from None


def _load_tools(path):
    if path is None:
        return []
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise click.ClickException(f"{path}: cannot read the tools JSON ({e})") from None
    if isinstance(data, dict) and "tools" in data:
        data = data["tools"]
    if not isinstance(data, list):
        raise click.ClickException(f"{path}: expected a JSON list of tools (OpenAI format)")
    return data


@click.command("run")
@click.argument("prompt")
@click.option("--tools", "tools_path", type=click.Path(exists=True, path_type=Path), default=None,
              help="A JSON file with a list of OpenAI-format tools.")
@click.option("--tool-choice", default="auto", show_default=True, help="auto, none, required, or a function name.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole response as JSON.")
@_backend_options
def run(prompt, tools_path, tool_choice, as_json, model, heads, artifacts, steps, max_new_tokens):
    """Answer one PROMPT: print the answer, or the tool calls as JSON."""
    from edgeagent.runtime.pipeline import RequestError

    tools = _load_tools(tools_path)
    if tool_choice not in ("auto", "none", "required"):
        tool_choice = {"type": "function", "function": {"name": tool_choice}}
    pipe = make_pipeline(model, heads, artifacts, steps, max_new_tokens)
    request = {"id": "run", "messages": [{"role": "user", "content": prompt}], "tools": tools,
               "tool_choice": tool_choice}
    try:
        resp = pipe.respond(request)
    except RequestError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(resp, ensure_ascii=False, indent=2))
    elif resp["mode"] == "tool":
        calls = [{"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])}
                 for c in resp["tool_calls"]]
        click.echo(json.dumps(calls, ensure_ascii=False, indent=2))
        for e in resp.get("errors", []):
            click.echo(f"error: {e}", err=True)
    else:
        click.echo(resp["content"])


@click.command("infer")
@click.option("--input", "input_path", type=click.Path(exists=True, path_type=Path), required=True,
              help="requests.jsonl: one {id, messages, tools, tool_choice?} per line.")
@click.option("--output", "output_path", type=click.Path(path_type=Path), required=True,
              help="responses.jsonl: one {id, mode, content, tool_calls, timings} per line.")
@_backend_options
def infer(input_path, output_path, model, heads, artifacts, steps, max_new_tokens):
    """Batch inference over a JSONL file. A bad request gets an error record; the batch goes on."""
    from edgeagent.runtime.pipeline import RequestError

    pipe = make_pipeline(model, heads, artifacts, steps, max_new_tokens)
    lines = input_path.read_text(encoding="utf-8").splitlines()
    n_err = 0
    tmp = output_path.with_suffix(output_path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as out, click.progressbar(lines, label="infer", file=sys.stderr) as bar:
        for i, line in enumerate(bar):
            if not line.strip():
                continue
            rid = None
            try:
                req = json.loads(line)
                rid = req.get("id") if isinstance(req, dict) else None
                resp = pipe.respond(req)
            except json.JSONDecodeError as e:
                resp = {"id": None, "error": {"field": f"line {i + 1}", "message": f"not valid JSON: {e.msg}"}}
            except RequestError as e:
                resp = {"id": rid, "error": {"field": e.field, "message": e.reason}}
            except Exception as e:  # one request must never take the batch down
                resp = {"id": rid, "error": {"field": "request", "message": f"{type(e).__name__}: {e}"}}
            n_err += "error" in resp
            out.write(json.dumps(resp, ensure_ascii=False) + "\n")
    tmp.replace(output_path)
    click.echo(f"{len(lines)} requests, {n_err} errors -> {output_path}", err=True)
