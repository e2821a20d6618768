"""PNG plots of eval reports against a swept setting (e.g. diffusion steps T). Needs matplotlib."""

from __future__ import annotations

from pathlib import Path

SCORES = ("non_live_ast", "live", "irrelevance")
LATENCY_KEYS = ("call_s", "total_s", "harness_s")  # first one present is plotted


def _latency(report: dict) -> float | None:
    for key in LATENCY_KEYS:
        if key in report["latency"]:
            return report["latency"][key]["median"]
    return None


def plot(reports: dict[str, dict], path: str | Path, param: str = "steps") -> Path:
    """Accuracy and median latency against ``report["predictor"][param]``, one series per predictor.

    Reports whose predictor has no ``param`` (e.g. an AR baseline) are drawn as dashed horizontal
    lines. Left panel: the BFCL summary scores; right panel: median latency in seconds.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list[tuple[float, dict]]] = {}
    flat: dict[str, dict] = {}
    for name, r in reports.items():
        info = r.get("predictor", {})
        if info.get(param) is None:
            flat[name] = r
        else:
            series.setdefault(info.get("name", name), []).append((float(info[param]), r))

    fig, (ax_acc, ax_lat) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, pts in series.items():
        pts.sort(key=lambda p: p[0])
        xs = [x for x, _ in pts]
        for score in SCORES:
            ys = [r["summary"][score] for _, r in pts]
            if all(y is not None for y in ys):
                ax_acc.plot(xs, [100 * y for y in ys], marker="o", label=f"{label}: {score}")
        lat = [_latency(r) for _, r in pts]
        if all(v is not None for v in lat):
            ax_lat.plot(xs, lat, marker="o", label=label)
    for label, r in flat.items():
        for score in SCORES:
            if r["summary"][score] is not None:
                ax_acc.axhline(100 * r["summary"][score], linestyle="--", linewidth=1, label=f"{label}: {score}")
        if _latency(r) is not None:
            ax_lat.axhline(_latency(r), linestyle="--", linewidth=1, label=label)
    ax_acc.set(xlabel=param, ylabel="accuracy (%)", title="BFCL accuracy")
    ax_lat.set(xlabel=param, ylabel="median latency (s)", title="latency")
    for ax in (ax_acc, ax_lat):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    if any(r.get("oracle") for r in reports.values()):
        fig.suptitle("ORACLE predictor: harness test, not a model result", color="red")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
