"""``avg-bench`` as a user runs it: the installed console script, in a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from data.malformed_predictions import LABELS  # five cities (tests/ is on pytest's pythonpath)

import avg_bench
from avg_bench.data.locations import LOCATIONS_V1_PATH, load_locations

CLI = Path(sys.executable).parent / "avg-bench"
EXAMPLE = "avg-bench evaluate predictions.jsonl --split val"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
HEAVY = ("torch", "transformers", "datasets")



def run(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    done = subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=120, env=environment, cwd=cwd)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def flat(text: str) -> str:
    """Help text with colours and rich's wrapping and padding taken out."""
    return " ".join(ANSI.sub("", text).split())


@pytest.fixture
def predictions(tmp_path) -> Path:
    path = tmp_path / "predictions.jsonl"
    path.write_text("".join(json.dumps({k: r[k] for k in ("clip_id", "lat", "lon")}) + "\n" for r in LABELS), encoding="utf-8")
    return path


@pytest.fixture
def labels_file(tmp_path) -> Path:
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in LABELS), encoding="utf-8")
    return path


@pytest.fixture
def dataset(tmp_path) -> Path:
    """A dataset root holding one ``seen/val`` parquet shard in the published layout."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path / "AVG-v1"
    shard = root / "data" / "seen" / "val-00000-of-00001.parquet"
    shard.parent.mkdir(parents=True)
    columns = {name: [r[name] for r in LABELS] for name in ("clip_id", "location_id", "lat", "lon")}
    pq.write_table(pa.table(columns), shard)
    return root


# Help and version.


def test_root_help_shows_an_example_and_the_format():
    done = run("--help")
    assert done.returncode == 0
    text = flat(done.stdout)
    assert EXAMPLE in text
    assert flat(avg_bench.PREDICTION_FORMAT.splitlines()[1]) in text


def test_root_help_lists_evaluate():
    done = run("--help")
    assert done.returncode == 0, done.stderr
    text = flat(done.stdout)
    assert "Usage: avg-bench" in text
    assert "evaluate" in text and "--version" in text


def test_evaluate_help_shows_examples_and_the_prediction_format():
    done = run("evaluate", "--help")
    assert done.returncode == 0, done.stderr
    text = flat(done.stdout)
    assert EXAMPLE in text
    for line in avg_bench.PREDICTION_FORMAT.splitlines():
        assert flat(line) in text, line
    for option in ("--labels", "--split", "--data", "--allow-missing", "--json", "--bootstrap", "--seed", "--baseline"):
        assert option in text


def test_version():
    done = run("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"avg-bench {avg_bench.__version__}\n"


# Where the labels come from.


def test_evaluate_needs_labels_or_a_split(predictions):
    done = run("evaluate", str(predictions))
    assert done.returncode == 2
    assert done.stderr == "error: give exactly one of --labels FILE or --split NAME\n"
    assert done.stdout == ""


def test_evaluate_refuses_labels_and_split_together(predictions, labels_file):
    done = run("evaluate", str(predictions), "--labels", str(labels_file), "--split", "val")
    assert done.returncode == 2
    assert done.stderr == "error: give exactly one of --labels FILE or --split NAME\n"


def test_test_split_labels_are_hidden(predictions, tmp_path):
    done = run("evaluate", str(predictions), "--split", "test", "--data", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert "hidden" in done.stderr and "leaderboard" in done.stderr and "--split val" in done.stderr
    assert done.stderr.count("\n") == 1


def test_unknown_split_suggests_a_name(predictions, tmp_path):
    done = run("evaluate", str(predictions), "--split", "vall", "--data", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr == "error: unknown split 'vall': expected one of train, val, test; did you mean 'val'?\n"


def test_missing_dataset_names_the_folder(predictions, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run("evaluate", str(predictions), "--split", "val", "--data", str(empty))
    assert done.returncode == 2
    folder = empty / "data" / "seen"
    assert done.stderr.startswith(f"error: no seen/val shards in {folder}: ")
    assert "--labels" in done.stderr and "--data" in done.stderr
    assert done.stderr.count("\n") == 1


def test_label_hierarchy_from_another_geocoder_is_refused_or_ignored(predictions, tmp_path):
    """Exit 2 naming file:line, no traceback; ``--label-hierarchy ignore`` scores with the gazetteer's."""
    path = tmp_path / "geocoded.jsonl"
    rows = [{**r, "continent": "EU", "country": "FR", "admin1": "Ile-de-France", "city": "Paris"} if r["location_id"] == "paris"
            else r for r in LABELS]
    rows[0]["admin1"] = "Paris Region"  # another geocoder's name for Ile-de-France
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    done = run("evaluate", str(predictions), "--labels", str(path), "--bootstrap", "0")
    assert done.returncode == 2
    assert f"{path}:1: field 'admin1' is 'Paris Region', but the gazetteer gives 'Ile-de-France'" in flat(done.stderr + done.stdout)
    done = run("evaluate", str(predictions), "--labels", str(path), "--bootstrap", "0", "--label-hierarchy", "ignore", "--json", "-")
    assert done.returncode == 0
    assert json.loads(done.stdout)["metrics"]["sem_city"]["value"] == 1.0


