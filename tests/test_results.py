"""Results files: provenance, strict JSON, round trips, and every past schema still loads."""

import json
from pathlib import Path

import pytest
from helpers import make_labels, predictions_at

import avg_bench
from avg_bench.errors import AvgBenchError
from avg_bench.results import SCHEMA_VERSION, Results

FIXTURES = Path(__file__).parent / "data" / "results"


def test_results_json_has_provenance_and_settings(tmp_path):
    labels = make_labels(2)
    results = avg_bench.evaluate(predictions_at(labels, 30.0), labels, bootstrap=50, seed=9, split="val", config="seen")
    data = json.loads(results.to_json())
    assert list(data)[0] == "schema_version" and data["schema_version"] == SCHEMA_VERSION
    assert (data["benchmark"], data["benchmark_version"]) == ("AVG", "AVG-v1")
    assert (data["split"], data["config"], data["toolkit_version"]) == ("val", "seen", avg_bench.__version__)
    assert data["counts"] == {"labelled": 12, "predicted": 12, "abstained": 0, "missing": 0, "locations": 6}
    settings = data["settings"]
    assert settings["radius_km"] == 6371.0 and settings["hit_rule"] == "d <= r"
    assert settings["thresholds_km"] == {"street": 1.0, "city": 25.0, "region": 200.0, "country": 750.0, "continent": 2500.0}
    assert settings["bootstrap"] == {"resamples": 50, "seed": 9, "cluster": "location", "confidence": 0.95, "interval": "percentile"}
    assert settings["missing_predictions"] == "error"
    assert data["timestamp"].endswith("+00:00")
    assert set(data["metrics"]) == set(data["macro"]) == set(data["worst_continent"])
    assert Results.from_dict(data) == results


def test_undefined_values_are_written_as_null_not_nan():
    labels = make_labels(1, {"only": (10.0, 10.0)})
    results = avg_bench.evaluate(predictions_at(labels, 5.0), labels, bootstrap=20)
    text = results.to_json()
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text)


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("v*.json")), ids=lambda p: p.name)
def test_every_past_results_schema_still_loads(fixture):
    results = Results.from_json(fixture)
    assert results.metrics["acc@25km"].value == pytest.approx(json.loads(fixture.read_text())["metrics"]["acc@25km"]["value"])
    assert results.comparison is not None and results.comparison.metrics["mean_km"].p_value is not None


def test_fixture_matches_what_the_toolkit_computes_today():
    """The v1 fixture was computed from examples/; today's scorer must give the same numbers."""
    root = Path(__file__).parents[1] / "examples"
    today = avg_bench.evaluate(
        root / "predictions.jsonl", root / "labels.jsonl", baseline=root / "baseline_predictions.jsonl", bootstrap=200, seed=0
    )
    pinned = Results.from_json(FIXTURES / "v1.json")
    for name, estimate in pinned.metrics.items():
        assert today.metrics[name].value == pytest.approx(estimate.value, rel=1e-12)
        assert today.metrics[name].ci_low == pytest.approx(estimate.ci_low, rel=1e-12)
    assert today.comparison.metrics == pinned.comparison.metrics


def test_unknown_schema_version_is_refused():
    with pytest.raises(AvgBenchError, match="schema_version 99 is not supported"):
        Results.from_dict({"schema_version": 99})
