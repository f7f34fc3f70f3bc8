"""Refusals and leaks: tokens, quota under concurrency, hostile uploads, injections, hidden labels."""

from __future__ import annotations

import json
import re
import threading

import pytest
from leaderboard_tests.lb_fixtures import auth, hidden_label_records, upload, write_jsonl
from sqlalchemy import func, select

from avg_bench import AvgBenchError, load_labels, read_predictions
from leaderboard import schema, store
from leaderboard.export import export_table
from leaderboard.submissions import SubmissionMeta

WRITES = [("POST", "/api/entries/1/hide"), ("POST", "/api/entries/1/show"), ("POST", "/api/entries/1/withdraw"), ("GET", "/api/me")]


def test_missing_wrong_and_revoked_tokens_are_refused(client, lb, token, files):
    no_token = upload(client, None, files["val_good"])
    assert no_token.status_code == 401 and "a team token is required" in no_token.json()["error"]
    wrong = upload(client, "avgt_" + "x" * 43, files["val_good"])
    assert wrong.status_code == 401 and wrong.json()["error"] == "the token is not valid (unknown or revoked)"
    assert upload(client, token, files["val_good"]).status_code == 202
    assert store.revoke_tokens(lb.engine, prefix=token[:12]) == 1
    revoked = upload(client, token, files["val_good"])
    assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]
    for method, path in WRITES:
        for headers in ({}, auth("nope"), auth(token)):
            assert client.request(method, path, headers=headers).status_code == 401, (method, path, headers)
    page = client.post("/submit", data={"token": token, "model_name": "m"}, files={"file": ("p.jsonl", files["val_good"].read_bytes())})
    assert page.status_code == 401 and "revoked" in page.text
    assert [row["revoked_at"] is not None for row in store.list_tokens(lb.engine)] == [True]


@pytest.mark.parametrize("limit", [1, 3])
def test_quota_holds_under_concurrent_test_submissions(make_leaderboard, db_url, files, limit):
    lb = make_leaderboard(db_url, quota_count=limit)
    team = store.authenticate(lb.engine, store.create_token(lb.engine, "Racers"))
    meta = SubmissionMeta(model_name="race", split="test")
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def one() -> None:
        start.wait()
        try:
            with files["test_good"].open("rb") as handle:
                lb.submit(team, meta, handle, "p.jsonl")
            outcomes.append("accepted")
        except store.QuotaExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted"] * limit + ["refused"] * (8 - limit)
    with lb.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.entries)).scalar() == limit


def test_oversized_uploads_are_refused_with_the_limit(make_leaderboard, db_url, files):
    from fastapi.testclient import TestClient

    from leaderboard.app import create_app

    lb = make_leaderboard(db_url, max_upload_bytes=1000)
    token = store.create_token(lb.engine, "Big")
    with TestClient(create_app(leaderboard=lb, start_worker=False)) as client:
        over = upload(client, token, files["val_good"])  # ~1.4 kB: the handler counts it
        assert over.status_code == 413
        assert over.json()["error"] == "the upload is larger than this server's limit of 1,000 bytes (0 MiB)"
        huge = client.post("/api/submissions", headers=auth(token), data={"model_name": "m"},
                           files={"file": ("p.jsonl", b"{}\n" * (1 << 20))})  # 3 MiB: refused from Content-Length
        assert huge.status_code == 413 and "limit" in huge.json()["error"]

        def chunks():  # no Content-Length: refused while streaming
            yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jsonl\"\r\n\r\n"
            for _ in range(64):
                yield b"x" * 65536
        streamed = client.post("/api/submissions", headers={**auth(token), "Content-Type": "multipart/form-data; boundary=b"}, content=chunks())
        assert streamed.status_code == 413
    assert store.entries(lb.engine, statuses=None) == []


