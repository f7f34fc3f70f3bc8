"""The JSON API end to end, once on SQLite and once on a real PostgreSQL server."""

from __future__ import annotations

import time

import pytest
from leaderboard_tests.lb_fixtures import auth, upload
from sqlalchemy import text

import avg_bench
from leaderboard import migrations, store
from leaderboard.db import make_engine, open_database

VAL_LABELS = "seen/val.jsonl"


def _scored(client, lb, entry_id: int, token: str | None = None) -> dict:
    lb.score_pending()
    body = client.get(f"/api/entries/{entry_id}", headers=auth(token) if token else {}).json()
    assert body["status"] == "scored", body
    return body


def test_val_submission_scores_exactly_like_evaluate(client, lb, token, files, labels_dir):
    response = upload(client, token, files["val_good"], model_name="Good model", modalities="audio")
    assert response.status_code == 202
    entry = response.json()
    assert (entry["status"], entry["team"], entry["n_predictions"], entry["split"]) == ("pending", "Team Alpha", 24, "val")

    scored = _scored(client, lb, entry["id"])
    served = client.get(f"/api/entries/{entry['id']}/results").json()
    local = avg_bench.evaluate(files["val_good"], labels_dir / VAL_LABELS, bootstrap=200, seed=0).to_dict()
    assert served["metrics"] == local["metrics"]
    assert served["by_continent"] == local["by_continent"]
    assert served["macro"] == local["macro"]
    assert served["counts"] == local["counts"]
    assert served["predictions"]["sha256"] == local["predictions"]["sha256"]
    assert served["dataset"]["labels"] == "the val split, configuration seen"  # never the server's path
    assert scored["summary"]["metrics"]["geoscore"] == local["metrics"]["geoscore"]


def test_test_split_quota_is_one_per_week_and_resets(client, lb, token, files):
    first = upload(client, token, files["test_good"], split="test")
    assert first.status_code == 202
    second = upload(client, token, files["test_bad"], split="test")
    assert second.status_code == 429
    assert second.json()["error"].startswith("test quota reached: 1 of 1 scored test submission(s) per 7 days used")
    assert upload(client, token, files["val_good"]).status_code == 202  # val has no quota
    other = store.create_token(lb.engine, "Team Beta")
    assert upload(client, other, files["test_bad"], split="test").status_code == 202  # quotas are per team

    me = client.get("/api/me", headers=auth(token)).json()
    assert me["quota"]["used"] == 1 and me["quota"]["remaining"] == 0 and me["quota"]["next_available_at"]
    with lb.engine.begin() as conn:  # eight days later
        conn.execute(text("UPDATE entries SET created_at = created_at - 8 * 86400"))
    assert upload(client, token, files["test_bad"], split="test").status_code == 202


def test_table_ranks_sorts_and_filters(client, lb, token, files):
    ids = {}
    for name, key, modalities in (("good", "val_good", "audio"), ("bad", "val_bad", "visual"), ("good-too", "val_good", "audio+visual")):
        ids[name] = upload(client, token, files[key], model_name=name, modalities=modalities).json()["id"]
    lb.score_pending()

    board = client.get("/api/entries", params={"split": "val"}).json()["entries"]
    assert [(e["model_name"], e["rank"]) for e in board] == [("good", 1), ("good-too", 1), ("bad", 3)]  # ties share a rank
    by_median = client.get("/api/entries", params={"split": "val", "sort": "median_km", "order": "desc"}).json()["entries"]
    assert by_median[0]["model_name"] == "bad"
    medians = [e["summary"]["metrics"]["median_km"]["value"] for e in by_median]
    assert medians == sorted(medians, reverse=True)
    only_visual = client.get("/api/entries", params={"split": "val", "modalities": "visual"}).json()["entries"]
    assert [(e["model_name"], e["rank"]) for e in only_visual] == [("bad", 3)]
    prior = upload(client, token, files["val_bad"], model_name="a-prior", modalities="none").json()["id"]
    lb.score_pending()
    priors = client.get("/api/entries", params={"split": "val", "modalities": "none"}).json()["entries"]
    assert [(e["id"], e["modalities"]) for e in priors] == [(prior, "none")]  # a prior reads no input: not "audio+visual"
    both = client.get("/api/entries", params={"split": "val", "modalities": "audio+visual"}).json()["entries"]
    assert [e["model_name"] for e in both] == ["good-too"]
    assert client.get("/api/entries", params={"split": "test"}).json()["entries"] == []
    assert client.get("/api/entries", params={"split": "nope"}).status_code == 422


