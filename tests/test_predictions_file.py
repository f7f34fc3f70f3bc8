"""The predictions file contract (DESIGN §4), case by case: exact messages, accepted variants, both paths.

The cases live in ``tests/data/malformed_predictions.py`` (a seeded script that also writes them
to disk for trying by hand).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

import avg_bench
from avg_bench.errors import AvgBenchError, MissingPredictionsError, PredictionFileError
from avg_bench.jsonl import MAX_LINE_BYTES, JsonLinesReader
from avg_bench.labels import Labels, load_labels
from avg_bench.predictions import _Aligner

DATA = Path(__file__).parent / "data"
WORST_KM = math.pi * 6371.0
CLI = Path(sys.executable).parent / "avg-bench"


def _load_cases():
    spec = importlib.util.spec_from_file_location("malformed_predictions", DATA / "malformed_predictions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


malformed = _load_cases()
CASES = malformed.CASES
ACCEPTED = malformed.ACCEPTED
BY_NAME = {case.name: case for case in CASES + ACCEPTED}


@pytest.fixture(scope="module")
def label_sets(tmp_path_factory) -> dict[bool, Labels]:
    """Both label sets, read once from JSON Lines files (``big_labels`` -> Labels)."""
    folder = tmp_path_factory.mktemp("labels")
    loaded = {}
    for big, records in ((False, malformed.LABELS), (True, malformed.BIG_LABELS)):
        path = folder / ("labels-big.jsonl" if big else "labels.jsonl")
        path.write_bytes(malformed.labels_jsonl(records))
        loaded[big] = load_labels(path)
    return loaded


@pytest.fixture(scope="module")
def case_files(tmp_path_factory) -> dict[str, Path]:
    """Every case written once; the tests only read them."""
    folder = tmp_path_factory.mktemp("predictions")
    paths = {}
    for case in CASES + ACCEPTED:
        paths[case.name] = folder / f"{case.name}.jsonl"
        paths[case.name].write_bytes(case.content)
    return paths


def _outcome(case, path: Path, labels: Labels):
    """What scoring the file gives: the error message, or the counts and every metric value."""
    try:
        results = avg_bench.evaluate(path, labels, bootstrap=0, allow_missing=case.allow_missing)
    except AvgBenchError as exc:
        return ("error", str(exc))
    return ("ok", results.counts, {name: estimate.value for name, estimate in results.metrics.items()})


def _expected_outcome(case, path: Path, labels: Labels):
    if isinstance(case, malformed.Accepted):
        # The file must mean exactly its records: scoring them through the Python API agrees.
        results = avg_bench.evaluate(case.records, labels, bootstrap=0, allow_missing=case.allow_missing)
        return ("ok", results.counts, {name: estimate.value for name, estimate in results.metrics.items()})
    return ("error", case.message(path, labels.source))


def test_the_fixture_is_broad():
    names = [case.name for case in CASES + ACCEPTED]
    assert len(set(names)) == len(names)
    assert len(CASES) >= 30
    assert len({case.content for case in CASES}) == len(CASES), "two malformed cases share one file"
    assert all(case.expected_message for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_malformed_file_is_refused_with_its_exact_message(case, case_files, label_sets):
    labels = label_sets[case.big_labels]
    path = case_files[case.name]
    with pytest.raises(AvgBenchError) as info:
        avg_bench.evaluate(path, labels, bootstrap=0, allow_missing=case.allow_missing)
    assert str(info.value) == case.message(path, labels.source)
    assert isinstance(info.value, (PredictionFileError, MissingPredictionsError))
    if isinstance(info.value, PredictionFileError):
        assert info.value.source == str(path)


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: c.name)
def test_accepted_file_scores(case, case_files, label_sets):
    labels = label_sets[case.big_labels]
    path = case_files[case.name]
    results = avg_bench.evaluate(path, labels, bootstrap=0, allow_missing=case.allow_missing)

    n = len(labels)
    counts = results.counts
    assert (counts.labelled, counts.predicted, counts.abstained, counts.missing) == (
        n,
        case.predicted,
        case.abstained,
        case.missing,
    )
    assert results.coverage == pytest.approx(case.predicted / n)
    assert results.predictions["sha256"] == hashlib.sha256(case.content).hexdigest()  # every byte, BOM included
    if case.exact:
        # Predictions on their labels: every threshold hit, no error, except the unpredicted
        # clips, each charged the worst case d = pi * R.
        unpredicted = case.abstained + case.missing
        assert results.metrics["acc@1km"].value == pytest.approx(case.predicted / n)
        assert results.metrics["acc@2500km"].value == pytest.approx(case.predicted / n)
        assert results.metrics["mean_km"].value == pytest.approx(unpredicted * WORST_KM / n, abs=1e-6)
        assert results.metrics["geoscore"].value == pytest.approx(5000.0 * case.predicted / n)
    assert _outcome(case, path, labels) == _expected_outcome(case, path, labels)


def test_integer_and_extreme_coordinates_are_scored_as_given(case_files, label_sets):
    labels = label_sets[False]
    poles = avg_bench.evaluate(case_files["ok_poles_and_antimeridian"], labels, bootstrap=0)
    # Paris to the North Pole is 90 - 48.8566 degrees of latitude.
    first = avg_bench.evaluate([{"clip_id": "avg1-000001", "lat": 90, "lon": 180}], labels, bootstrap=0, allow_missing=True)
    paris_to_pole = math.radians(90 - 48.8566) * 6371.0
    assert first.metrics["mean_km"].value == pytest.approx((paris_to_pole + 4 * WORST_KM) / 5)
    assert poles.metrics["acc@2500km"].value == 0.0
    rounded = avg_bench.evaluate(case_files["ok_integer_coordinates"], labels, bootstrap=0)
    assert 0.0 < rounded.metrics["mean_km"].value < 100.0  # rounding to whole degrees moves a city < 100 km


def test_missing_and_abstained_clips_cost_the_worst_case(case_files, label_sets):
    labels = label_sets[False]
    results = avg_bench.evaluate(case_files["ok_missing_and_abstained_allow_missing"], labels, bootstrap=0, allow_missing=True)
    assert results.coverage == pytest.approx(0.2)
    assert (results.counts.predicted, results.counts.abstained, results.counts.missing) == (1, 1, 3)
    assert results.metrics["mean_km"].value == pytest.approx(4 * WORST_KM / 5)
    assert results.metrics["median_km"].value == pytest.approx(WORST_KM)
    assert results.metrics["sem_continent"].value == pytest.approx(0.2)
    assert "worst case" in results.settings["missing_predictions"]


# The same verdicts whichever way the reader and the aligner get there.

#: The default path is what the two tests above check; each variant turns one shortcut off.
PATHS = {
    "aligner_per_record": {"aligner": True},  # no vectorised block check: every record checked alone
    "reader_strict_json": {"reader": True},  # no orjson: every line parsed by the standard library
    "small_blocks": {"block_bytes": 4096},  # lines cut across many reads; errors far past the first block
}


@pytest.mark.parametrize("variant", list(PATHS))
@pytest.mark.parametrize("case", CASES + ACCEPTED, ids=lambda c: c.name)
def test_fast_and_slow_paths_agree(case, variant, case_files, label_sets, monkeypatch):
    """The fast paths decide only "all fine": turning them off changes no message and no number."""
    settings = PATHS[variant]
    if settings.get("aligner"):
        monkeypatch.setattr(_Aligner, "_block", lambda self, lines, records: False)
    if settings.get("reader"):
        monkeypatch.setattr(JsonLinesReader, "_parse_fast", lambda self, raw_lines: None)
    if "block_bytes" in settings:
        monkeypatch.setattr(JsonLinesReader, "block_bytes", settings["block_bytes"])
    labels = label_sets[case.big_labels]
    path = case_files[case.name]
    expected = _expected_outcome(case, path, labels)
    assert _outcome(case, path, labels) == expected


def test_per_record_aligner_sees_every_case(case_files, label_sets, monkeypatch):
    """The monkeypatch in the agreement test really bypasses the fast path (it is not dead code)."""
    calls = []
    original = _Aligner._block

    def spy(self, lines, records):
        calls.append(len(records))
        return original(self, lines, records)

    monkeypatch.setattr(_Aligner, "_block", spy)
    avg_bench.evaluate(case_files["ok_5005_lines"], label_sets[True], bootstrap=0)
    assert sum(calls) == len(malformed.BIG_LABELS) and len(calls) >= 2  # more than one 4 MiB block


# The command line gives the same messages, as one line, exit code 2.

CLI_CASES = [
    "empty_file",
    "json_array_pretty",
    "nan",
    "huge_integer",
    "duplicate_clip_id",
    "unknown_clip_id_close",
    "missing_ids",
    "non_utf8",
    "line_of_10_mb",
    "deeply_nested_unknown_key",
]


@pytest.fixture(scope="module")
def cli_runs(case_files, label_sets) -> dict[str, tuple[subprocess.CompletedProcess, str]]:
    """``avg-bench evaluate`` on each CLI case, all started at once (start-up dominates); name -> (run, message)."""
    started = {}
    for name in CLI_CASES:
        case = BY_NAME[name]
        labels = label_sets[case.big_labels].source
        command = [str(CLI), "evaluate", str(case_files[name]), "--labels", labels, "--bootstrap", "0"]
        if case.allow_missing:
            command.append("--allow-missing")
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started[name] = (command, process, case.message(case_files[name], labels))
    runs = {}
    for name, (command, process, message) in started.items():
        stdout, stderr = process.communicate(timeout=120)
        runs[name] = (subprocess.CompletedProcess(command, process.returncode, stdout, stderr), message)
    return runs


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_prints_one_error_line_and_exits_2(name, cli_runs):
    done, message = cli_runs[name]
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"error: {message}\n"
    assert done.stdout == ""
    assert "Traceback" not in done.stdout + done.stderr


def test_cli_scores_missing_clips_with_allow_missing(case_files, label_sets):
    done = subprocess.run(
        [str(CLI), "evaluate", str(case_files["missing_ids"]), "--labels", label_sets[False].source, "--bootstrap", "0", "--allow-missing", "--json", "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results["counts"]["missing"] == 2
    assert results["coverage"] == pytest.approx(0.6)
    assert results["metrics"]["mean_km"]["value"] == pytest.approx(2 * WORST_KM / 5)


# A huge or hostile file costs at most a block and a line of memory.


def test_huge_line_fails_fast_in_bounded_memory(tmp_path, label_sets):
    labels = label_sets[False]
    path = tmp_path / "huge.jsonl"
    first = malformed.exact(malformed.LABELS[0])
    with path.open("wb") as handle:
        handle.write(first)
        handle.write(b'{"clip_id": "avg1-000002", "lat": 0, "lon": 0, "reasoning": "')
        block = b"z" * (1 << 20)
        for _ in range(30):
            handle.write(block)
        handle.write(b'"}\n')
    assert path.stat().st_size > 30 * 10**6
    avg_bench.evaluate([{"clip_id": "avg1-000001", "lat": 0.0, "lon": 0.0}], labels, bootstrap=0, allow_missing=True)  # warm caches

    tracemalloc.start()
    try:
        with pytest.raises(PredictionFileError) as info:
            avg_bench.evaluate(path, labels, bootstrap=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(info.value) == f"{path}:2: line is longer than the {MAX_LINE_BYTES >> 20} MiB limit"
    assert peak < 20 * 10**6, f"peak {peak / 1e6:.1f} MB"  # how fast it refuses: benchmarks/bench_evaluate.py


def test_fixture_script_writes_every_case(tmp_path):
    done = subprocess.run(
        [sys.executable, str(DATA / "malformed_predictions.py"), str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in tmp_path.glob("*.jsonl"))
    assert len(written) == len(CASES) + len(ACCEPTED) + 2  # and the two label files
    expected = json.loads((tmp_path / "expected.json").read_text(encoding="utf-8"))
    assert expected["nan"]["message"] == BY_NAME["nan"].expected_message
    assert (tmp_path / "line_of_10_mb.jsonl").stat().st_size > 10 * 10**6
    assert (tmp_path / "ok_bom.jsonl").read_bytes() == BY_NAME["ok_bom"].content
