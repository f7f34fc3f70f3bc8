"""``avg-bench report``: the figures of the demo's baselines and the HTML page in headless Chromium.

The curve drawn is the curve scored: at the five AVG thresholds the plotted line equals the results
JSON's accuracies. Model names are user text (``$\\frac{$`` must not reach mathtext).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from avg_bench.figures.curve import curve_figure
from avg_bench.figures.report import write_report
from avg_bench.results import Results

CHROMIUM = "/usr/bin/chromium"
HOSTILE = "$\\frac{$ <b>&"  # mathtext and HTML in one model name


@pytest.fixture(scope="module")
def demo_results(synth_dataset, tmp_path_factory) -> list[tuple[str, Results]]:
    """Two of the demo's baselines (the ones that fit in seconds), scored on AVG-Synth val and written as JSON."""
    from baselines.run import run_baseline

    folder = tmp_path_factory.mktemp("figures")
    runs = []
    for name in ("train-prior", "random-sphere"):
        run = run_baseline(name, data=synth_dataset.root, split="val", out=folder / f"{name}.jsonl", seed=0,
                           evaluate=True, bootstrap=200, progress=False)
        path = folder / f"{name}.json"
        path.write_text(run.results.to_json())
        runs.append((name, Results.from_json(path)))
    return runs


def test_curve_drawn_equals_the_results_json_at_the_five_thresholds(demo_results, tmp_path):
    runs = [(HOSTILE, demo_results[0][1]), demo_results[1]]
    page = write_report(runs, tmp_path)
    for stem in ("accuracy_curve", "continents", "error_map"):
        assert (tmp_path / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        svg = (tmp_path / f"{stem}.svg").read_text()
        assert svg.startswith("<?xml") and "</svg>" in svg
    assert "$\\frac{$ &lt;b&gt;&amp;" in (tmp_path / "accuracy_curve.svg").read_text()  # the name as typed
    figure = curve_figure(runs)
    lines = {line.get_gid(): line for line in figure.axes[0].get_lines() if line.get_gid()}
    for i, (name, results) in enumerate(runs):
        x, y = lines[f"curve-{i}"].get_data()
        assert lines[f"curve-{i}"].get_label() == name
        for radius in (1, 25, 200, 750, 2500):
            k = list(x).index(float(radius))
            assert y[k] == pytest.approx(100 * results.metrics[f"acc@{radius}km"].value, abs=1e-12)
    text = page.read_text()
    assert "Synthetic data (AVG-Synth)" in text and "(synthetic)" in text
    assert "$\\frac{$ &lt;b&gt;&amp;" in text and "<b>&" not in text


def test_report_page_fits_1280px_in_chromium_without_console_errors(demo_results, tmp_path):
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (run.sh installs it)")
    from leaderboard_tests.test_browser import CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    long_name = "a-model-name-that-goes-on-and-on-" * 4
    page_path = write_report([(long_name, demo_results[0][1]), (HOSTILE, demo_results[1][1])], tmp_path)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            loaded = page.evaluate("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert widths[0] <= widths[1] == 1280, widths
    assert loaded == [True, True, True]
    assert problems == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
