"""The bench's outputs: a Markdown table, bench.json and two PNG plots (matplotlib, Agg)."""

from __future__ import annotations

import json
from pathlib import Path

from .bandwidth import decode_limit


def _f(x, fmt="{:.1f}"):
    return "–" if x is None else fmt.format(x)


def rows(result: dict) -> list[dict]:
    """One flat row per path, with the decode limit and the share of it (from bench.json's layout)."""
    bw = result["bandwidth_gbs"]["used"]
    out = []
    for p in result["paths"]:
        row = {"path": p["name"], "status": p.get("status", "ok")}
        if row["status"] == "ok":
            lat = p["latency"]
            limit = decode_limit(bw, p["weight_bytes"]) if p.get("weight_bytes") else None
            row.update(median_s=lat["median_s"], p90_s=lat["p90_s"], valid=f"{p['valid']}/{lat['n']}",
                       prefill=p.get("prefill_tok_s"), decode=p.get("decode_tok_s"), limit=limit,
                       share=(p["decode_tok_s"] / limit) if limit and p.get("decode_tok_s") else None,
                       weights_mb=p.get("weight_bytes", 0) / 1e6, rss=p.get("peak_rss_mb"))
        out.append(row)
    return out


def markdown(result: dict) -> str:
    bw = result["bandwidth_gbs"]
    head = (f"Memory bandwidth (numpy copy, best of {bw['repeats']}): {bw['single']:.1f} GB/s one thread, "
            f"{bw['multi']:.1f} GB/s {bw['threads']} threads; limit uses {bw['used']:.1f} GB/s. "
            f"{result['n_requests']} requests, {result['warmup']} warm-up, threads={result['threads'] or 'default'}.\n"
            "Decode limit = bandwidth / weight bytes per token (the trunk file's size; tied embedding = LM head, "
            "all rows read).\n\n")
    lines = ["| path | median s | p90 s | valid calls | prefill tok/s | decode tok/s | limit tok/s | share | "
             "weights MB | peak RSS MB |", "|" + " --- |" * 10]
    for r in rows(result):
        if r["status"] != "ok":
            lines.append(f"| {r['path']} | {r['status']} |" + " |" * 8)
            continue
        lines.append(f"| {r['path']} | {_f(r['median_s'], '{:.3f}')} | {_f(r['p90_s'], '{:.3f}')} | {r['valid']} | "
                     f"{_f(r['prefill'])} | {_f(r['decode'])} | {_f(r['limit'])} | {_f(r['share'], '{:.0%}')} | "
                     f"{_f(r['weights_mb'], '{:.0f}')} | {_f(r['rss'], '{:.0f}')} |")
    return head + "\n".join(lines) + "\n"


def plots(result: dict, out: Path) -> list[Path]:
    """latency.png (median and p90 per path) and decode.png (decode tok/s against the bandwidth limit)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows(result) if r["status"] == "ok"]
    written = []
    if not ok:
        return written
    names = [r["path"] for r in ok]
    x = range(len(ok))
    fig, ax = plt.subplots(figsize=(1.6 * len(ok) + 2, 3.5))
    ax.bar([i - 0.2 for i in x], [r["median_s"] for r in ok], 0.4, label="median")
    ax.bar([i + 0.2 for i in x], [r["p90_s"] for r in ok], 0.4, label="p90")
    ax.set_xticks(list(x), names, rotation=20, ha="right")
    ax.set_ylabel("request → valid call (s)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=100)
    written.append(out / "latency.png")
    fig, ax = plt.subplots(figsize=(1.6 * len(ok) + 2, 3.5))
    ax.bar([i - 0.2 for i in x], [r["decode"] or 0 for r in ok], 0.4, label="decode tok/s")
    ax.bar([i + 0.2 for i in x], [r["limit"] or 0 for r in ok], 0.4, label="bandwidth limit tok/s")
    ax.set_xticks(list(x), names, rotation=20, ha="right")
    ax.set_ylabel("tokens/s")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "decode.png", dpi=100)
    plt.close("all")
    written.append(out / "decode.png")
    return written


def write(result: dict, out: Path) -> str:
    """Write bench.md, bench.json and the plots into ``out``; return the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    md = markdown(result)
    (out / "bench.md").write_text(md, encoding="utf-8")
    (out / "bench.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    plots(result, out)
    return md
