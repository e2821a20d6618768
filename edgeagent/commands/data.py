"""`edgeagent data`: inspect the shared training data (`stats`) and the training mix (`mix`)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click


class _Progress:
    """A progress line on stderr that appears only once the work has taken over ``delay`` seconds."""

    def __init__(self, label: str, total: int, delay: float = 1.5):
        self.label, self.total, self.delay = label, total, delay
        self.done, self.start, self.last = 0, time.monotonic(), 0.0
        self.shown = False

    def update(self, n: int = 1, label: str | None = None) -> None:
        self.done += n
        if label:
            self.label = label
        now = time.monotonic()
        if now - self.start < self.delay or now - self.last < 0.1:
            return
        self.last, self.shown = now, True
        frac = min(1.0, self.done / max(1, self.total))
        bar = "#" * int(30 * frac)
        click.echo(f"\r{self.label:<20} [{bar:<30}] {self.done}/{self.total}", nl=False, err=True)

    def close(self) -> None:
        if self.shown:
            click.echo("", err=True)


def _tokenizer(spec: str | None):
    """(tokenizer or None, description). ``spec``: a tokenizer.json, a folder holding one, or a
    model id of the registry; None: the registry's default model, if it is in the cache."""
    from tokenizers import Tokenizer

    path = None
    if spec is not None:
        p = Path(spec).expanduser()
        if p.is_file():
            path = p
        elif (p / "tokenizer.json").is_file():
            path = p / "tokenizer.json"
    if path is None:
        try:
            from edgeagent.models import registry

            folder = registry.resolve(spec) if spec is not None else registry.resolve()
            path = folder / "tokenizer.json"
        except Exception as e:  # the registry says why (not cached, unknown id)
            if spec is not None:
                raise click.ClickException(f"--tokenizer {spec}: not a tokenizer.json, a folder with one, "
                                           f"or a cached model id ({e})") from None
            return None, f"none ({e}); pass --tokenizer PATH"
    if not path.is_file():
        raise click.ClickException(f"{path} does not exist")
    return Tokenizer.from_file(str(path)), str(path)


@click.group()
def data():
    """Inspect the training data (shared/data, see its MANIFEST.md)."""


_data_dir = click.option("--data-dir", type=click.Path(file_okay=False), envvar="EDGEAGENT_DATA",
                         help="The shared data folder [env EDGEAGENT_DATA; default: shared/data above the repo].")


@data.command()
@_data_dir
@click.option("--tokenizer", "tokenizer_spec", default=None,
              help="tokenizer.json, a folder with one, or a model id (default: the registry's default model).")
@click.option("--dataset", "datasets", multiple=True, help="Only this dataset (repeatable), e.g. sgd, glaive_en.")
@click.option("--dev-fraction", type=float, default=None, help="Share of records in dev (default 0.05).")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
def stats(data_dir, tokenizer_spec, datasets, dev_fraction, as_json):
    """Counts per dataset, split and mode; tools per record; calls per turn; argument types and
    value lengths in tokens. Bad records are skipped and listed."""
    from edgeagent.data.records import data_files, load
    from edgeagent.data.split import DEV_FRACTION
    from edgeagent.data.stats import compute_stats, format_stats

    try:
        files = data_files(data_dir)
        tok, tok_desc = _tokenizer(tokenizer_spec)
        bar = _Progress("loading", len(datasets or files))
        loaded = load(data_dir, datasets=datasets or None, progress=lambda name: bar.update(1, f"loading {name}"))
    except FileNotFoundError as e:
        raise click.ClickException(str(e)) from None
    n = sum(len(v) for v in loaded.records.values())
    bar.total, bar.done, bar.label = bar.total + n, bar.total, "statistics"
    result = compute_stats(loaded.records, tok, DEV_FRACTION if dev_fraction is None else dev_fraction,
                           progress=bar.update)
    bar.close()
    result["tokenizer"] = tok_desc
    result["data_dir"] = str(Path(next(iter(files.values()))).parent) if files else None
    result["skipped"] = [str(s) for s in loaded.skipped]
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    click.echo(format_stats(result))
    click.echo(f"skipped records: {len(loaded.skipped)}")
    for s in loaded.skipped[:20]:
        click.echo(f"  {s}", err=True)
    if len(loaded.skipped) > 20:
        click.echo(f"  ... {len(loaded.skipped) - 20} more (see --json)", err=True)


@data.command()
@_data_dir
@click.option("--seed", type=int, default=0)
@click.option("--no-sgd", is_flag=True, help="Leave out both SGD files (the BFCL-live ablation arm).")
@click.option("--sgd-dialogues", type=int, default=None, help="Train-side SGD dialogues kept (default 4000).")
@click.option("--replay-share", type=float, default=None, help="Replay examples / all train examples (default 0.25).")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the train and dev examples as JSONL here (<out>.train.jsonl, <out>.dev.jsonl) with mix.json.")
def mix(data_dir, seed, no_sgd, sgd_dialogues, replay_share, out):
    """Build the training mix and print its report (per-source and per-mode counts) as JSON."""
    from edgeagent.data.mix import MixConfig, build_mix

    cfg = MixConfig(seed=seed, include_sgd=not no_sgd)
    if sgd_dialogues is not None:
        cfg.sgd_dialogues = sgd_dialogues
    if replay_share is not None:
        cfg.replay_share = replay_share
    try:
        result = build_mix(data_dir, cfg)
    except (FileNotFoundError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    if out is not None:
        base = Path(out)
        for side, examples in (("train", result.train), ("dev", result.dev)):
            with open(f"{base}.{side}.jsonl", "w", encoding="utf-8") as f:
                for ex in examples:
                    f.write(json.dumps(ex.to_dict(), ensure_ascii=False) + "\n")
        Path(f"{base}.mix.json").write_text(json.dumps(result.report, indent=2) + "\n")
    json.dump(result.report, sys.stdout, indent=2)
    click.echo()
