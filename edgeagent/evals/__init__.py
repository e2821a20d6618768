"""Evaluation harness: BFCL function-calling accuracy, call structure and latency.

BFCL is the benchmark only. Nothing under train/ may import this package or read BFCL data.

    from edgeagent.evals import evaluate, get_predictor, write_report
    report = evaluate(get_predictor("no-call"), categories=["irrelevance"], limit=20)
"""

from .harness import evaluate, markdown, write_report
from .predictors import get_predictor

__all__ = ["evaluate", "get_predictor", "markdown", "write_report", "plot"]


def plot(reports, path, param="steps"):
    """See :func:`edgeagent.evals.plots.plot` (imports matplotlib only when called)."""
    from .plots import plot as _plot

    return _plot(reports, path, param=param)
