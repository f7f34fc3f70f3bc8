"""Label files: JSON Lines and parquet give the same labels; bad files name the place."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import make_labels, predictions_at

import avg_bench
from avg_bench.errors import LabelFileError
from avg_bench.labels import load_labels


def _records(labels):
    return [
        {"clip_id": c, "location_id": loc, "lat": float(a), "lon": float(b)}
        for c, loc, a, b in zip(labels.clip_id, labels.location_id, labels.lat, labels.lon)
    ]


def test_jsonl_and_parquet_shards_score_identically(tmp_path):
    labels = make_labels(3)
    rows = _records(labels)
    jsonl = tmp_path / "labels.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    shards = []
    for i, part in enumerate((rows[:7], rows[7:])):
        shards.append(tmp_path / f"val-{i:05d}-of-00002.parquet")
        pq.write_table(pa.Table.from_pylist(part), shards[-1])
    predictions = predictions_at(labels, 100.0)
    a = avg_bench.evaluate(predictions, jsonl, bootstrap=100)
    b = avg_bench.evaluate(predictions, shards, bootstrap=100)
    assert a.metrics == b.metrics and a.by_continent == b.by_continent
    assert a.dataset["sha256"] and b.dataset["sha256"] and a.dataset["sha256"] != b.dataset["sha256"]


#: Labels whose hierarchy came from "another geocoder" (Nominatim-style current names): Strasbourg in
#: Grand Est, not GeoNames' pre-reform Alsace; New York as "New York" city rather than "New York City".
_STRASBOURG = {"clip_id": "b", "location_id": "x", "lat": 48.5734, "lon": 7.7521,
               "continent": "EU", "country": "FR", "admin1": "Grand Est", "city": "Strasbourg"}
_PARIS = {"clip_id": "a", "location_id": "paris", "lat": 48.8566, "lon": 2.3522,
          "continent": "EU", "country": "FR", "admin1": "Ile-de-France", "city": "Paris"}
_NEW_YORK = {"clip_id": "c", "location_id": "ny", "lat": 40.7128, "lon": -74.006,
             "continent": "NA", "country": "US", "admin1": "New York", "city": "New York"}


def test_hierarchy_in_the_file_that_agrees_with_the_gazetteer_is_accepted(tmp_path):
    path = tmp_path / "labels.parquet"
    table = pa.Table.from_pylist([_PARIS, {**_STRASBOURG, "admin1": "Alsace"}]).replace_schema_metadata({"avg_bench.revision": "AVG-v1@abc123"})
    pq.write_table(table, path)
    labels = load_labels(path)
    assert labels.hierarchy.admin1.tolist() == ["Ile-de-France", "Alsace"]
    assert labels.revision == "AVG-v1@abc123"
    derived = avg_bench.labels_from_records([{"clip_id": "a", "location_id": "p", "lat": 48.8566, "lon": 2.3522}])
    assert derived.hierarchy.admin1.tolist() == ["Ile-de-France"]


def test_hierarchy_from_another_geocoder_is_an_error_naming_the_line(tmp_path):
    jsonl = tmp_path / "labels.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in (_PARIS, _STRASBOURG, _NEW_YORK)))
    with pytest.raises(LabelFileError) as info:
        load_labels(jsonl)
    assert str(info.value).startswith(
        f"{jsonl}:2: field 'admin1' is 'Grand Est', but the gazetteer gives 'Alsace' for (48.573400, 7.752100). "
    )
    assert "--label-hierarchy ignore" in str(info.value)
    second = tmp_path / "other.jsonl"
    second.write_text(json.dumps(_PARIS) + "\n" + json.dumps(_NEW_YORK) + "\n")
    with pytest.raises(LabelFileError, match=r"other.jsonl:2: field 'city' is 'New York', but the gazetteer gives 'New York City'"):
        avg_bench.evaluate([{"clip_id": c, "lat": 0.0, "lon": 0.0} for c in "ac"], second, bootstrap=0)
    # Parquet shards: the message names the shard and its row.
    shards = [tmp_path / "s0.parquet", tmp_path / "s1.parquet"]
    pq.write_table(pa.Table.from_pylist([_PARIS]), shards[0])
    pq.write_table(pa.Table.from_pylist([{**_PARIS, "clip_id": "z"}, _STRASBOURG]), shards[1])
    with pytest.raises(LabelFileError) as info:
        load_labels(shards)
    assert str(info.value).startswith(f"{shards[1]}: row 2: field 'admin1' is 'Grand Est'")
    with pytest.raises(LabelFileError, match=r"^labels_api:2: field 'admin1' is 'Grand Est'"):
        avg_bench.labels_from_records([_PARIS, _STRASBOURG], source="labels_api")


def test_ignored_label_hierarchy_scores_a_perfect_prediction_perfectly(tmp_path):
    """With another geocoder's names, the old scorer gave a perfect prediction admin1 < 1 and city < 1."""
    jsonl = tmp_path / "labels.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in (_PARIS, _STRASBOURG, _NEW_YORK)))
    labels = load_labels(jsonl, label_hierarchy="ignore")
    assert labels.hierarchy.admin1.tolist() == ["Ile-de-France", "Alsace", "New York"]
    assert labels.hierarchy.city.tolist() == ["Paris", "Strasbourg", "New York City"]
    results = avg_bench.evaluate(predictions_at(labels, 0.0), jsonl, label_hierarchy="ignore", bootstrap=0)
    assert results.metrics["sem_admin1"].value == 1.0 and results.metrics["sem_city"].value == 1.0
    with pytest.raises(ValueError, match="label_hierarchy must be one of check, ignore"):
        load_labels(jsonl, label_hierarchy="file")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"clip_id": "a", "location_id": "p", "lat": 1, "lon": 2}\n{"clip_id": "a", "location_id": "p", "lat": 1, "lon": 2}\n',
         "{path}:2: duplicate clip_id 'a' (first on line 1)"),
        ('{"clip_id": "a", "lat": 1, "lon": 2}\n', "{path}:1: missing required key 'location_id'"),
        ('{"clip_id": "a", "location_id": "p", "lat": 100, "lon": 2}\n',
         "{path}:1: field 'lat' is out of range: 100.0 is not in [-90, 90]"),
        ('{"clip_id": "a", "location_id": "p", "lat": 1, "lon": 2, "country": "FR"}\n',
         "{path}:1: hierarchy is incomplete: give all of continent, country, admin1, city or none (missing continent, admin1, city)"),
        ("", "{path}: the file is empty: expected one JSON object per line"),
    ],
)
def test_bad_jsonl_labels(tmp_path, content, message):
    path = tmp_path / "labels.jsonl"
    path.write_text(content)
    with pytest.raises(LabelFileError) as info:
        load_labels(path)
    assert str(info.value) == message.format(path=path)


def test_bad_parquet_labels(tmp_path):
    hidden = tmp_path / "test-00000-of-00001.parquet"
    pq.write_table(pa.Table.from_pylist([{"clip_id": "a", "location_id": "p"}]), hidden)
    with pytest.raises(LabelFileError) as info:
        load_labels(hidden)
    assert str(info.value) == f"{hidden}: missing column(s) lat, lon (the labels of hidden splits are held by the leaderboard)"

    bad_row = tmp_path / "val.parquet"
    pq.write_table(
        pa.Table.from_pylist(
            [{"clip_id": "a", "location_id": "p", "lat": 1.0, "lon": 2.0}, {"clip_id": "b", "location_id": "p", "lat": None, "lon": 2.0}]
        ),
        bad_row,
    )
    with pytest.raises(LabelFileError) as info:
        load_labels(bad_row)
    assert str(info.value) == f"{bad_row}: row 2: field 'lat' must be a number, found null"

    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(LabelFileError, match="not a readable parquet file"):
        load_labels(corrupt)

    with pytest.raises(LabelFileError) as info:
        load_labels([tmp_path / "a.parquet", tmp_path / "b.jsonl"])
    assert "several label files must all be .parquet" in str(info.value)
