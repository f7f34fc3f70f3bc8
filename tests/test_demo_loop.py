"""The demo's parts that the tests can afford: the package's Range-capable host, the step clock, and
the local leaderboard the demo submits to (entries scored by the one scorer, re-runs reuse them)."""

from __future__ import annotations

import dataclasses
import urllib.request

import pytest

from avg_bench.data.local_host import LocalHost
from baselines.demo import StepClock


def _get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_local_host_honours_range_requests(tmp_path):
    (tmp_path / "v").mkdir()
    data = bytes(range(256)) * 40
    (tmp_path / "v" / "a b.mp4").write_bytes(data)
    with LocalHost(tmp_path) as host:
        url = host.url("v/a b.mp4")
        assert url == f"http://127.0.0.1:{host.port}/v/a%20b.mp4"
        status, headers, body = _get(url)
        assert (status, body, headers["Accept-Ranges"]) == (200, data, "bytes")
        status, headers, body = _get(url, {"Range": "bytes=100-199"})
        assert (status, body, headers["Content-Range"]) == (206, data[100:200], f"bytes 100-199/{len(data)}")
        status, _, body = _get(url, {"Range": "bytes=-10"})
        assert (status, body) == (206, data[-10:])
        with pytest.raises(urllib.error.HTTPError) as outside:
            _get(host.url("../etc/passwd"))
        assert outside.value.code == 404
        with pytest.raises(urllib.error.HTTPError) as beyond:
            _get(url, {"Range": f"bytes={len(data)}-"})
        assert beyond.value.code == 416
        taken = host.port
        with LocalHost(tmp_path, port=taken) as second:  # a taken port falls back to a free one
            assert second.port != taken


def test_step_clock_prints_one_numbered_line_per_step():
    lines = []
    clock = StepClock(lines.append, total=2)
    with clock.step("first") as note:
        note["detail"] = "3 clips"
    with clock.step("second"):
        pass
    assert lines[0].startswith("[1/2] first: 3 clips (") and lines[0].endswith(" s)")
    assert lines[1].startswith("[2/2] second (") and list(clock.timings) == ["first", "second"]


def test_demo_board_scores_entries_like_the_cli_and_reuses_them(synth_dataset, tmp_path):
    from baselines.run import run_baseline
    from leaderboard import store
    from leaderboard.demo import submit_demo
    from leaderboard.service import Leaderboard

    predictions = {}
    local = {}
    for name in ("train-prior", "random-sphere"):
        run = run_baseline(name, data=synth_dataset.root, split="val", out=tmp_path / f"{name}.jsonl", seed=0,
                           evaluate=True, bootstrap=200, progress=False)
        predictions[name], local[name] = tmp_path / f"{name}.jsonl", run.results
    revision = synth_dataset.build.revision
    board = submit_demo(tmp_path / "board", synth_dataset.root, synth_dataset.labels_dir, predictions,
                        revision=revision, modalities={}, bootstrap=200, seed=0)
    assert board.submitted == 2 and set(board.entries) == set(predictions)
    lb = Leaderboard(board.settings)
    try:
        for name, entry_id in board.entries.items():
            assert store.entry(lb.engine, entry_id)["status"] == store.SCORED
            scored = lb.results(entry_id)  # the publishable record: plain JSON values
            for metric in ("acc@25km", "acc@750km", "geoscore", "median_km"):
                assert scored["metrics"][metric] == dataclasses.asdict(local[name].metrics[metric])
            assert scored["dataset"]["synthetic"] is True and scored["dataset"]["revision"] == revision
    finally:
        lb.stop()
    again = submit_demo(tmp_path / "board", synth_dataset.root, synth_dataset.labels_dir, predictions,
                        revision=revision, modalities={}, bootstrap=200, seed=0)
    assert again.submitted == 0 and again.entries == board.entries


def test_demo_tables_fit_80_columns_without_cut_headers():
    """What the demo prints after its steps: no header or cell cut to '…' in a plain 80-column terminal."""
    from helpers import make_labels, predictions_at
    from rich.console import Console

    import avg_bench
    from avg_bench.report import results_renderable
    from baselines.summary import rich_table

    labels = make_labels(2)
    runs = {name: avg_bench.evaluate(predictions_at(labels, d), labels, bootstrap=50)
            for name, d in (("random-sphere", 9000.0), ("audio-atoms", 300.0), ("knn-visual", 20.0))}
    comparison = avg_bench.evaluate(predictions_at(labels, 20.0), labels, baseline=predictions_at(labels, 300.0), bootstrap=50)
    console = Console(record=True, width=80, color_system=None)
    console.print(rich_table(runs))
    console.print(results_renderable(comparison))
    text = console.export_text()
    assert "…" not in text and "Δ vs base" in text and "med.km" in text
    assert max(len(line) for line in text.splitlines()) <= 80
