"""`edgeagent bench-scaffold`: compile + encode + decode of real tool schemas, C++ vs the Python reference.

A benchmark, not a test: it prints the median µs per operation over the (schema, arguments) pairs
taken from the tool calls in shared/data.
"""

import statistics
import time
from pathlib import Path

import click

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def load_calls(data_dir: Path, limit: int) -> list[tuple[dict, dict]]:
    """Up to `limit` (parameters schema, arguments) pairs, one per distinct tool, across the fc_* files."""
    from edgeagent.scaffold.stats import iter_calls

    pairs, seen = [], set()
    for path, name, schema, arguments in iter_calls(sorted(data_dir.glob("fc_*.jsonl.gz"))):
        if schema is not None and (path.name, name) not in seen:
            seen.add((path.name, name))
            pairs.append((schema, arguments))
    step = max(1, len(pairs) // limit)
    return pairs[::step][:limit]


def _time(fn, repeat: int) -> float:
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat * 1e6


@click.command("bench-scaffold")
@click.option("--data-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=DEFAULT_DATA,
              show_default=True, help="Folder with the fc_*.jsonl.gz files.")
@click.option("--tokenizer", "tokenizer_path", type=click.Path(exists=True, dir_okay=False),
              envvar="EDGEAGENT_TOKENIZER", help="A tokenizer.json (default: $EDGEAGENT_TOKENIZER, else a tiny one).")
@click.option("--schemas", default=200, show_default=True, help="How many distinct tool schemas.")
@click.option("--repeat", default=20, show_default=True, help="Timed repetitions per operation and schema.")
def bench_scaffold(data_dir, tokenizer_path, schemas, repeat):
    """Median µs per compile / encode / decode, C++ vs Python reference, on real tool schemas."""
    from edgeagent.scaffold import ArgumentError, SchemaError, compile_schema
    from edgeagent.scaffold.testing import tiny_tokenizer

    if tokenizer_path:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(tokenizer_path)
    else:
        tok = tiny_tokenizer()
    pairs = load_calls(data_dir, schemas)
    times = {impl: {"compile": [], "encode": [], "decode": []} for impl in ("cpp", "python")}
    skipped = 0
    for schema, args in pairs:
        try:
            scs = {impl: compile_schema(schema, tok, impl=impl) for impl in times}
            ids = scs["cpp"].encode(args)
        except (SchemaError, ArgumentError):
            skipped += 1
            continue
        for impl, sc in scs.items():
            t = times[impl]
            t["compile"].append(_time(lambda: compile_schema(schema, tok, impl=impl), repeat))
            t["encode"].append(_time(lambda: sc.encode(args), repeat))
            t["decode"].append(_time(lambda: sc.decode(ids), repeat))
    n = len(times["cpp"]["compile"])
    click.echo(f"{n} tool schemas from {data_dir} ({skipped} skipped), vocab {scs['cpp'].vocab_size}, "
               f"{repeat} repeats; median µs per op")
    click.echo("| op | C++ µs | Python µs | speed-up |\n| --- | --- | --- | --- |")
    for op in ("compile", "encode", "decode"):
        c, p = statistics.median(times["cpp"][op]), statistics.median(times["python"][op])
        click.echo(f"| {op} | {c:.1f} | {p:.1f} | {p / c:.1f}x |")