def test_missing_predictions_file(tmp_path, labels_file):
    missing = tmp_path / "nope.jsonl"
    done = run("evaluate", str(missing), "--labels", str(labels_file), "--bootstrap", "0")
    assert done.returncode == 2
    assert done.stderr == f"error: {missing}: file not found\n"


# Scoring.


def test_split_val_from_a_local_dataset_as_json_on_stdout(predictions, dataset):
    done = run("evaluate", str(predictions), "--split", "val", "--data", str(dataset), "--bootstrap", "20", "--json", "-")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)  # the whole of stdout is the JSON: no table, no log line
    assert results["schema_version"] == 2
    assert (results["split"], results["config"]) == ("val", "seen")
    assert results["counts"] == {"labelled": 5, "predicted": 5, "abstained": 0, "missing": 0, "locations": 5}
    assert results["coverage"] == 1.0
    assert results["metrics"]["acc@1km"]["value"] == 1.0
    assert results["metrics"]["mean_km"]["value"] == 0.0
    assert results["settings"]["bootstrap"]["resamples"] == 20
    assert results["dataset"]["labels"].endswith("val-00000-of-00001.parquet")
    assert results["predictions"]["source"] == str(predictions)
    assert results["toolkit_version"] == avg_bench.__version__


def test_json_file_and_table(predictions, labels_file, tmp_path):
    out = tmp_path / "out" / "results.json"
    done = run("evaluate", str(predictions), "--labels", str(labels_file), "--bootstrap", "0", "--json", str(out))
    assert done.returncode == 0, done.stderr
    results = avg_bench.Results.from_json(out)
    assert results.schema_version == 2
    assert results.metrics["acc@1km"].value == 1.0
    assert results.split is None
    assert "GeoScore" in done.stdout  # the table went to the terminal
    assert not done.stdout.lstrip().startswith("{")
    assert f"results written to {out}" in done.stderr


def test_json_stdout_matches_the_python_api(predictions, labels_file):
    done = run("evaluate", str(predictions), "--labels", str(labels_file), "--bootstrap", "50", "--seed", "7", "--json", "-")
    assert done.returncode == 0, done.stderr
    from_cli = json.loads(done.stdout)
    from_api = avg_bench.evaluate(predictions, labels_file, bootstrap=50, seed=7).to_dict()
    for key in ("metrics", "macro", "by_continent", "counts", "coverage", "settings"):
        assert from_cli[key] == from_api[key], key


# Scoring pulls in nothing heavy.


@pytest.fixture
def poisoned_path(tmp_path) -> str:
    """A PYTHONPATH whose first entry shadows the heavy packages with ones that refuse to import."""
    fake = tmp_path / "fake-packages"
    for name in HEAVY:
        package = fake / name
        package.mkdir(parents=True)
        message = f"{name} imported on the evaluate path"
        (package / "__init__.py").write_text(
            f"import sys\nsys.stderr.write({message!r} + '\\n')\nraise ImportError({message!r})\n", encoding="utf-8"
        )
    path = os.pathsep.join([str(fake), *filter(None, [os.environ.get("PYTHONPATH")])])
    check = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": path})
    assert check.returncode == 1 and "torch imported on the evaluate path" in check.stderr  # the poison works
    return path


