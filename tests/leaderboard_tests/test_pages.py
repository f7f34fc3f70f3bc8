"""The defects of issue 14.6, one test each (SQLite; the API suite covers PostgreSQL)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from leaderboard_tests.lb_fixtures import auth, upload

from leaderboard import store
from leaderboard.app import create_app
from leaderboard.headers import CONTENT_SECURITY_POLICY
from leaderboard.ratelimit import RateLimited, RateLimiter


@pytest.fixture
def site(make_leaderboard, tmp_path):
    """``make(**settings) -> (lb, client, token)`` on a fresh SQLite database."""
    clients = []

    def make(**overrides):
        lb = make_leaderboard(f"sqlite:///{tmp_path / f'lb{len(clients)}.sqlite3'}", **overrides)
        client = TestClient(create_app(leaderboard=lb, start_worker=False))
        client.__enter__()
        clients.append(client)
        return lb, client, store.create_token(lb.engine, "Team Alpha")

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _scored(lb, client, token, path, **fields) -> int:
    response = upload(client, token, path, **fields)
    assert response.status_code == 202, response.text
    lb.score_pending()
    return response.json()["id"]


def test_a_math_text_model_name_does_not_break_the_map(site, files):
    lb, client, token = site()
    entry = _scored(lb, client, token, files["val_good"], model_name=r"$\frac{$ net")
    png = client.get(f"/entries/{entry}/map.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert r"$\frac{$ net" in client.get(f"/entries/{entry}").text


def test_compare_page_shows_percent_teams_and_flags_few_locations(site, files):
    lb, client, token = site()
    other = store.create_token(lb.engine, "Team Beta")
    a = _scored(lb, client, token, files["val_good"], model_name="Alpha net")
    b = _scored(lb, client, other, files["val_bad"], model_name="Beta net")
    page = client.get("/compare", params={"a": a, "b": b}).text
    assert 'id="team-a">Team Alpha<' in page and 'id="team-b">Team Beta<' in page
    row = re.search(r'<tr data-metric="acc@750km"><td class="text">([^<]*)</td>\s*<td>([^<]*)</td>', page)
    assert row.group(1) == "Country 750 km (%)"
    served = client.get("/api/compare", params={"a": a, "b": b}).json()
    assert row.group(2) == f"{served['metrics']['acc@750km']['value'] * 100:.1f}"  # a percentage, not a fraction
    assert served["counts"]["locations"] == 6
    assert 'id="few-locations"' in page and "rest on only 6 locations" in page


def test_compare_of_new_pairs_is_rate_limited_and_its_cache_bounded(site, files):
    lb, client, token = site(compare_burst=2, compare_per_minute=1, compare_cache_size=2)
    ids = [_scored(lb, client, token, files[name], model_name=name) for name in ("val_good", "val_bad", "val_good")]
    assert client.get("/api/compare", params={"a": ids[0], "b": ids[1]}).status_code == 200
    assert client.get("/api/compare", params={"a": ids[1], "b": ids[2]}).status_code == 200
    limited = client.get("/api/compare", params={"a": ids[0], "b": ids[2]})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "too many new comparisons" in limited.json()["error"]
    assert client.get("/compare", params={"a": ids[0], "b": ids[2]}).status_code == 429  # the page too
    assert client.get("/api/compare", params={"a": ids[0], "b": ids[1]}).status_code == 200  # cached: free
    assert store.count_comparisons(lb.engine) == 2
    lb._compare_limit = RateLimiter(100, burst=100, total_per_minute=100)
    assert client.get("/api/compare", params={"a": ids[0], "b": ids[2]}).status_code == 200
    assert store.count_comparisons(lb.engine) == 2  # the oldest pair was dropped
    assert store.cached_comparison(lb.engine, ids[0], ids[1]) is None


def test_rate_limiter_refills_per_client_and_in_total():
    now = [0.0]
    limiter = RateLimiter(6, burst=2, total_per_minute=12, clock=lambda: now[0])
    limiter.take("a"), limiter.take("a")
    with pytest.raises(RateLimited) as info:
        limiter.take("a")
    assert info.value.retry_after == 10  # 6 per minute: one every 10 s
    limiter.take("b")  # another client has its own bucket
    now[0] = 10.0
    limiter.take("a")
    for client in "cdefghijkl":  # 2 + 1 spent, 2 refilled at t = 10 s: 11 - 1 - 10 = 0 left
        limiter.take(client)
    with pytest.raises(RateLimited):  # 12 at once over all clients, then 12 per minute
        limiter.take("z")


def test_anonymous_users_see_no_entry_before_it_is_scored_and_public(site, files):
    lb, client, token = site()
    other = store.create_token(lb.engine, "Team Beta")
    entry = upload(client, token, files["val_good"], model_name="Secret net").json()["id"]
    for headers in ({}, auth(other)):
        assert client.get(f"/api/entries/{entry}", headers=headers).status_code == 404
        assert client.get(f"/entries/{entry}", headers=headers).status_code == 404
        assert client.get(f"/entries/{entry}", params={"view": "0" * 32}).status_code == 404
    assert client.get(f"/api/entries/{entry}", headers=auth(token)).json()["status"] == "pending"
    assert client.get(f"/entries/{entry}", params={"view": lb.view_key(token, entry)}).status_code == 200
    assert "Secret net" not in client.get("/", params={"split": "val"}).text
    lb.score_pending()
    assert client.get(f"/api/entries/{entry}").json()["status"] == "scored"
    client.post(f"/api/entries/{entry}/hide", headers=auth(token))
    assert client.get(f"/entries/{entry}").status_code == 404
    assert client.get(f"/entries/{entry}/map.png").status_code == 404


def test_api_docs_use_local_assets_only(site):
    _, client, _ = site()
    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "<script>" not in page.text  # no inline script: the CSP forbids it
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 100, url
    assert "SwaggerUIBundle" in client.get("/static/swagger-ui/swagger-ui-bundle.js").text
    assert client.get("/openapi.json").json()["info"]["title"] == "AVG leaderboard API"


def test_security_headers_on_every_response(site, files, tmp_path):
    _, client, token = site(max_upload_bytes=1000)
    big = tmp_path / "big.jsonl"
    big.write_bytes(b" " * 3_000_000)
    responses = [client.get(p) for p in ("/", "/docs", "/api/health", "/api/entries/99", "/static/docs.js", "/submit")]
    responses.append(upload(client, token, big))
    assert [r.status_code for r in responses] == [200, 200, 200, 404, 200, 200, 413]
    for response in responses:
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("name", ["evil\u202egnp.exe", "zero\u200bwidth", "bell\x07", "c1\x85next", "iso\u2066late"])
def test_bidi_and_control_characters_are_refused_in_names(site, files, name):
    lb, client, token = site()
    response = upload(client, token, files["val_good"], model_name=name)
    assert response.status_code == 422
    code = next(f"U+{ord(c):04X}" for c in name if not (c.isalnum() or c in ".-"))
    assert response.json()["error"].startswith(f"field 'model_name' contains a control or bidirectional-text character ({code}")
    page = client.post("/submit", data={"token": token, "model_name": "ok", "external_data": name},
                       files={"file": ("p.jsonl", files["val_good"].read_bytes())})
    assert page.status_code == 422 and "field &#39;external_data&#39; contains a control" in page.text
    with pytest.raises(Exception, match="field 'team' contains a control or bidirectional-text character"):
        store.create_token(lb.engine, f"Team {name}")


def test_submit_form_answers_an_exhausted_quota_with_429(site, files):
    _, client, token = site()
    form = {"token": token, "model_name": "m", "split": "test"}
    first = client.post("/submit", data=form, files={"file": ("t.jsonl", files["test_good"].read_bytes())}, follow_redirects=False)
    assert first.status_code == 303 and "?view=" in first.headers["location"]
    again = client.post("/submit", data=form, files={"file": ("t.jsonl", files["test_good"].read_bytes())})
    assert again.status_code == 429 and "test quota reached: 1 of 1" in again.text
    api = upload(client, token, files["test_good"], split="test")
    assert api.status_code == 429
