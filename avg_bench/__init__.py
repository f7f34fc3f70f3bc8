"""AVG-Bench: the reference toolkit for audiovisual geolocation.

The public names below load on first use (PEP 562), so ``import avg_bench`` and the CLI's start
pay for numpy and the scorer only when they score.

>>> import avg_bench
>>> print(avg_bench.PREDICTION_FORMAT.splitlines()[1])
  {"clip_id": "avg1-000123", "lat": 48.8566, "lon": 2.3522}
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from avg_bench._version import __version__
from avg_bench.errors import AvgBenchError

if TYPE_CHECKING:
    from avg_bench.evaluation import evaluate
    from avg_bench.labels import Labels, labels_from_records, load_labels
    from avg_bench.predictions import PREDICTION_FORMAT, read_predictions
    from avg_bench.results import Results
    from avg_bench.spec import AVG_V1, BenchmarkSpec

#: Public name -> the module that defines it.
_LAZY = {
    "evaluate": "avg_bench.evaluation",
    "Labels": "avg_bench.labels",
    "labels_from_records": "avg_bench.labels",
    "load_labels": "avg_bench.labels",
    "PREDICTION_FORMAT": "avg_bench.predictions",
    "read_predictions": "avg_bench.predictions",
    "Results": "avg_bench.results",
    "AVG_V1": "avg_bench.spec",
    "BenchmarkSpec": "avg_bench.spec",
}

__all__ = [
    "AVG_V1",
    "AvgBenchError",
    "BenchmarkSpec",
    "Labels",
    "PREDICTION_FORMAT",
    "Results",
    "__version__",
    "evaluate",
    "labels_from_records",
    "load_labels",
    "read_predictions",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use and keep it here."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, loaded or not (for completion and ``help``)."""
    return sorted(set(globals()) | set(__all__))
