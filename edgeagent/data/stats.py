"""Statistics of the data: what the heads will see (``edgeagent data stats``).

Counts per dataset, split and mode; tools per record; calls per tool turn; argument value types
(from the values and from the schemas) and value lengths in tokens per type. Value lengths are
what the scaffold's slot budgets must cover, so they are measured with the trunk's tokenizer on
the value as written inside its slot (a string without quotes, anything else as compact JSON).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict

from .examples import MODES, expand, record_mode
from .records import dataset_of
from .split import DEV_FRACTION, split_of

VALUE_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")


def value_type(value) -> str:
    """JSON type of a Python value decoded from JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def schema_type(prop: dict | None) -> str:
    """The declared kind of a property schema: its type (``a|b`` for a list), ``enum`` when it is
    an enum, ``any`` when it says nothing."""
    if not isinstance(prop, dict):
        return "any"
    if "enum" in prop:
        return "enum"
    t = prop.get("type")
    if isinstance(t, list):
        return "|".join(sorted(t))
    return t or "any"


def summary(values) -> dict:
    """mean / p50 / p90 / p99 / max of numbers (nearest-rank percentiles); zeros for none."""
    xs = sorted(values)
    if not xs:
        return {"n": 0, "mean": 0.0, "p50": 0, "p90": 0, "p99": 0, "max": 0}

    def pct(p):
        return xs[max(0, math.ceil(p / 100 * len(xs)) - 1)]

    return {"n": len(xs), "mean": round(sum(xs) / len(xs), 3), "p50": pct(50), "p90": pct(90),
            "p99": pct(99), "max": xs[-1]}


