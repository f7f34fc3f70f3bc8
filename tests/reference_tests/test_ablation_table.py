"""The ablation script's tables come from the scorer's own results and paired comparison."""

from __future__ import annotations

import json

import avg_bench
from baselines.reference.ablation import END, START, markdown, write_readme

LABELS = avg_bench.labels_from_records([
    {"clip_id": f"c{i}", "location_id": f"L{i % 4}", "lat": 10.0 * (i % 4), "lon": 20.0 * (i % 4)} for i in range(8)])


def _predictions(offset: float) -> list[dict]:
    return [{"clip_id": f"c{i}", "lat": 10.0 * (i % 4) + offset * (i % 2), "lon": 20.0 * (i % 4)} for i in range(8)]


def test_markdown_has_ci_rows_and_paired_differences(tmp_path):
    full, vision = _predictions(0.0), _predictions(30.0)  # the ablation misses half the clips by 30 deg
    results = {"avg-reference": avg_bench.evaluate(full, LABELS, bootstrap=200),
               "avg-reference-vision": avg_bench.evaluate(vision, LABELS, bootstrap=200)}
    (tmp_path / "vision.jsonl").write_text("\n".join(json.dumps(p) for p in vision))
    (tmp_path / "full.jsonl").write_text("\n".join(json.dumps(p) for p in full))
    paired = {"avg-reference-vision": avg_bench.evaluate(tmp_path / "full.jsonl", LABELS, baseline=tmp_path / "vision.jsonl",
                                                         bootstrap=200)}
    table = markdown(results, paired, title="T")
    assert "| `avg-reference` | 100.0 [100.0, 100.0] |" in table
    assert "| `avg-reference-vision` | +50.0 [" in table  # 25 km: every clip vs half of them
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{START}\nold\n{END}\nafter\n")
    write_readme(readme, table)
    assert readme.read_text() == f"before\n{START}\n{table}\n{END}\nafter\n"


def test_the_ablation_command_prints_and_writes_the_table(tmp_path, monkeypatch):
    """``avg-bench baseline ablation`` (which replaced ``python -m baselines.reference.ablation``) wires the table through."""
    from typer.testing import CliRunner

    from avg_bench.cli.root import load_plugins
    from baselines.reference import ablation

    full = avg_bench.evaluate(_predictions(0.0), LABELS, bootstrap=50)
    calls = []

    def fake_run(data, **kwargs):  # the rows' training is tested elsewhere; here only what the command does with them
        calls.append((data, kwargs))
        return {"avg-reference": full}, {}, {"avg-reference": 1.0}

    monkeypatch.setattr(ablation, "run_ablation", fake_run)
    readme = tmp_path / "README.md"
    readme.write_text(f"{START}\nold\n{END}\n")
    app = load_plugins()
    done = CliRunner().invoke(app, ["baseline", "ablation", "--data", "somewhere", "--readme", str(readme), "-o", "preset=tiny-cpu",
                                    "--bootstrap", "50", "--out-dir", str(tmp_path / "rows"), "-q"])
    assert done.exit_code == 0, done.output
    assert calls == [("somewhere", {"config": "seen", "split": "val", "out_dir": tmp_path / "rows", "options": {"preset": "tiny-cpu"},
                                    "bootstrap": 50, "seed": 0, "progress": False})]
    assert "| `avg-reference` | 100.0 [100.0, 100.0] |" in done.output
    assert readme.read_text().startswith(f"{START}\nDataset `?`, config `seen`, split `val` (8 clips, 4 locations)")


def test_the_ablation_command_refuses_a_missing_readme_before_any_training(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "avg_bench.cli", "baseline", "ablation", "--data", str(tmp_path),
                           "--readme", str(tmp_path / "none.md")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("error: --readme") and "Traceback" not in done.stderr
    marker_less = tmp_path / "plain.md"
    marker_less.write_text("no markers\n")
    try:
        write_readme(marker_less, "T")
    except avg_bench.AvgBenchError as exc:  # a user error (one CLI line), no longer SystemExit
        assert "no <!-- ablation-table:start -->" in str(exc)
    else:
        raise AssertionError("a README without markers was accepted")
