"""Manifests: strict reading (file:line errors) and manifest-level validation."""

import json

import pytest

from avg_bench.data.manifest import ManifestFileError, read_manifest, write_manifest
from avg_bench.data.schema import ManifestRecord
from avg_bench.data.validate import validate

ROW = {
    "clip_id": "synth-0123456789", "location_id": "L0001", "source_platform": "file", "source_id": "a",
    "source_uri": "a.mp4", "start_s": 0.0, "end_s": 10.0, "lat": 48.85, "lon": 2.35,
    "coord_source": "centroid", "license": "CC0-1.0",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"clip_id": "Bad Id"}, "field 'clip_id' = 'Bad Id' does not match the expected format [a-z][a-z0-9]{1,15}-[0-9a-f]{10}"),
        ({"location_id": "paris"}, "field 'location_id' = 'paris' does not match the expected format L\\d{4}"),
        ({"end_s": 0.0}, "field 'end_s' (0) must be greater than 'start_s' (0)"),
        ({"lat": 95}, "field 'lat' is out of range: 95.0 is not in [-90, 90]"),
        ({"coord_source": "gps"}, "field 'coord_source' = 'gps' is not one of centroid, geotag, manual"),
        ({"source_platform": "tiktok"}, "field 'source_platform' = 'tiktok' is not one of youtube, vimeo, http, file, synthetic"),
        ({"synthetic": "yes"}, 'field \'synthetic\' must be true or false, found string "yes"'),
    ],
)
def test_bad_manifest_rows_name_file_and_line(tmp_path, change, message):
    path = tmp_path / "manifest.jsonl"
    path.write_text(json.dumps(ROW) + "\n" + json.dumps({**ROW, "clip_id": "synth-0000000001", **change}) + "\n")
    with pytest.raises(ManifestFileError) as info:
        read_manifest(path)
    assert str(info.value) == f"{path}:2: {message}"


def test_duplicate_clip_id_and_round_trip(tmp_path):
    path = tmp_path / "manifest.jsonl"
    write_manifest([ManifestRecord.from_dict(ROW)], path)
    assert read_manifest(path) == [ManifestRecord.from_dict(ROW)]
    path.write_text((json.dumps(ROW) + "\n") * 2)
    with pytest.raises(ManifestFileError, match=r":2: duplicate clip_id 'synth-0123456789' \(first on line 1\)"):
        read_manifest(path)


def test_manifest_validation_flags_sources_overlaps_and_missing_files(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x")
    rows = [
        {**ROW, "clip_id": "synth-0000000001"},
        {**ROW, "clip_id": "synth-0000000002", "start_s": 5.0, "end_s": 15.0},  # overlaps the first
        {**ROW, "clip_id": "synth-0000000003", "source_id": "b", "source_uri": "missing.mp4"},
    ]
    path = tmp_path / "manifest.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = validate(path)
    found = {(v.check, v.subject) for v in report.violations}
    assert found == {
        ("overlapping_time_range", "synth-0000000002"),
        ("missing_source", "synth-0000000003"),
        ("too_few_sources", "L0001"),
    }
