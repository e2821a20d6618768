"""The fixed request set and the statistics of a path's latencies.

Requests: first the built-in ones on examples/tools.json-like tools, then tool examples of the dev
split (edgeagent.data.mix.build_mix().dev), taken at an even stride so a run is reproducible. Never
BFCL: its questions are the eval set. Every request asks for a call (tool_choice "required"), so
each path is timed on the same job: request in, schema-valid call out.
"""

from __future__ import annotations

import json

import numpy as np

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "City name, e.g. Paris"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Temperature unit"}},
            "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "book_table", "description": "Book a table at a restaurant",
        "parameters": {"type": "object", "properties": {
            "restaurant": {"type": "string"},
            "people": {"type": "integer", "description": "Number of guests"},
            "time": {"type": "string", "description": "Time of the booking, e.g. 7 pm"}},
            "required": ["restaurant", "people"]}}},
    {"type": "function", "function": {
        "name": "convert_currency", "description": "Convert an amount between currencies",
        "parameters": {"type": "object", "properties": {
            "amount": {"type": "number"}, "from": {"type": "string"}, "to": {"type": "string"}},
            "required": ["amount", "from", "to"]}}},
]
PROMPTS = [
    "What's the weather like in Paris right now?",
    "Book a table for 4 at Luigi's at 7 pm.",
    "How much is 250 US dollars in euros?",
    "Is it cold in Oslo? Tell me in fahrenheit.",
    "Reserve a table at Sakura for two people tonight at 8.",
    "Convert 1200 yen to British pounds.",
]


def builtin_requests() -> list[dict]:
    return [{"id": f"builtin-{i}", "messages": [{"role": "user", "content": p}], "tools": TOOLS,
             "tool_choice": "required"} for i, p in enumerate(PROMPTS)]


def dev_requests(n: int, data_dir=None, mix=None) -> list[dict]:
    """``n`` tool examples of the dev split as requests, at an even stride over the split (`mix`: a
    prebuilt edgeagent.data.mix.Mix, built from `data_dir` when None)."""
    if mix is None:
        from edgeagent.data.mix import build_mix

        mix = build_mix(data_dir)
    tool = [ex for ex in mix.dev if ex.mode == "tool" and ex.tools]
    if not tool or n <= 0:
        return []
    picks = np.linspace(0, len(tool) - 1, min(n, len(tool))).round().astype(int)
    return [{"id": f"dev-{tool[i].record_id}-{tool[i].turn}", "messages": tool[i].messages, "tools": tool[i].tools,
             "tool_choice": "required"} for i in picks]


def bench_requests(n: int, data_dir=None) -> list[dict]:
    """The first ``n`` requests: built-in ones, then dev-split ones (loaded only when needed)."""
    out = builtin_requests()[:n]
    if n > len(out):
        out += dev_requests(n - len(out), data_dir)
    return out


def latency_stats(seconds) -> dict:
    """{"n", "median_s", "p90_s", "mean_s"} with linear-interpolated percentiles (numpy's default)."""
    x = np.asarray(list(seconds), dtype=np.float64)
    if x.size == 0:
        return {"n": 0, "median_s": None, "p90_s": None, "mean_s": None}
    return {"n": int(x.size), "median_s": float(np.percentile(x, 50)), "p90_s": float(np.percentile(x, 90)),
            "mean_s": float(x.mean())}


def valid_calls(calls, tools) -> bool:
    """True when there is at least one call and every call names a tool and its arguments validate."""
    from jsonschema import Draft202012Validator

    schemas = {t.get("function", t)["name"]: t.get("function", t).get("parameters") or {} for t in tools}
    if not calls:
        return False
    for c in calls:
        fn = c.get("function", c)
        if fn.get("name") not in schemas:
            return False
        args = fn.get("arguments")
        try:
            args = json.loads(args) if isinstance(args, str) else args
        except json.JSONDecodeError:
            return False
        if not isinstance(args, dict) or any(True for _ in Draft202012Validator(schemas[fn["name"]]).iter_errors(args)):
            return False
    return True