def slot_text(value) -> str:
    """A value as written inside its slot: a string's characters, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def compute_stats(records_by_dataset: dict[str, list[dict]], tokenizer=None, dev_fraction: float = DEV_FRACTION,
                  progress=None) -> dict:
    """Statistics of ``{dataset: records}``.

    ``tokenizer``: anything with ``encode_batch(list[str])`` returning objects with ``.ids``
    (a ``tokenizers.Tokenizer``); None leaves out the token lengths. ``progress``, if given, is
    called with the number of records done since the last call.
    """
    counts: dict = {}
    tools_per_record: dict[str, list[int]] = defaultdict(list)
    calls_per_turn: dict[str, list[int]] = defaultdict(list)
    value_types: Counter = Counter()
    declared: Counter = Counter()
    pairs: Counter = Counter()
    texts: dict[str, list[str]] = defaultdict(list)

    for name, records in records_by_dataset.items():
        row = {side: {"records": 0, "examples": 0, "records_by_mode": Counter(), "examples_by_mode": Counter()}
               for side in ("train", "dev")}
        for rec in records:
            side = row[split_of(rec, dev_fraction)]
            side["records"] += 1
            side["records_by_mode"][record_mode(rec)] += 1
            for ex in expand(rec):
                side["examples"] += 1
                side["examples_by_mode"][ex.mode] += 1
            if rec["tools"]:
                tools_per_record[name].append(len(rec["tools"]))
            schemas = {t["function"]["name"]: t["function"]["parameters"] for t in rec["tools"]}
            for m in rec["messages"]:
                calls = m.get("tool_calls") or []
                if m["role"] != "assistant" or not calls:
                    continue
                calls_per_turn[name].append(len(calls))
                for call in calls:
                    props = schemas[call["function"]["name"]].get("properties", {})
                    for arg, value in call["function"]["arguments"].items():
                        vt, st = value_type(value), schema_type(props.get(arg))
                        value_types[vt] += 1
                        declared[st] += 1
                        pairs[f"{st}->{vt}"] += 1
                        texts[vt].append(slot_text(value))
            if progress is not None:
                progress(1)
        for side in row.values():
            side["records_by_mode"] = {m: side["records_by_mode"].get(m, 0) for m in MODES}
            side["examples_by_mode"] = {m: side["examples_by_mode"].get(m, 0) for m in MODES}
        counts[name] = row

    total = {side: {"records": sum(c[side]["records"] for c in counts.values()),
                    "examples": sum(c[side]["examples"] for c in counts.values()),
                    "examples_by_mode": {m: sum(c[side]["examples_by_mode"][m] for c in counts.values()) for m in MODES}}
             for side in ("train", "dev")}
    all_tools = [n for v in tools_per_record.values() for n in v]
    all_calls = [n for v in calls_per_turn.values() for n in v]
    out = {
        "counts": counts,
        "total": total,
        "tools_per_record": {"all": summary(all_tools), **{d: summary(v) for d, v in tools_per_record.items()}},
        "calls_per_tool_turn": {"all": summary(all_calls), "histogram": dict(sorted(Counter(all_calls).items())),
                                **{d: summary(v) for d, v in calls_per_turn.items()}},
        "argument_types": {"values": {t: value_types.get(t, 0) for t in VALUE_TYPES},
                           "schemas": dict(declared.most_common()),
                           "schema_to_value": dict(pairs.most_common())},
    }
    if tokenizer is not None:
        out["value_tokens"] = {t: summary(len(e.ids) for e in tokenizer.encode_batch(texts[t], add_special_tokens=False))
                               for t in VALUE_TYPES if texts.get(t)}
    return out


def dataset_rows(stats: dict) -> list[tuple]:
    """(dataset, train records, dev records, train examples chat/think/tool, dev examples) rows."""
    rows = []
    for name, c in stats["counts"].items():
        tr, dv = c["train"], c["dev"]
        rows.append((name, tr["records"], dv["records"], *(tr["examples_by_mode"][m] for m in MODES), dv["examples"]))
    return rows


def format_stats(stats: dict) -> str:
    """A short human-readable report."""
    lines = [f"{'dataset':<12}{'train':>8}{'dev':>7}   examples(train) {'chat':>7}{'think':>7}{'tool':>7}  {'dev ex':>7}"]
    for name, tr, dv, chat, think, tool, dev_ex in dataset_rows(stats):
        lines.append(f"{name:<12}{tr:>8}{dv:>7}   {'':15} {chat:>7}{think:>7}{tool:>7}  {dev_ex:>7}")
    t = stats["total"]
    lines.append(f"{'total':<12}{t['train']['records']:>8}{t['dev']['records']:>7}   {'':15} "
                 + "".join(f"{t['train']['examples_by_mode'][m]:>7}" for m in MODES) + f"  {t['dev']['examples']:>7}")

    def fmt(s):
        return f"mean {s['mean']:.2f}  p50 {s['p50']}  p90 {s['p90']}  max {s['max']}  (n={s['n']})"

    lines.append("")
    lines.append("tools per record       " + fmt(stats["tools_per_record"]["all"]))
    lines.append("calls per tool turn    " + fmt(stats["calls_per_tool_turn"]["all"])
                 + "  histogram " + json.dumps(stats["calls_per_tool_turn"]["histogram"]))
    lines.append("argument value types   " + "  ".join(f"{k} {v}" for k, v in stats["argument_types"]["values"].items()))
    lines.append("schema types           " + "  ".join(f"{k} {v}" for k, v in stats["argument_types"]["schemas"].items()))
    if "value_tokens" in stats:
        lines.append(f"value tokens ({stats.get('tokenizer', '?')}):")
        for t, s in stats["value_tokens"].items():
            lines.append(f"  {t:<9} p50 {s['p50']:>3}  p90 {s['p90']:>3}  p99 {s['p99']:>4}  max {s['max']:>5}  (n={s['n']})")
    else:
        lines.append("value tokens: no tokenizer (pass --tokenizer PATH)")
    return "\n".join(lines)


__all__ = ["compute_stats", "format_stats", "summary", "value_type", "schema_type", "slot_text", "dataset_of"]
