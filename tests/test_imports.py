"""The core does not import its clients (issue 15 item 2): ``baselines`` and ``leaderboard`` add their own
``avg-bench`` commands through the ``avg_bench.commands`` entry points, loaded only when asked for.

Every check runs in a fresh interpreter and inspects its ``sys.modules``: an import made by an earlier
test in this process cannot hide one.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import make_labels, predictions_at

CLI = Path(sys.executable).parent / "avg-bench"
CLIENTS = ("baselines", "leaderboard")


def python(code: str, *, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter; its last stdout line is the client modules it imported."""
    environment = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, env=environment)


def clients_loaded(stdout: str) -> list[str]:
    return json.loads(stdout.strip().splitlines()[-1])


REPORT = f"import json, sys; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {CLIENTS!r})))"


@pytest.fixture
def scored_files(tmp_path) -> tuple[Path, Path]:
    labels = make_labels(clips_per_city=2)
    records = predictions_at(labels, [0.0] * len(labels))
    predictions, label_file = tmp_path / "predictions.jsonl", tmp_path / "labels.jsonl"
    predictions.write_text("".join(json.dumps(record) + "\n" for record in records))
    label_file.write_text("".join(
        json.dumps({"clip_id": clip, "location_id": location, "lat": float(lat), "lon": float(lon)}) + "\n"
        for clip, location, lat, lon in zip(labels.clip_id, labels.location_id, labels.lat, labels.lon)
    ))
    return predictions, label_file


def test_import_avg_bench_imports_no_client_package():
    done = python(f"import avg_bench\n{REPORT}")
    assert done.returncode == 0, done.stderr
    assert clients_loaded(done.stdout) == []


@pytest.mark.parametrize("extra", [["--bootstrap", "0"], ["--bootstrap", "20", "--format", "md"]])
def test_avg_bench_evaluate_imports_no_client_package(scored_files, extra):
    predictions, labels = scored_files
    done = python(f"""
        import sys
        sys.argv = ["avg-bench", "evaluate", {str(predictions)!r}, "--labels", {str(labels)!r}, *{extra!r}]
        from avg_bench.cli import main
        main()
        {REPORT}
    """)
    assert done.returncode == 0, done.stderr
    assert "100.0" in done.stdout  # every prediction sits on its label: 100 % at 1 km
    assert clients_loaded(done.stdout) == []


def test_no_avg_bench_module_imports_a_client_package_even_inside_a_function():
    root = Path(__import__("avg_bench").__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            found += [f"{path.relative_to(root)}:{node.lineno} {name}" for name in names if name.split(".")[0] in CLIENTS]
    assert found == []


def test_submit_is_a_core_command_that_imports_no_client_package(scored_files):
    predictions, _ = scored_files
    done = python(f"""
        import sys
        sys.argv = ["avg-bench", "submit", {str(predictions)!r}, "--server", "http://127.0.0.1:9", "--token", "t", "--model-name", "m"]
        from avg_bench.cli import main
        try:
            main()
        except SystemExit as exc:
            assert exc.code == 2, exc.code
        {REPORT}
    """)
    assert done.returncode == 0, done.stderr
    assert "error: cannot reach the leaderboard at http://127.0.0.1:9" in done.stderr
    assert clients_loaded(done.stdout) == []


def test_core_command_help_through_typer_imports_no_client_package():
    done = python(f"""
        import sys
        sys.argv = ["avg-bench", "evaluate", "--help"]
        from avg_bench.cli import main
        try:
            main()
        except SystemExit as exc:
            assert exc.code in (0, None), exc.code
        {REPORT}
    """)
    assert done.returncode == 0, done.stderr
    assert "--bootstrap" in done.stdout
    assert clients_loaded(done.stdout) == []


def test_help_lists_core_commands_then_client_commands_with_examples():
    done = subprocess.run([str(CLI), "--help"], capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    listed = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("│ ") and line[2] != " "]
    commands = [name for name in listed if not name.startswith("-")]
    assert commands == ["evaluate", "compare", "report", "submit", "download", "publish", "validate", "curate", "build",
                        "synth", "doctor", "demo", "locations", "baseline", "leaderboard"]
    assert "avg-bench baseline summary avg-demo --readme baselines/README.md" in done.stdout


def test_a_client_command_whose_package_does_not_import_is_one_error_line(tmp_path):
    fake = tmp_path / "baselines"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'scipy'\", name='scipy')\n")
    environment = {**os.environ, "PYTHONPATH": str(tmp_path), "NO_COLOR": "1"}
    done = subprocess.run([str(CLI), "baseline", "list"], capture_output=True, text=True, timeout=120, env=environment)
    assert done.returncode == 2
    assert done.stderr == ("error: 'avg-bench baseline' comes from the baselines package, which is not installed "
                           "(scipy could not be imported): pip install 'avg-bench[baselines]'\n")
    # The other client package still registers its commands.
    done = subprocess.run([str(CLI), "leaderboard", "--help"], capture_output=True, text=True, timeout=120, env=environment)
    assert done.returncode == 0 and "token" in done.stdout, done.stderr


def test_submit_checks_modalities_with_the_shared_vocabulary(scored_files):
    predictions, _ = scored_files
    done = subprocess.run([str(CLI), "submit", str(predictions), "--server", "http://127.0.0.1:9", "--token", "t",
                           "--model-name", "m", "--modalities", "video"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == ("error: --modalities must be one of none, audio, visual, audio+visual, found 'video' "
                           "(the visual stream is called 'visual')\n")


def test_baseline_summary_writes_the_table_between_the_readme_markers(tmp_path, scored_files):
    import avg_bench
    from baselines.summary import END, START

    predictions, labels = scored_files
    results = avg_bench.evaluate(predictions, labels, bootstrap=0)
    (tmp_path / "demo" / "results").mkdir(parents=True)
    (tmp_path / "demo" / "results" / "knn-av.json").write_text(results.to_json())
    (tmp_path / "demo" / "demo.json").write_text(json.dumps({"caption": "AVG-Synth val, seed 0", "not_run": {"vlm-zero-shot": "needs weights"}}))
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nold table\n{END}\noutro\n")
    done = subprocess.run([str(CLI), "baseline", "summary", str(tmp_path / "demo"), "--readme", str(readme)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = readme.read_text()
    assert "old table" not in text and text.startswith(f"intro\n{START}\nAVG-Synth val, seed 0\n\n| baseline |")
    assert "| `knn-av` | 100.0 | 100.0 | 100.0 | 100.0 | 100.0 | 100.0 | 5000 | 0 |" in text
    assert "`vlm-zero-shot`: needs weights" in text and text.endswith(f"{END}\noutro\n")
    assert done.stdout.startswith("AVG-Synth val, seed 0\n")


def test_import_avg_bench_is_light_and_its_public_names_load_on_first_use():
    done = python("""
        import sys, avg_bench
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("numpy", "typer", "rich") or m == "avg_bench.evaluation")
        from avg_bench import AVG_V1, Results, evaluate
        print(heavy, AVG_V1.default_bootstrap, Results.__name__, evaluate.__module__, "evaluate" in dir(avg_bench))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[] 1000 Results avg_bench.evaluation True\n"


def test_python_dash_m_avg_bench_cli_runs_the_same_command_line():
    import avg_bench

    done = subprocess.run([sys.executable, "-m", "avg_bench.cli", "--version"], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, f"avg-bench {avg_bench.__version__}\n"), done.stderr
