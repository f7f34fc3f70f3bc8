"""Tables (``--format md|latex|csv``), ``avg-bench compare`` and the per-clip log, as a user runs them."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from helpers import make_labels, predictions_at

import avg_bench
from avg_bench.errors import AvgBenchError
from avg_bench.tables import latex, markdown, render

CLI = [sys.executable, "-c", "from avg_bench.cli import main; main()"]
ROOT = __import__("pathlib").Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"


def run(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def test_compare_table_matches_the_scorer_and_tests_against_the_first(tmp_path):
    done = run("compare", str(EXAMPLES / "baseline_predictions.jsonl"), str(EXAMPLES / "predictions.jsonl"),
               "--labels", str(EXAMPLES / "labels.jsonl"), "--bootstrap", "200", "--format", "csv", "--json-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 24 and {r["model"] for r in rows} == {"baseline_predictions", "predictions"}
    direct = avg_bench.evaluate(EXAMPLES / "predictions.jsonl", EXAMPLES / "labels.jsonl",
                                baseline=EXAMPLES / "baseline_predictions.jsonl", bootstrap=200, seed=0)
    row = next(r for r in rows if r["model"] == "predictions" and r["metric"] == "acc@25km")
    assert float(row["value"]) == direct.metrics["acc@25km"].value
    assert float(row["delta"]) == direct.comparison.metrics["acc@25km"].value
    assert float(row["p_value"]) == direct.comparison.metrics["acc@25km"].p_value
    reference = next(r for r in rows if r["model"] == "baseline_predictions" and r["metric"] == "acc@25km")
    assert reference["delta"] == "" and reference["dataset"] == "labels.jsonl (unnamed dataset)"
    saved = avg_bench.Results.from_json(tmp_path / "predictions.json")
    assert saved.comparison.metrics == direct.comparison.metrics


def test_markdown_and_latex_round_and_escape_user_names():
    labels = make_labels(2)
    first = avg_bench.evaluate(predictions_at(labels, 10.0), labels, bootstrap=0)
    second = avg_bench.evaluate(predictions_at(labels, 300.0), labels, baseline=predictions_at(labels, 10.0), bootstrap=0)
    md = markdown([("a|b", first), ("50% $x$", second)])
    lines = md.splitlines()
    assert lines[0] == "| Metric | a\\|b | 50% $x$ | Δ 50% $x$ − a\\|b (p) |"
    city = next(line for line in lines if line.startswith("| City 25 km"))
    assert city == "| City 25 km (%) | 100.0 | 0.0 | -100.0 |"
    tex = latex([("a|b", first), ("50% $x$", second)])
    assert r"50\% \$x\$" in tex and r"$\Delta$" in tex and r"\begin{tabular}{lrrr}" in tex
    assert r"City 25 km (\%) & 100.0 & 0.0 & -100.0 \\" in tex
    with pytest.raises(AvgBenchError, match="unknown table format 'html'"):
        render([("a", first)], "html")


def test_evaluate_format_md_prints_the_table_only():
    done = run("evaluate", str(EXAMPLES / "predictions.jsonl"), "--labels", str(EXAMPLES / "labels.jsonl"),
               "--bootstrap", "0", "--format", "md")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("| Metric | predictions |\n|---|--:|\n| Street 1 km (%) | 4.2 |")
    bad = run("evaluate", str(EXAMPLES / "predictions.jsonl"), "--labels", str(EXAMPLES / "labels.jsonl"), "--format", "docx")
    assert bad.returncode == 2 and bad.stderr == "error: --format 'docx': expected one of md, latex, csv\n"


def test_per_clip_log_agrees_with_the_scorer(tmp_path):
    log = tmp_path / "clips.jsonl"
    done = run("evaluate", str(EXAMPLES / "predictions.jsonl"), "--labels", str(EXAMPLES / "labels.jsonl"),
               "--bootstrap", "0", "--json", str(tmp_path / "r.json"), "--per-clip", str(log))
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in log.read_text().splitlines()]
    results = avg_bench.Results.from_json(tmp_path / "r.json")
    assert len(records) == results.counts.labelled == 120
    distances = [r["distance_km"] for r in records]
    assert sum(distances) / len(distances) == pytest.approx(results.metrics["mean_km"].value, abs=1e-5)
    assert sum(r["hits"]["city"] for r in records) / 120 == results.metrics["acc@25km"].value
    country = sum(r["pred"]["continent"] == r["true"]["continent"] and r["pred"]["country"] == r["true"]["country"]
                  for r in records)
    assert country / 120 == results.metrics["sem_country"].value


def test_per_clip_log_is_refused_for_hidden_splits(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    labels = make_labels(1)
    hidden = tmp_path / "test.parquet"  # the operator's hidden labels say which split they are
    table = pa.table({"clip_id": list(labels.clip_id), "location_id": list(labels.location_id), "lat": labels.lat, "lon": labels.lon})
    pq.write_table(table.replace_schema_metadata({"avg_bench.split": "test"}), hidden)
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("".join(json.dumps(p) + "\n" for p in predictions_at(labels, 5.0)))
    done = run("evaluate", str(predictions), "--labels", str(hidden), "--per-clip", str(tmp_path / "clips.jsonl"))
    assert done.returncode == 2
    assert done.stderr.startswith("error: --per-clip is refused for the hidden split 'test'")
    assert not (tmp_path / "clips.jsonl").exists()
