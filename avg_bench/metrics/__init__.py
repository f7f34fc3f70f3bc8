"""The AVG metrics, the cluster bootstrap and the summaries built from them."""

from avg_bench.metrics.bootstrap import bootstrap_means, bootstrap_medians, paired_p_value, percentile_interval, resample_weights
from avg_bench.metrics.definitions import Metric, clip_scores, geoscore, metric_table, worst_case_km
from avg_bench.metrics.summary import Summary, per_location, summarise, summarise_macro

__all__ = [
    "Metric",
    "Summary",
    "bootstrap_means",
    "bootstrap_medians",
    "clip_scores",
    "geoscore",
    "metric_table",
    "paired_p_value",
    "per_location",
    "percentile_interval",
    "resample_weights",
    "summarise",
    "summarise_macro",
    "worst_case_km",
]
