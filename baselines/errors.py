"""User errors of the baselines: bad options, unusable inputs, predicting before fitting.

Each derives from :class:`~avg_bench.errors.AvgBenchError`, so the CLI prints one ``error:`` line
and exits 2 instead of a traceback; each also keeps the builtin it replaced (``ValueError``,
``RuntimeError``) so library callers that caught those still do.
"""

from __future__ import annotations

from avg_bench.errors import AvgBenchError


class BaselineInputError(AvgBenchError, ValueError):
    """An option or input a baseline cannot use; the message names it and what it must be."""


class NotFittedError(AvgBenchError, RuntimeError):
    """``predict`` (or a query) before ``fit``: the baseline has nothing to predict from."""