MALFORMED = {
    "not json": (b'{"clip_id": "v-paris-0", "lat": 1, "lon": 2}\n{oops\n', "bad.jsonl:2: not valid JSON"),
    "out of range": (b'{"clip_id": "v-paris-0", "lat": 91.5, "lon": 2}\n', "bad.jsonl:1: field 'lat' is out of range: 91.5 is not in [-90, 90]"),
    "nan": (b'{"clip_id": "v-paris-0", "lat": NaN, "lon": 2}\n', "bad.jsonl:1: NaN is not valid JSON: numbers must be finite"),
    "unknown id": (b'{"clip_id": "v-pariss-0", "lat": 1, "lon": 2}\n',
                   "bad.jsonl:1: unknown clip_id 'v-pariss-0': not in the labels (the val split, configuration seen); did you mean 'v-paris-0'?"),
    "duplicate": (b'{"clip_id": "v-paris-0", "lat": 1, "lon": 2}\n{"clip_id": "v-paris-0", "lat": 1, "lon": 2}\n',
                  "bad.jsonl:2: duplicate clip_id 'v-paris-0' (first on line 1)"),
    "empty": (b"", "bad.jsonl: the file is empty: expected one JSON object per line"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00", "bad.jsonl:1: not valid UTF-8"),
    "incomplete": (b'{"clip_id": "v-paris-0", "lat": 1, "lon": 2}\n', "bad.jsonl: 23 labelled clip(s) have no prediction"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_uploads_get_the_scorers_messages(client, token, case, tmp_path, labels_dir):
    content, expected = MALFORMED[case]
    response = client.post("/api/submissions", headers=auth(token), data={"model_name": "m"}, files={"file": ("bad.jsonl", content)})
    assert response.status_code == 422
    assert response.json()["error"].startswith(expected)
    local = tmp_path / "bad.jsonl"
    local.write_bytes(content)
    # The same words as the local scorer, but for the path of the labels.
    labels = load_labels(labels_dir / "seen" / "val.jsonl")
    with pytest.raises(AvgBenchError) as raised:
        read_predictions(local, labels).ensure_complete(labels)
    local_words = str(raised.value).replace(str(local), "bad.jsonl")
    local_words = local_words.replace(str(labels_dir / "seen" / "val.jsonl"), "the val split, configuration seen")
    assert local_words == response.json()["error"]


INJECTIONS = [
    "<script>alert('x')</script>",
    "'; DROP TABLE entries; --",
    "\" OR 1=1 --",
    "../../../../etc/passwd",
    "{{ 7*7 }}{% raw %}",
    "Robert'); DELETE FROM teams;--",
    "%00%2e%2e%2f",
]


def test_injection_attempts_in_every_text_field_are_inert(client, lb, token, files):
    for i, attack in enumerate(INJECTIONS):
        fields = {"model_name": attack, "external_data": attack, "dataset_version": attack[:100], "toolkit_version": attack[:50]}
        with files["val_good"].open("rb") as handle:
            response = client.post("/api/submissions", headers=auth(token), data=fields,
                                   files={"file": (attack + ".jsonl", handle)})
        assert response.status_code == 202, response.text
        assert response.json()["model_name"] == attack  # stored verbatim, as data
    lb.score_pending()
    bad_link = upload(client, token, files["val_good"], link="javascript:alert(1)")
    assert bad_link.status_code == 422 and "field 'link'" in bad_link.json()["error"]
    bad_field = client.get("/api/entries", params={"split": "val' OR '1'='1"})
    assert bad_field.status_code == 422
    rows = client.get("/api/entries", params={"split": "val"}).json()["entries"]
    assert sorted(r["model_name"] for r in rows) == sorted(INJECTIONS)
    page = client.get("/", params={"split": "val"}).text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "49" not in re.findall(r"\{\{ 7\*7 \}\}|49", page)  # not evaluated as a template
    for row in rows:
        assert "<script>alert" not in client.get(f"/entries/{row['id']}").text
    markdown = export_table(lb.engine, fmt="md", split="val")
    html = export_table(lb.engine, fmt="html", split="val")
    assert "<script>" not in markdown and "<script>" not in html and "&lt;script&gt;" in html
    with lb.engine.connect() as conn:  # nothing was dropped or deleted
        assert conn.execute(select(func.count()).select_from(schema.teams)).scalar() == 1
    path_attack = client.post("/api/submissions", headers=auth(token), data={"model_name": "m"},
                              files={"file": ("../../etc/passwd", b'{"clip_id": "nope", "lat": 0, "lon": 0}\n')})
    assert path_attack.json()["error"].startswith("passwd:1: unknown clip_id 'nope'")


def _label_strings() -> set[str]:
    """Every way a hidden coordinate or location id could be printed."""
    found = set()
    for record in hidden_label_records():
        for key in ("lat", "lon"):
            value = record[key]
            found |= {repr(value), f"{value:.5f}", f"{value:.4f}"}
        found.add(record["location_id"])
    return found


def test_no_response_reveals_the_hidden_test_labels(client, lb, token, files, tmp_path):
    other = store.create_token(lb.engine, "Team Beta")
    good = upload(client, token, files["test_good"], split="test", model_name="g").json()["id"]
    bad = upload(client, other, files["test_bad"], split="test", model_name="b").json()["id"]
    lb.score_pending()
    records = hidden_label_records()
    probes = [  # hostile or mistaken uploads on the test split
        b'{"clip_id": "avg1-t0000", "lat": 1, "lon": 2}\n',
        b'{"clip_id": "avg1-t00000", "lat": 1, "lon": 2}\n',
        b"not json\n",
    ]
    responses = []
    for probe in probes:
        responses.append(client.post("/api/submissions", headers=auth(token), data={"model_name": "p", "split": "test"},
                                     files={"file": ("probe.jsonl", probe)}))
    write_jsonl(tmp_path / "x.jsonl", [{"clip_id": r["clip_id"], "lat": 0, "lon": 0} for r in records])
    for path in ["/", "/?split=test", "/?split=test&sort=median_km", "/submit", "/docs", "/openapi.json", "/api/health",
                 "/api/entries?split=test", f"/entries/{good}", f"/entries/{bad}", f"/api/entries/{good}",
                 f"/api/entries/{good}/results", f"/api/entries/{bad}/results", f"/api/compare?a={good}&b={bad}",
                 f"/compare?a={good}&b={bad}", "/api/entries/9999", f"/entries/{good}/map.png"]:
        responses.append(client.get(path))
        responses.append(client.get(path, headers=auth(token)))
    responses.append(client.get("/api/me", headers=auth(token)))
    assert all(r.status_code < 500 for r in responses)
    bodies = [r.content for r in responses] + [export_table(lb.engine, fmt=f, split="test").encode() for f in ("md", "html")]
    leaks = {s for s in _label_strings() for body in bodies if s.encode() in body}
    planted = json.dumps(records).encode()  # the search itself finds what it looks for
    assert all(s.encode() in planted for r in records for s in (repr(r["lat"]), repr(r["lon"]), r["location_id"]))
    assert leaks == set()
    assert any(b"geoscore" in body for body in bodies)  # the crawl did read scored results