def test_cli_evaluate_imports_no_heavy_package(predictions, dataset, poisoned_path):
    done = run("evaluate", str(predictions), "--split", "val", "--data", str(dataset), "--bootstrap", "10", "--json", "-", env={"PYTHONPATH": poisoned_path})
    assert done.returncode == 0, done.stderr
    assert "imported on the evaluate path" not in done.stdout + done.stderr
    assert json.loads(done.stdout)["metrics"]["acc@1km"]["value"] == 1.0


def test_python_evaluate_imports_no_heavy_package(predictions, labels_file, dataset, poisoned_path):
    shard = next(dataset.rglob("*.parquet"))
    code = textwrap.dedent(
        f"""
        import sys
        import avg_bench
        for labels in ({str(labels_file)!r}, {str(shard)!r}):
            results = avg_bench.evaluate({str(predictions)!r}, labels, bootstrap=10)
            assert results.metrics["acc@1km"].value == 1.0
        print(sorted(m for m in sys.modules if m.split('.')[0] in {{'torch', 'datasets', 'transformers', 'scipy'}}))
        """
    )
    environment = {**os.environ, "PYTHONPATH": poisoned_path}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=environment)
    assert done.returncode == 0, done.stderr
    assert "imported on the evaluate path" not in done.stdout + done.stderr
    assert done.stdout == "[]\n"


# The fast start of evaluate (issue 13): same declarations, no typer runtime.


def test_fast_start_parses_evaluate_like_typer_and_hands_over_what_it_cannot():
    from avg_bench.cli.evaluate import evaluate
    from avg_bench.cli.fast import parse_plain

    values = parse_plain(evaluate, ["p.jsonl", "--labels", "a.parquet", "-l", "b.parquet", "--bootstrap", "0", "--allow-missing"])
    assert values == {"predictions": Path("p.jsonl"), "labels": [Path("a.parquet"), Path("b.parquet")], "split": None,
                      "config": "seen", "data": None, "baseline": None, "allow_missing": True, "json_out": None,
                      "bootstrap": 0, "seed": avg_bench.AVG_V1.default_seed, "label_hierarchy": "check",
                      "table_format": None, "per_clip": None}
    for declined in (["p.jsonl", "--help"], ["p.jsonl", "--bootstrap", "-1"], ["p.jsonl", "--nope"], [],
                     ["p.jsonl", "--bootstrap", "many"]):
        assert parse_plain(evaluate, declined) is None, declined  # typer answers these itself


def test_evaluate_takes_the_fast_start_without_typer_or_pydantic(predictions, labels_file):
    code = textwrap.dedent(
        f"""
        import sys
        sys.argv = ["avg-bench", "evaluate", {str(predictions)!r}, "--labels", {str(labels_file)!r}, "--bootstrap", "0", "--json", "-"]
        from avg_bench.cli import main
        main()
        sys.stderr.write(str(sorted(m for m in sys.modules if m.split(".")[0] in {{"pydantic", "typer"}})))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["metrics"]["acc@1km"]["value"] == 1.0 and done.stderr.endswith("[]")
    # Bad values still get typer's own message and exit code.
    done = run("evaluate", str(predictions), "--labels", str(labels_file), "--bootstrap", "-1")
    assert done.returncode == 2 and "--bootstrap" in done.stderr


def test_locations_command_checks_summarises_and_refuses_clearly(tmp_path):
    """``avg-bench locations`` replaces the old ``python -m avg_bench.data.locations``."""
    same = run("locations", "regenerate", "--check")
    assert same.returncode == 0 and same.stdout.strip().endswith(": identical")
    edited = tmp_path / "locations.csv"
    edited.write_bytes(LOCATIONS_V1_PATH.read_bytes().replace(b"\n", b"\r\n", 1))
    differs = run("locations", "regenerate", "--check", "--output", str(edited))
    assert differs.returncode == 1 and "DIFFERS" in differs.stdout
    summary = json.loads(run("locations", "summary", "--json").stdout)
    assert summary["locations"] == len(load_locations())
    missing = run("locations", "summary", "--path", str(tmp_path / "none.csv"))
    assert missing.returncode == 2 and missing.stderr.startswith("error: ") and "none.csv" in missing.stderr
    assert "Traceback" not in missing.stderr
