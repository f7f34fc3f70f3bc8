"""The pages in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Submitting through the page and through ``avg-bench submit`` gives entries whose numbers are
exactly those of ``avg-bench evaluate`` on the same file; sorting and filtering work; the map
of errors is a real image the browser decodes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from leaderboard_tests.live_server import LiveServer

import avg_bench
from leaderboard import store

CLI = Path(sys.executable).parent / "avg-bench"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # needed as root (CI); the page is our own, on loopback
    "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (run.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live(make_leaderboard, tmp_path):
    lb = make_leaderboard(f"sqlite:///{tmp_path / 'live.sqlite3'}", workers=1)
    token = store.create_token(lb.engine, "Browser Team")
    with LiveServer(lb) as server:
        yield server, token


def _local(path: Path, labels_dir: Path) -> dict:
    return avg_bench.evaluate(path, labels_dir / "seen" / "val.jsonl", bootstrap=200, seed=0).to_dict()["metrics"]


def _submit_by_cli(url: str, token: str, path: Path, model: str, modalities: str) -> dict:
    env = {**os.environ, "AVG_BENCH_TOKEN": token}
    done = subprocess.run(
        [str(CLI), "submit", str(path), "--server", url, "--model-name", model,
         "--modalities", modalities, "--json", "--timeout", "120"],
        capture_output=True, text=True, env=env, timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_submit_by_page_and_cli_then_sort_filter_and_map(browser, live, files, labels_dir):
    server, token = live
    page = browser.new_page()
    page.goto(f"{server.url}/submit")
    page.fill("#token", token)
    page.set_input_files("#file", str(files["val_good"]))
    page.fill("#model_name", "Page model")
    page.select_option("#split", "val")
    page.select_option("#modalities", "audio")
    page.fill("#link", "https://example.org/paper")
    page.click("#submit")
    page.wait_for_url(f"{server.url}/entries/*")
    page.wait_for_selector("#status.status-scored", timeout=90_000)  # the page refreshes itself while pending
    local = _local(files["val_good"], labels_dir)
    for name in ("acc@1km", "acc@25km", "acc@200km", "acc@750km", "acc@2500km", "geoscore", "median_km", "sem_country"):
        shown = page.get_attribute(f'#metrics tr[data-metric="{name}"] td.value', "data-value")
        assert float(shown) == local[name]["value"], name
    assert page.text_content("#team") == "Browser Team"
    # Polled with evaluate (not wait_for_function, whose string predicate the page's CSP rightly refuses to eval).
    for _ in range(100):
        if page.evaluate("document.querySelector('#error-map').complete"):
            break
        page.wait_for_timeout(100)
    assert page.evaluate("document.querySelector('#error-map').naturalWidth") == 800

    by_cli = _submit_by_cli(server.url, token, files["val_bad"], "CLI model", "visual")
    assert by_cli["entry"]["status"] == "scored"
    assert by_cli["results"]["metrics"] == _local(files["val_bad"], labels_dir)

    page.goto(f"{server.url}/?split=val")
    models = page.locator("#leaderboard tbody td.model > a:first-child").all_text_contents()
    assert models == ["Page model", "CLI model"]  # ranked by GeoScore
    assert page.locator("#leaderboard tbody td.rank").all_text_contents() == ["1", "2"]
    geoscores = page.locator('#leaderboard tbody td[data-metric="geoscore"]').all_text_contents()
    assert geoscores[0].startswith(f"{local['geoscore']['value']:.0f}")

    page.click('a[data-sort="median_km"]')  # best (smallest) first
    page.wait_for_url("**sort=median_km**")
    medians = [float(v) for v in page.locator('#leaderboard tbody td[data-metric="median_km"]').evaluate_all("els => els.map(e => e.dataset.value)")]
    assert medians == sorted(medians)
    page.click('a[data-sort="median_km"]')  # again: reversed
    page.wait_for_url("**order=desc**")
    medians = [float(v) for v in page.locator('#leaderboard tbody td[data-metric="median_km"]').evaluate_all("els => els.map(e => e.dataset.value)")]
    assert medians == sorted(medians, reverse=True)

    page.select_option("#filter-modalities", "visual")
    page.click("#apply-filters")
    page.wait_for_url("**modalities=visual**")
    assert page.locator("#leaderboard tbody td.model > a:first-child").all_text_contents() == ["CLI model"]
    page.select_option("#filter-split", "test")
    page.select_option("#filter-modalities", "")
    page.click("#apply-filters")
    page.wait_for_url("**split=test**")
    assert page.locator("#empty").is_visible()

    page.goto(f"{server.url}/?split=val")
    page.click("text=Page model")
    page.click("#compare-form button")
    page.wait_for_url("**/compare?**")
    difference = float(page.get_attribute('#comparison tr[data-metric="geoscore"] td.difference', "data-value"))
    assert difference == pytest.approx(local["geoscore"]["value"] - by_cli["results"]["metrics"]["geoscore"]["value"], abs=1e-9)
    page.close()


def test_page_submission_errors_are_shown_in_the_form(browser, live, tmp_path):
    server, token = live
    bad = tmp_path / "mine.jsonl"
    bad.write_text('{"clip_id": "v-paris-0", "lat": 123.0, "lon": 2}\n', encoding="utf-8")
    page = browser.new_page()
    page.goto(f"{server.url}/submit")
    page.fill("#token", token)
    page.set_input_files("#file", str(bad))
    page.fill("#model_name", "<b>bold</b>")
    page.click("#submit")
    page.wait_for_selector("#error")
    assert page.text_content("#error") == "mine.jsonl:1: field 'lat' is out of range: 123.0 is not in [-90, 90]"
    assert page.input_value("#model_name") == "<b>bold</b>"  # kept, as text
    page.fill("#token", "wrong")
    page.set_input_files("#file", str(bad))
    page.click("#submit")
    page.wait_for_selector("#error")
    assert page.text_content("#error") == "the token is not valid (unknown or revoked)"
    page.close()


LONG_MODEL = "Audio-Visual-Geolocation-Transformer-" * 5 + "v2"  # 187 characters, no space to break at
LONG_TEAM = "Laboratory-of-Very-Long-Institutional-Names-" * 2 + "Geo"


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_pages_fit_1280px_with_long_names_and_log_no_console_errors(browser, make_leaderboard, tmp_path, files):
    from leaderboard.submissions import SubmissionMeta

    lb = make_leaderboard(f"sqlite:///{tmp_path / 'wide.sqlite3'}", workers=0)
    teams = [store.authenticate(lb.engine, store.create_token(lb.engine, name)) for name in (LONG_TEAM, "Short")]
    ids = []
    for team, name, path in ((teams[0], LONG_MODEL, files["val_good"]), (teams[1], "short net", files["val_bad"])):
        with path.open("rb") as handle:
            ids.append(lb.submit(team, SubmissionMeta(model_name=name, link="https://example.org/" + "x" * 300), handle, path.name)["id"])
    assert lb.score_pending() == 2
    problems: list[str] = []
    with LiveServer(lb) as server:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        for path in ("/?split=val", f"/entries/{ids[0]}", f"/compare?a={ids[0]}&b={ids[1]}", "/submit"):
            page.goto(server.url + path)
            page.wait_for_load_state("load")
            assert _no_horizontal_scroll(page), (path, page.evaluate("document.documentElement.scrollWidth"))
        page.goto(f"{server.url}/?split=val")
        assert page.locator("#leaderboard tbody td.model").first.get_attribute("title") == LONG_MODEL  # full name on hover
        assert page.locator("#leaderboard tbody td.team").first.get_attribute("title") == LONG_TEAM
        name = page.locator("#leaderboard tbody td.model > a:first-child").first
        assert name.text_content() == LONG_MODEL
        assert name.evaluate("e => e.scrollWidth > e.clientWidth")  # truncated with an ellipsis, not overflowing
        page.goto(f"{server.url}/docs")  # Swagger UI from local files, under the CSP
        page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
        assert "AVG leaderboard API" in page.text_content(".swagger-ui .info .title")
        page.close()
    assert problems == []
