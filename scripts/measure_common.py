"""What the measure_*.py scripts share: the training split they read (glaive en, Seal-Tools, SGD),
a walk over its calls' values with the user's words before each call, and the command line that
prints a script's counts."""

from __future__ import annotations

import argparse
from collections import Counter

from edgeagent.data.records import load
from edgeagent.data.split import split_records

DATASETS = ["glaive_en", "sealtools", "sgd"]


def training_split(data: str | None = None) -> list[dict]:
    """The records the heads train on, the dev split held out."""
    return split_records(load(data, datasets=DATASETS).all())[0]


def call_values(records):
    """(record, said, call, key, value) for each top-level argument of each call: ``said`` is the
    user's messages before the call, each after a line "user" ("user\\nfirst\\nuser\\nsecond\\n"),
    so a message's first word opens a line."""
    for rec in records:
        said = ""
        for m in rec["messages"]:
            if m.get("role") == "user" and isinstance(m.get("content"), str):
                said += "user\n" + m["content"] + "\n"
            for call in m.get("tool_calls") or []:
                for key, value in call["function"]["arguments"].items():
                    yield rec, said, call, key, value


def first_requests(records):
    """(record, request, [(name, arguments)]) for each record whose first user message is answered
    with calls: that message, and the calls before the next user message."""
    for rec in records:
        request, calls = None, []
        for m in rec["messages"]:
            if m.get("role") == "user":
                if request is not None:
                    break
                request = m.get("content") if isinstance(m.get("content"), str) else ""
            elif request is not None:
                calls += [(c["function"]["name"], c["function"]["arguments"]) for c in m.get("tool_calls") or []]
        if request and calls:
            yield rec, request, calls


def schema_calls(records):
    """(record, request, schema, arguments) for each call: ``request`` is the latest user message
    before the call, ``schema`` the called tool's parameters ({} where the record lists no such
    tool)."""
    for rec in records:
        schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in rec.get("tools") or []}
        request = ""
        for m in rec["messages"]:
            if m.get("role") == "user" and isinstance(m.get("content"), str):
                request = m["content"]
            for call in m.get("tool_calls") or []:
                yield rec, request, schemas.get(call["function"]["name"]) or {}, call["function"]["arguments"]


def run(doc: str, measure, verbose_help: str) -> None:
    """The command line of a measure script: ``measure(records, verbose)`` -> Counter of
    (dataset, what) or what; prints one count a line."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--data", default=None, help="the data folder (default: ../shared/data, as train finds it)")
    ap.add_argument("-v", "--verbose", action="store_true", help=verbose_help)
    a = ap.parse_args()
    counts: Counter = measure(training_split(a.data), a.verbose)
    rows = [(key if isinstance(key, tuple) else (key,), n) for key, n in sorted(counts.items())]
    widths = [max(len(str(key[i])) for key, _ in rows) for i in range(max((len(k) for k, _ in rows), default=0))]
    for key, n in rows:
        print("  ".join(f"{part!s:{w}}" for part, w in zip(key, widths)) + f"  {n}")