def test_teams_hide_show_and_withdraw_only_their_own(client, lb, token, files):
    entry_id = upload(client, token, files["val_good"]).json()["id"]
    lb.score_pending()
    other = store.create_token(lb.engine, "Team Beta")
    assert client.post(f"/api/entries/{entry_id}/hide", headers=auth(other)).status_code == 404
    assert client.post(f"/api/entries/{entry_id}/hide", headers=auth(token)).json()["hidden"] is True
    assert client.get("/api/entries", params={"split": "val"}).json()["entries"] == []
    assert client.get(f"/api/entries/{entry_id}").status_code == 404
    assert client.get(f"/api/entries/{entry_id}", headers=auth(other)).status_code == 404
    assert client.get(f"/entries/{entry_id}").status_code == 404
    assert client.get(f"/api/entries/{entry_id}", headers=auth(token)).json()["hidden"] is True
    assert client.post(f"/api/entries/{entry_id}/show", headers=auth(token)).json()["hidden"] is False
    assert len(client.get("/api/entries", params={"split": "val"}).json()["entries"]) == 1
    assert client.post(f"/api/entries/{entry_id}/withdraw", headers=auth(token)).json()["withdrawn"] is True
    assert client.get("/api/entries", params={"split": "val"}).json()["entries"] == []
    assert [e["id"] for e in client.get("/api/me", headers=auth(token)).json()["entries"]] == [entry_id]


def test_compare_is_the_paired_test_of_evaluate(client, lb, token, files, labels_dir):
    a = upload(client, token, files["val_good"], model_name="a").json()["id"]
    b = upload(client, token, files["val_bad"], model_name="b").json()["id"]
    lb.score_pending()
    served = client.get("/api/compare", params={"a": a, "b": b}).json()
    local = avg_bench.evaluate(files["val_good"], labels_dir / VAL_LABELS, baseline=files["val_bad"], bootstrap=200, seed=0).to_dict()
    assert served["comparison"]["metrics"] == local["comparison"]["metrics"]
    assert served["comparison"]["metrics"]["geoscore"]["value"] > 0
    assert client.get("/api/compare", params={"a": a, "b": b}).json() == served  # from the cache
    page = client.get("/compare", params={"a": a, "b": b})
    assert page.status_code == 200 and "Paired cluster bootstrap" in page.text
    assert client.get("/api/compare", params={"a": a, "b": a}).status_code == 400


