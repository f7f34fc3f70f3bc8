"""Results files: provenance, strict JSON, round trips, and every past schema still loads."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import CITIES, make_labels, predictions_at

import avg_bench
from avg_bench.errors import AvgBenchError
from avg_bench.results import SCHEMA_VERSION, Results

FIXTURES = Path(__file__).parent / "data" / "results"


def test_results_json_has_provenance_and_settings(tmp_path):
    labels = make_labels(2)
    results = avg_bench.evaluate(predictions_at(labels, 30.0), labels, bootstrap=50, seed=9, split="val", config="seen")
    data = json.loads(results.to_json())
    assert list(data)[0] == "schema_version" and data["schema_version"] == SCHEMA_VERSION
    assert data["protocol"] == "AVG-v1" and "benchmark_version" not in data
    assert data["dataset"]["synthetic"] is None and data["dataset"]["name"] is None  # a bare labels file names no dataset
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


def test_v1_files_read_as_schema_2_with_the_protocol_apart_from_the_dataset():
    results = Results.from_json(FIXTURES / "v1.json")
    assert results.schema_version == SCHEMA_VERSION and results.protocol == "AVG-v1"
    assert results.dataset["name"] is None and results.dataset["labels"] == "examples/labels.jsonl"
    assert results.curve is None and results.by_country == {} and results.error_cells == []


def test_curve_equals_the_headline_accuracies_at_the_five_thresholds():
    labels = make_labels(3)
    distances = np.tile([0.5, 20.0, 150.0, 700.0, 2400.0, 9000.0], 3)
    results = avg_bench.evaluate(predictions_at(labels, distances), labels, bootstrap=100, seed=1)
    curve = results.curve
    assert curve["thresholds_km"][0] == 0.1 and curve["thresholds_km"][-1] == 20000.0
    for radius in (1, 25, 200, 750, 2500):
        i = curve["thresholds_km"].index(float(radius))
        headline = results.metrics[f"acc@{radius}km"]
        assert (curve["accuracy"][i], curve["ci_low"][i], curve["ci_high"][i]) == (headline.value, headline.ci_low, headline.ci_high)
    assert curve["accuracy"] == sorted(curve["accuracy"])  # a hit rate can only grow with the radius
    assert curve["accuracy"][0] == 0.0 and curve["accuracy"][-1] == 1.0


def test_per_country_breakdown_carries_counts_and_hides_small_groups_on_hidden_splits():
    cities = {**CITIES, "lyon": (45.764, 4.8357)}  # a second French location
    labels = make_labels(2, cities)
    val = avg_bench.evaluate(predictions_at(labels, 10.0), labels, bootstrap=0, split="val")
    assert val.by_country["FR"].name == "France"
    assert (val.by_country["FR"].n_clips, val.by_country["FR"].n_locations) == (4, 2)
    assert len(val.by_country) == 6 and val.by_country["FR"].metrics["acc@25km"].value == 1.0
    assert sum(cell["n_clips"] for cell in val.error_cells) == 14
    assert all(cell["mean_km"] == pytest.approx(10.0) for cell in val.error_cells)
    test = avg_bench.evaluate(predictions_at(labels, 10.0), labels, bootstrap=0, split="test")
    assert test.by_country == {} and test.error_cells == []  # no group covers 5 locations
    assert test.settings["min_group_locations"] == 5 and len(test.by_continent) == 6  # continents: unchanged
    # A fine curve would histogram each location's distance to a constant probe: five radii only.
    assert test.curve["thresholds_km"] == [1.0, 25.0, 200.0, 750.0, 2500.0]
    assert test.curve["accuracy"] == [test.metrics[f"acc@{r}km"].value for r in (1, 25, 200, 750, 2500)]


def test_parquet_labels_name_their_dataset_and_say_synthetic(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    labels = make_labels(1)
    table = pa.table({"clip_id": list(labels.clip_id), "location_id": list(labels.location_id),
                      "lat": labels.lat, "lon": labels.lon, "synthetic": [True] * len(labels)})
    path = tmp_path / "val.parquet"
    pq.write_table(table.replace_schema_metadata({"avg_bench.revision": "AVG-Synth-v1@0123456789ab"}), path)
    results = avg_bench.evaluate(predictions_at(labels, 5.0), path, bootstrap=0, split="val")
    assert results.dataset["name"] == "AVG-Synth" and results.dataset["version"] == "AVG-Synth-v1"
    assert results.dataset["synthetic"] is True and results.protocol == "AVG-v1"
    assert results.dataset_label == "AVG-Synth-v1@0123456789ab (synthetic)"
    from rich.console import Console

    from avg_bench.report import print_results

    console = Console(record=True, width=120)
    print_results(results, console)
    header = console.export_text().splitlines()[0]
    assert "AVG-Synth-v1@0123456789ab (synthetic)" in header and "AVG-v1 " not in header
