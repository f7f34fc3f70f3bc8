"""AVG-Bench: the reference toolkit for audiovisual geolocation.

>>> import avg_bench
>>> print(avg_bench.PREDICTION_FORMAT.splitlines()[1])
  {"clip_id": "avg1-000123", "lat": 48.8566, "lon": 2.3522}
"""

from avg_bench._version import __version__
from avg_bench.errors import AvgBenchError
from avg_bench.evaluation import evaluate
from avg_bench.labels import Labels, labels_from_records, load_labels
from avg_bench.predictions import PREDICTION_FORMAT, read_predictions
from avg_bench.results import Results
from avg_bench.spec import AVG_V1, BenchmarkSpec

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