def test_pages_show_the_entry(client, lb, token, files):
    entry_id = upload(client, token, files["val_good"], model_name="Shown").json()["id"]
    view = lb.view_key(token, entry_id)  # the link the submission form redirects its team to
    assert 'http-equiv="refresh"' in client.get(f"/entries/{entry_id}", params={"view": view}).text  # pending: refreshes itself
    lb.score_pending()
    page = client.get(f"/entries/{entry_id}").text
    assert "Shown" in page and 'id="error-map"' in page and 'data-continent="EU"' in page
    png = client.get(f"/entries/{entry_id}/map.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    table = client.get("/", params={"split": "val"}).text
    assert f'data-entry="{entry_id}"' in table


def test_background_worker_scores_without_being_asked(make_leaderboard, db_url, files):
    from fastapi.testclient import TestClient

    from leaderboard.app import create_app

    lb = make_leaderboard(db_url, workers=1)
    token = store.create_token(lb.engine, "Team Worker")
    with TestClient(create_app(leaderboard=lb, start_worker=True)) as client:
        entry_id = upload(client, token, files["val_good"]).json()["id"]
        deadline = time.monotonic() + 60
        while client.get(f"/api/entries/{entry_id}", headers=auth(token)).json()["status"] != "scored":
            assert time.monotonic() < deadline, "not scored within 60 s"
            time.sleep(0.2)


def test_upgrade_from_schema_v1_keeps_the_data(db_url):
    engine = make_engine(db_url)
    assert migrations.upgrade(engine, target=1) == (0, 1)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO teams (id, name, created_at, test_submissions) VALUES (1, 'Old Team', 1.0, 0)"))
        conn.execute(text(
            "INSERT INTO entries (team_id, model_name, link, modalities, external_data, toolkit_version, dataset_version, split, config, "
            "status, error, hidden, withdrawn, n_predictions, predictions_sha256, created_at, summary) VALUES "
            "(1, 'old model', '', 'audio', '', '0.0.1', '', 'val', 'seen', 'scored', '', false, false, 3, '', 2.0, :summary)"
        ), {"summary": '{"metrics": {"geoscore": {"value": 1.0, "ci_low": null, "ci_high": null}}}'})
    engine.dispose()

    upgraded = open_database(db_url)
    with upgraded.connect() as conn:
        assert migrations.current_version(conn) == migrations.LATEST == 3
    assert store.board_revision(upgraded) == 0  # the v3 counter exists
    rows = store.entries(upgraded, split="val", config="seen")
    assert [(r["model_name"], r["team"], r["summary"]["metrics"]["geoscore"]["value"]) for r in rows] == [("old model", "Old Team", 1.0)]
    assert store.cached_comparison(upgraded, 1, 1) is None  # the v2 table exists
    with upgraded.begin() as conn:
        conn.execute(text("UPDATE schema_version SET version = 99"))
    upgraded.dispose()
    with pytest.raises(avg_bench.AvgBenchError, match="schema version 99, newer than this avg-bench"):
        open_database(db_url)


def test_cached_table_sees_writes_of_another_server(client, lb, make_leaderboard, db_url, token, files):
    entry_id = upload(client, token, files["val_good"], model_name="cached").json()["id"]
    lb.score_pending()
    assert [e["id"] for e in client.get("/api/entries", params={"split": "val"}).json()["entries"]] == [entry_id]
    assert "cached" in client.get("/", params={"split": "val"}).text
    other_process = make_leaderboard(db_url)  # a second server on the same database
    team = store.authenticate(other_process.engine, token)
    assert store.set_visibility(other_process.engine, team, entry_id, hidden=True)
    assert client.get("/api/entries", params={"split": "val"}).json()["entries"] == []
    assert 'id="empty"' in client.get("/", params={"split": "val"}).text


def test_a_scoring_failure_is_shown_to_its_team_and_not_charged(client, lb, make_leaderboard, db_url, token, files, tmp_path):
    entry_id = upload(client, token, files["test_good"], split="test").json()["id"]
    from leaderboard.config import Settings
    from leaderboard.service import Leaderboard

    without_labels = Leaderboard(Settings(db_url=db_url, labels_dir=tmp_path / "empty", workers=0))
    try:
        assert without_labels.score_pending() == 1
    finally:
        without_labels.stop()
    mine = client.get(f"/api/entries/{entry_id}", headers=auth(token)).json()
    assert mine["status"] == "failed"
    assert mine["error"] == "this leaderboard holds no labels for split 'test' of configuration 'seen'"
    assert client.get(f"/api/entries/{entry_id}").status_code == 404  # a failed entry is its team's business only
    assert client.get("/api/me", headers=auth(token)).json()["quota"]["used"] == 0
    assert upload(client, token, files["test_good"], split="test").status_code == 202  # the quota was not used up
