"""Token-length statistics of tool-call argument values, used to choose the default slot budgets.

    python -m edgeagent.scaffold.stats ../shared/data/fc_*.jsonl.gz --tokenizer tokenizer.json

Each value is measured the way the scaffold holds it: a string slot holds the JSON-escaped inner
text (`json.dumps(s, ensure_ascii=False)[1:-1]`), a number or integer slot the JSON lexeme, and an
array contributes its item count. Values are typed by the tool's schema (property type, enum).
"""

import argparse
import gzip
import json
from collections import defaultdict

import numpy as np


def _kind(schema):
    if not isinstance(schema, dict):
        return None
    if "enum" in schema:
        return "enum"
    t = schema.get("type")
    return t if isinstance(t, str) else None


def _walk(schema, value, tokenize, out):
    kind = _kind(schema)
    if kind == "object" and isinstance(value, dict):
        props = schema.get("properties") or {}
        for key, v in value.items():
            _walk(props.get(key), v, tokenize, out)
    elif kind == "array" and isinstance(value, list):
        out["array_items"].append(len(value))
        for v in value:
            _walk(schema.get("items"), v, tokenize, out)
    elif kind == "string" and isinstance(value, str):
        out["string"].append(len(tokenize(json.dumps(value, ensure_ascii=False)[1:-1])))
    elif kind in ("integer", "number") and isinstance(value, (int, float)) and not isinstance(value, bool):
        out[kind].append(len(tokenize(json.dumps(value))))
    elif kind == "enum":
        out["enum"].append(len(tokenize(json.dumps(value, ensure_ascii=False))))


def iter_calls(paths):
    """(path, function name, parameters schema or None, arguments) of every tool call in the files."""
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                tools = {t["function"]["name"]: t["function"]["parameters"] for t in record["tools"]}
                for message in record["messages"]:
                    for call in message.get("tool_calls") or []:
                        name = call["function"]["name"]
                        yield path, name, tools.get(name), call["function"]["arguments"]


def value_stats(paths, tokenizer):
    """{kind: {"n", "p50", "p90", "p99", "max"}} of slot token lengths over all tool calls in `paths`."""
    def tokenize(text):
        return tokenizer.encode(text, add_special_tokens=False).ids

    out = defaultdict(list)
    for _, name, schema, arguments in iter_calls(paths):
        _walk(schema, arguments, tokenize, out)
    table = {}
    for kind, lengths in sorted(out.items()):
        a = np.asarray(lengths)
        table[kind] = {"n": int(a.size), "p50": float(np.percentile(a, 50)), "p90": float(np.percentile(a, 90)),
                       "p99": float(np.percentile(a, 99)), "max": int(a.max())}
    return table


def main():
    from tokenizers import Tokenizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--tokenizer", required=True, help="a tokenizer.json")
    args = parser.parse_args()
    table = value_stats(args.paths, Tokenizer.from_file(args.tokenizer))
    print("| kind | n | p50 | p90 | p99 | max |\n| --- | --- | --- | --- | --- | --- |")
    for kind, s in table.items():
        print(f"| {kind} | {s['n']} | {s['p50']:g} | {s['p90']:g} | {s['p99']:g} | {s['max']} |")


if __name__ == "__main__":
    main()
