"""Fixtures of the leaderboard tests: server-held labels, SQLite and a real PostgreSQL, a client.

The API suite runs once per database (``db_url`` is parametrised). PostgreSQL and Chromium are
real programs; when they cannot start, the tests fail (they are installed by run.sh), never skip.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from leaderboard_tests.lb_fixtures import (
    hidden_label_records,
    predictions_for,
    val_label_records,
    write_jsonl,
)


@pytest.fixture(scope="session")
def labels_dir(tmp_path_factory) -> Path:
    """``DIR/seen/val.jsonl`` and ``DIR/seen/test.parquet`` (the shape `avg-bench build` writes)."""
    root = tmp_path_factory.mktemp("server-labels")
    (root / "seen").mkdir()
    write_jsonl(root / "seen" / "val.jsonl", val_label_records())
    table = pa.Table.from_pylist(hidden_label_records()).replace_schema_metadata({"avg_bench.revision": "test-rev"})
    pq.write_table(table, root / "seen" / "test.parquet")
    return root


@pytest.fixture(scope="session")
def postgres_server():
    from leaderboard_tests.pg_server import PostgresServer

    try:
        server = PostgresServer()
        url = server.start()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"could not start PostgreSQL for the tests: {exc}")
    yield url
    server.stop()


_db_counter = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'leaderboard.sqlite3'}"
    import psycopg

    base = request.getfixturevalue("postgres_server")
    name = f"lb_{next(_db_counter)}_{abs(hash(request.node.nodeid)) % 10**8}"
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def make_leaderboard(labels_dir):
    """Build a :class:`Leaderboard` with test settings; scoring runs when the test asks (workers=0)."""
    from leaderboard.config import Settings
    from leaderboard.service import Leaderboard

    made = []

    def make(db_url: str, **overrides):
        settings = Settings(db_url=db_url, labels_dir=labels_dir, **{"workers": 0, "bootstrap": 200, **overrides})
        lb = Leaderboard(settings)
        made.append(lb)
        return lb

    yield make
    for lb in made:
        lb.stop()


@pytest.fixture
def lb(make_leaderboard, db_url):
    return make_leaderboard(db_url)


@pytest.fixture
def client(lb):
    from fastapi.testclient import TestClient

    from leaderboard.app import create_app

    with TestClient(create_app(leaderboard=lb, start_worker=False)) as c:
        yield c


@pytest.fixture
def token(lb) -> str:
    from leaderboard import store

    return store.create_token(lb.engine, "Team Alpha")


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    """Prediction files for both splits: good, worse, and a val file on the val labels."""
    val = val_label_records()
    test = hidden_label_records()
    return {
        "val_good": write_jsonl(tmp_path / "val_good.jsonl", predictions_for(val, np.linspace(0.5, 900, len(val)), seed=1)),
        "val_bad": write_jsonl(tmp_path / "val_bad.jsonl", predictions_for(val, np.linspace(100, 5000, len(val)), seed=2)),
        "test_good": write_jsonl(tmp_path / "test_good.jsonl", predictions_for(test, np.linspace(0.5, 3000, len(test)), seed=3)),
        "test_bad": write_jsonl(tmp_path / "test_bad.jsonl", predictions_for(test, np.linspace(50, 8000, len(test)), seed=4)),
    }


