"""One path of the bench in its own process, so its peak RSS is its own.

    python -m edgeagent.bench.worker SPEC.json OUT.json

SPEC: {"kind": "pipeline", "artifact": DIR, "decoder": "diffusion"|"ar", "requests": FILE, "warmup": N,
"threads": N|null, "decode_tokens": N} or {"kind": "llama_cpp", "gguf": FILE, "grammar": bool, ...}.
OUT: per-request latencies and validity, prefill and decode tok/s, load time, peak RSS (MB).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import numpy as np

from .latency import latency_stats, valid_calls


def peak_rss_mb() -> float:
    """This process's peak resident set size (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _trunk_decode_rate(backend, prompt_ids, n: int) -> float:
    """Greedy single-token steps of the trunk after a prompt, as the pipeline makes them: tokens/s."""
    cache = backend.new_cache()
    logits, _, cache = backend.prefill(np.asarray(prompt_ids, np.int64), cache)
    t0 = time.perf_counter()
    for _ in range(n):
        logits, _, cache = backend.prefill(np.asarray([int(np.argmax(logits))], np.int64), cache)
    return n / (time.perf_counter() - t0)


def run_pipeline(spec: dict, requests: list[dict]) -> dict:
    from edgeagent.runtime.ort_backend import OrtBackend
    from edgeagent.runtime.pipeline import Pipeline, PipelineConfig, RequestError

    t0 = time.perf_counter()
    backend = OrtBackend(spec["artifact"], threads=spec.get("threads"))
    pipe = Pipeline(backend, PipelineConfig(args_decoder=spec.get("decoder", "diffusion")))
    load_s = time.perf_counter() - t0
    for r in requests[:spec.get("warmup", 1)]:
        try:
            pipe.respond(r)
        except RequestError:
            pass
    rows, prompt_tokens, prefill_s = [], 0, 0.0
    for r in requests:
        t = time.perf_counter()
        try:
            resp = pipe.respond(r)
            err = "; ".join(str(e) for e in resp.get("errors", [])) or None
        except RequestError as e:
            resp, err = {"tool_calls": [], "timings": {}}, str(e)
        dt = time.perf_counter() - t
        tm = resp["timings"]
        prompt_tokens += tm.get("prompt_tokens", 0)
        prefill_s += tm.get("prefill_s", 0.0)
        rows.append({"id": r.get("id"), "latency_s": dt, "valid": valid_calls(resp["tool_calls"], r["tools"]),
                     "calls": [c["function"] for c in resp["tool_calls"]], "error": err})
    ids = pipe.tokenize("Write a short note about the weather in Paris.")
    decode = _trunk_decode_rate(backend, ids, spec.get("decode_tokens", 32))
    return {"load_s": load_s, "requests": rows, "prefill_tok_s": prompt_tokens / prefill_s if prefill_s else None,
            "decode_tok_s": decode}


def _llama_messages(request: dict) -> list[dict]:
    """The request as plain chat messages for llama.cpp: tools listed in a system message, calls as JSON text."""
    tools = [t.get("function", t) for t in request["tools"]]
    system = ("You can call these functions. Answer with one JSON object "
              '{"name": <function name>, "arguments": {...}}.\n' + json.dumps(tools, ensure_ascii=False))
    out = [{"role": "system", "content": system}]
    for m in request["messages"]:
        content = m.get("content") or ""
        if m.get("tool_calls"):
            content = json.dumps([c.get("function", c) for c in m["tool_calls"]], ensure_ascii=False)
        role = m.get("role") if m.get("role") in ("system", "user", "assistant") else "user"
        out.append({"role": role, "content": content if isinstance(content, str) else json.dumps(content)})
    return out


def _call_schema(request: dict) -> dict:
    """A JSON Schema that only a valid call satisfies: one of {name: const, arguments: the tool's schema}."""
    return {"anyOf": [{"type": "object", "properties": {"name": {"const": t.get("function", t)["name"]},
                                                         "arguments": t.get("function", t).get("parameters") or {}},
                       "required": ["name", "arguments"]} for t in request["tools"]]}


def run_llama_cpp(spec: dict, requests: list[dict]) -> dict:
    from llama_cpp import Llama, LlamaGrammar

    t0 = time.perf_counter()
    # llama-cpp-python's default is half the cores; ONNX Runtime's is all of them: same for both here.
    threads = spec.get("threads") or os.cpu_count() or 1
    llm = Llama(model_path=spec["gguf"], n_ctx=4096, verbose=False, n_threads=threads, n_threads_batch=threads)
    load_s = time.perf_counter() - t0

    def one(r):
        grammar = LlamaGrammar.from_json_schema(json.dumps(_call_schema(r)), verbose=False) if spec["grammar"] else None
        t = time.perf_counter()
        first, pieces = None, []
        for chunk in llm.create_chat_completion(_llama_messages(r), grammar=grammar, max_tokens=256,
                                                temperature=0.0, stream=True):
            piece = chunk["choices"][0]["delta"].get("content")
            if piece:
                first = first or time.perf_counter()
                pieces.append(piece)
        end = time.perf_counter()
        return "".join(pieces), t, first or end, end

    for r in requests[:spec.get("warmup", 1)]:
        one(r)
    rows, prompt_tokens, prefill_s, dec_tokens, dec_s = [], 0, 0.0, 0, 0.0
    for r in requests:
        text, t, first, end = one(r)
        n_prompt = len(llm.tokenize(json.dumps(_llama_messages(r)).encode()))  # approximate: template tokens aside
        n_out = len(llm.tokenize(text.encode(), add_bos=False))
        prompt_tokens, prefill_s = prompt_tokens + n_prompt, prefill_s + (first - t)
        dec_tokens, dec_s = dec_tokens + max(n_out - 1, 0), dec_s + (end - first)
        try:
            obj = json.loads(text)
            calls = [{"name": obj.get("name"), "arguments": obj.get("arguments")}] if isinstance(obj, dict) else []
        except json.JSONDecodeError:
            calls = []
        rows.append({"id": r.get("id"), "latency_s": end - t, "valid": valid_calls(calls, r["tools"]),
                     "calls": calls, "error": None if calls else f"not a JSON call: {text[:80]!r}"})
    return {"load_s": load_s, "requests": rows, "prefill_tok_s": prompt_tokens / prefill_s if prefill_s else None,
            "decode_tok_s": dec_tokens / dec_s if dec_s else None}


def run(spec: dict) -> dict:
    requests = [json.loads(line) for line in open(spec["requests"], encoding="utf-8") if line.strip()]
    result = run_llama_cpp(spec, requests) if spec["kind"] == "llama_cpp" else run_pipeline(spec, requests)
    lat = [r["latency_s"] for r in result["requests"]]
    result.update(latency=latency_stats(lat), valid=sum(r["valid"] for r in result["requests"]),
                  peak_rss_mb=peak_rss_mb())
    return result


def main(argv) -> None:
    spec_path, out_path = argv
    spec = json.loads(open(spec_path, encoding="utf-8").read())
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(run(spec), f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
