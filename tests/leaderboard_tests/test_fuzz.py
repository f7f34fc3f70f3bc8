"""Fuzz the API from its own OpenAPI spec (schemathesis): whatever is sent, never a 5xx, and every
response matches the schema the spec publishes for its status (``leaderboard.responses``).

Bounded: a few dozen generated requests per operation, once without and once with a valid token,
on SQLite (the same app runs on PostgreSQL in the API suite), with some entries already scored.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from leaderboard_tests.lb_fixtures import auth, upload
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.failures import FailureGroup

from leaderboard import store, table


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, labels_dir):
    from fastapi.testclient import TestClient
    from leaderboard_tests.lb_fixtures import predictions_for, val_label_records, write_jsonl

    from leaderboard.app import create_app
    from leaderboard.config import Settings
    from leaderboard.service import Leaderboard

    folder = tmp_path_factory.mktemp("fuzz")
    lb = Leaderboard(Settings(db_url=f"sqlite:///{folder / 'fuzz.sqlite3'}", labels_dir=labels_dir, workers=0, bootstrap=50,
                              max_upload_bytes=200_000))
    token = store.create_token(lb.engine, "Fuzzers")
    app = create_app(leaderboard=lb, start_worker=False)
    with TestClient(app) as client:
        good = write_jsonl(folder / "p.jsonl", predictions_for(val_label_records(), 10.0))
        for name in ("one", "two"):
            assert upload(client, token, good, model_name=name).status_code == 202
        lb.score_pending()
    yield app, token
    lb.stop()


OPERATIONS = [
    "GET /api/health", "GET /api/entries", "GET /api/entries/{entry_id}", "GET /api/entries/{entry_id}/results",
    "GET /api/compare", "POST /api/submissions", "GET /api/me", "POST /api/entries/{entry_id}/hide",
    "POST /api/entries/{entry_id}/show", "POST /api/entries/{entry_id}/withdraw",
]


def test_the_spec_lists_every_operation(fuzzed):
    app, _ = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    assert sorted(result.ok().label for result in schema.get_all_operations()) == sorted(OPERATIONS)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("with_token", [False, True], ids=["anonymous", "team"])
def test_no_generated_request_makes_a_server_error(fuzzed, operation, with_token):
    app, token = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    (found,) = [r.ok() for r in schema.get_all_operations() if r.ok().label == operation]
    headers = auth(token) if with_token else None

    @given(case=found.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    def check(case) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

    check()


def test_every_operation_documents_its_responses(fuzzed):
    app, _ = fuzzed
    paths = app.openapi()["paths"]
    for operation in OPERATIONS:
        method, path = operation.split(" ")
        responses = paths[path][method.lower()]["responses"]
        success = "202" if operation == "POST /api/submissions" else "200"
        assert set(responses) == {success, "4XX", "5XX"}, operation  # no framework 422 that the app never sends
        for status in responses.values():
            assert "$ref" in status["content"]["application/json"]["schema"], operation


def test_a_response_that_drifts_from_its_model_fails_the_schema_check(fuzzed, monkeypatch):
    # Planted: the table leaks a column its model does not publish. The table route sends its cached
    # JSON as is (no response_model serialisation), so only the schema check can see the drift.
    import collections

    import leaderboard.api as api

    app, _ = fuzzed
    monkeypatch.setattr(api, "public", lambda row, **kw: {**table.public(row, **kw), "team_id": row["team_id"]})
    monkeypatch.setattr(app.state.leaderboard, "_views", collections.OrderedDict())
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    (found,) = [r.ok() for r in schema.get_all_operations() if r.ok().label == "GET /api/entries"]
    case = found.Case(query={"split": "val", "config": "seen"})
    case.call_and_validate(checks=[not_a_server_error])  # the status is fine: only the body drifted
    with pytest.raises(FailureGroup) as failure:
        case.call_and_validate(checks=[response_schema_conformance])
    (found_failure,) = failure.value.exceptions
    assert found_failure.title == "Response violates schema" and "'team_id' was unexpected" in str(found_failure)
