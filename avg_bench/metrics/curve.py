"""Accuracy as a function of the distance threshold, with cluster-bootstrap bands.

The five AVG accuracies are five points of one curve: the share of clips with ``d <= r``. The
curve is one more block of mean-type columns (one per radius), so the same ``(B, L)`` resample
weights that give the headline CIs give the bands, in one matrix product, and at the five
thresholds the curve equals the headline accuracies exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from avg_bench.metrics.bootstrap import Resamples, bootstrap_means, percentile_interval


def accuracy_curve(
    distance_km: NDArray[np.float64],
    radii_km: Sequence[float],
    cluster: NDArray[np.intp],
    weights: NDArray[np.int32] | Resamples | None,
    confidence: float,
) -> dict[str, list[float] | list[None]]:
    """``{"thresholds_km", "accuracy", "ci_low", "ci_high"}``: the hit rate at every radius.

    >>> d = np.array([0.5, 30.0, 900.0, 5000.0]); cluster = np.array([0, 0, 1, 1])
    >>> accuracy_curve(d, [1.0, 25.0, 1000.0], cluster, None, 0.95)["accuracy"]
    [0.25, 0.25, 0.75]
    """
    radii = np.asarray(radii_km, dtype=np.float64)
    hits = (distance_km[:, None] <= radii[None, :]).astype(np.float64)
    curve: dict[str, list] = {"thresholds_km": radii.tolist(), "accuracy": hits.mean(axis=0).tolist()}
    if weights is None:
        curve["ci_low"] = curve["ci_high"] = [None] * len(radii)
        return curve
    low, high = percentile_interval(bootstrap_means(hits, cluster, weights), confidence)
    curve["ci_low"], curve["ci_high"] = low.tolist(), high.tolist()
    return curve
