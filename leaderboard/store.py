"""Everything the server reads and writes in its database, as small functions over an engine.

The quota check and the insert of a test entry share one transaction that begins by updating the
team's row: PostgreSQL locks that row, SQLite takes its write lock, so two concurrent submissions
of one team are serialised and the second sees the first (no check-then-insert race).
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from avg_bench.errors import AvgBenchError
from leaderboard import schema as t
from leaderboard.db import writing
from leaderboard.tokens import display_prefix, new_token, token_hash

#: Entry states: pending -> scoring -> scored | failed.
PENDING, SCORING, SCORED, FAILED = "pending", "scoring", "scored", "failed"
#: States that use up quota: failed submissions are not charged.
CHARGED = (PENDING, SCORING, SCORED)


class QuotaExceeded(AvgBenchError):
    """The team has used its scored test submissions for the current window."""

    def __init__(self, used: int, limit: int, days: float, next_at: float | None) -> None:
        self.next_at = next_at
        when = "" if next_at is None else f"; the next one is possible after {_iso(next_at)}"
        super().__init__(
            f"test quota reached: {used} of {limit} scored test submission(s) per {days:g} days used{when}. "
            "Use --split val for development runs (no quota)."
        )


@dataclass(frozen=True)
class Team:
    """A team, as a token authenticates it."""
    id: int
    name: str


@dataclass(frozen=True)
class Quota:
    """A team's use of its test-submission quota over the rolling window."""
    used: int
    limit: int
    days: float
    next_at: float | None  # when a slot frees up, if the quota is used up

    def to_dict(self) -> dict[str, Any]:
        """The quota as the API reports it."""
        return {
            "used": self.used,
            "limit": self.limit,
            "window_days": self.days,
            "remaining": max(self.limit - self.used, 0),
            "next_available_at": None if self.next_at is None else _iso(self.next_at),
        }


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


# Teams and tokens (the admin CLI).


def create_token(engine: Engine, team_name: str) -> str:
    """A new token for ``team_name`` (the team is created on first use); shown once, stored hashed."""
    from leaderboard.submissions import check_name

    name = team_name.strip()
    if not name or len(name) > 100:
        raise AvgBenchError("team name must be 1 to 100 characters")
    check_name(name, "team")
    token = new_token()
    now = time.time()
    with writing(engine) as conn:
        team_id = conn.execute(select(t.teams.c.id).where(t.teams.c.name == name)).scalar()
        if team_id is None:
            try:
                team_id = conn.execute(t.teams.insert().values(name=name, created_at=now, test_submissions=0)).inserted_primary_key[0]
            except IntegrityError:  # created concurrently
                team_id = conn.execute(select(t.teams.c.id).where(t.teams.c.name == name)).scalar_one()
        conn.execute(
            t.tokens.insert().values(
                team_id=team_id, token_hash=token_hash(token), prefix=display_prefix(token), created_at=now
            )
        )
    return token


def revoke_tokens(engine: Engine, *, team: str | None = None, prefix: str | None = None) -> int:
    """Revoke every live token of ``team``, or the one whose display prefix is ``prefix``."""
    if (team is None) == (prefix is None):
        raise AvgBenchError("give exactly one of --team NAME or a token prefix")
    condition = t.tokens.c.revoked_at.is_(None)
    if team is not None:
        condition = and_(condition, t.tokens.c.team_id == select(t.teams.c.id).where(t.teams.c.name == team).scalar_subquery())
    else:
        if len(prefix) < 8:
            raise AvgBenchError("give at least the first 8 characters of the token (as `token list` shows them)")
        condition = and_(condition, t.tokens.c.prefix.startswith(prefix[:12], autoescape=True))
    with writing(engine) as conn:
        return conn.execute(update(t.tokens).where(condition).values(revoked_at=time.time())).rowcount


def list_tokens(engine: Engine) -> list[dict[str, Any]]:
    """Every token with its team and dates; never the token itself (only its display prefix is stored in clear)."""
    query = (
        select(t.teams.c.name.label("team"), t.tokens.c.prefix, t.tokens.c.created_at, t.tokens.c.revoked_at, t.tokens.c.last_used_at)
        .join(t.teams, t.teams.c.id == t.tokens.c.team_id)
        .order_by(t.teams.c.name, t.tokens.c.id)
    )
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def authenticate(engine: Engine, token: str | None) -> Team | None:
    """The team of a live token, or ``None`` (missing, unknown or revoked)."""
    if not token or len(token) > 200:
        return None
    with writing(engine) as conn:
        row = conn.execute(
            select(t.tokens.c.id, t.teams.c.id.label("team_id"), t.teams.c.name)
            .join(t.teams, t.teams.c.id == t.tokens.c.team_id)
            .where(t.tokens.c.token_hash == token_hash(token), t.tokens.c.revoked_at.is_(None))
        ).first()
        if row is None:
            return None
        conn.execute(update(t.tokens).where(t.tokens.c.id == row.id).values(last_used_at=time.time()))
    return Team(row.team_id, row.name)


def live_token_hashes(engine: Engine, team_id: int) -> list[str]:
    """Hashes of the team's unrevoked tokens (they key the view links of its unscored entries)."""
    with engine.connect() as conn:
        return list(conn.execute(
            select(t.tokens.c.token_hash).where(t.tokens.c.team_id == team_id, t.tokens.c.revoked_at.is_(None))
        ).scalars())


# Entries.


def quota(conn, team_id: int, limit: int, days: float, now: float) -> Quota:
    """A team's charged test submissions in the last ``days`` (failed ones are not charged), inside ``conn``'s transaction."""
    since = now - days * 86400.0
    charged = and_(
        t.entries.c.team_id == team_id,
        t.entries.c.split == "test",
        t.entries.c.status.in_(CHARGED),
        t.entries.c.created_at > since,
    )
    used, oldest = conn.execute(select(func.count(), func.min(t.entries.c.created_at)).where(charged)).one()
    next_at = oldest + days * 86400.0 if used >= limit and oldest is not None else None
    return Quota(int(used), limit, days, next_at)


def team_quota(engine: Engine, team_id: int, limit: int, days: float) -> Quota:
    """A team's quota now."""
    with engine.connect() as conn:
        return quota(conn, team_id, limit, days, time.time())


def add_entry(
    engine: Engine,
    team: Team,
    metadata: dict[str, Any],
    *,
    upload: bytes,
    n_predictions: int,
    sha256: str,
    quota_limit: int,
    quota_days: float,
) -> int:
    """Store a validated submission as ``pending``; test submissions are charged to the quota atomically."""
    now = time.time()
    values = {
        **metadata,
        "team_id": team.id,
        "status": PENDING,
        "error": "",
        "hidden": False,
        "withdrawn": False,
        "n_predictions": n_predictions,
        "predictions_sha256": sha256,
        "created_at": now,
    }
    with writing(engine) as conn:
        if metadata["split"] == "test":
            # First statement: the lock (see the module docstring).
            conn.execute(update(t.teams).where(t.teams.c.id == team.id).values(test_submissions=t.teams.c.test_submissions + 1))
            state = quota(conn, team.id, quota_limit, quota_days, now)
            if state.used >= state.limit:
                raise QuotaExceeded(state.used, state.limit, state.days, state.next_at)
        entry_id = conn.execute(t.entries.insert().values(**values)).inserted_primary_key[0]
        conn.execute(t.prediction_files.insert().values(entry_id=entry_id, data=zlib.compress(upload, 6), size=len(upload)))
    return int(entry_id)


def claim_next(engine: Engine) -> int | None:
    """Move the oldest pending entry to ``scoring`` and return its id (safe with several workers)."""
    with writing(engine) as conn:
        for entry_id in conn.execute(
            select(t.entries.c.id).where(t.entries.c.status == PENDING).order_by(t.entries.c.id).limit(5)
        ).scalars():
            claimed = conn.execute(
                update(t.entries).where(t.entries.c.id == entry_id, t.entries.c.status == PENDING).values(status=SCORING)
            ).rowcount
            if claimed:
                return int(entry_id)
    return None


def requeue_interrupted(engine: Engine) -> int:
    """Entries left ``scoring`` by a stopped server go back to ``pending`` (run at start-up)."""
    with writing(engine) as conn:
        return conn.execute(update(t.entries).where(t.entries.c.status == SCORING).values(status=PENDING)).rowcount


def bump_revision(conn) -> None:
    """Mark the public table changed (call inside the changing transaction)."""
    conn.execute(update(t.board_revision).where(t.board_revision.c.id == 1).values(revision=t.board_revision.c.revision + 1))


def board_revision(engine: Engine) -> int:
    """The public table's revision counter (bumped by every change to it)."""
    with engine.connect() as conn:
        return int(conn.execute(select(t.board_revision.c.revision).where(t.board_revision.c.id == 1)).scalar_one())


def finish(engine: Engine, entry_id: int, *, summary: dict, results: str, seconds: float) -> None:
    """Mark an entry scored, with its public summary and full results."""
    with writing(engine) as conn:
        bump_revision(conn)
        conn.execute(
            update(t.entries)
            .where(t.entries.c.id == entry_id)
            .values(status=SCORED, summary=json.dumps(summary), results=results, scored_at=time.time(), scoring_seconds=seconds)
        )


def fail(engine: Engine, entry_id: int, message: str) -> None:
    """Mark an entry failed with its error message (kept short), not charged to the quota."""
    with writing(engine) as conn:
        conn.execute(update(t.entries).where(t.entries.c.id == entry_id).values(status=FAILED, error=message[:2000], scored_at=time.time()))


def predictions_bytes(engine: Engine, entry_id: int) -> bytes:
    """The submitted predictions file of an entry, as uploaded."""
    with engine.connect() as conn:
        data = conn.execute(select(t.prediction_files.c.data).where(t.prediction_files.c.entry_id == entry_id)).scalar_one()
    return zlib.decompress(data)


_LIST_COLUMNS = [c for c in t.entries.c if c.name != "results"]


def entries(
    engine: Engine,
    *,
    split: str | None = None,
    config: str | None = None,
    statuses: Iterable[str] | None = (SCORED,),
    team_id: int | None = None,
    include_private: bool = False,
) -> list[dict[str, Any]]:
    """Entries with their team name, newest first; public ones only unless ``include_private``."""
    query = select(*_LIST_COLUMNS, t.teams.c.name.label("team")).join(t.teams, t.teams.c.id == t.entries.c.team_id)
    if split:
        query = query.where(t.entries.c.split == split)
    if config:
        query = query.where(t.entries.c.config == config)
    if statuses is not None:
        query = query.where(t.entries.c.status.in_(list(statuses)))
    if team_id is not None:
        query = query.where(t.entries.c.team_id == team_id)
    if not include_private:
        query = query.where(t.entries.c.hidden.is_(False), t.entries.c.withdrawn.is_(False))
    with engine.connect() as conn:
        return [_entry(row) for row in conn.execute(query.order_by(t.entries.c.id.desc())).mappings()]


def entry(engine: Engine, entry_id: int, *, with_results: bool = False) -> dict[str, Any] | None:
    """One entry with its team name, or None; ``with_results`` adds the full results JSON."""
    columns = list(t.entries.c) if with_results else _LIST_COLUMNS
    query = select(*columns, t.teams.c.name.label("team")).join(t.teams, t.teams.c.id == t.entries.c.team_id)
    with engine.connect() as conn:
        row = conn.execute(query.where(t.entries.c.id == entry_id)).mappings().first()
    return None if row is None else _entry(row)


def _entry(row: RowMapping) -> dict[str, Any]:
    data = dict(row)
    data["summary"] = json.loads(data["summary"]) if data.get("summary") else None
    return data


def set_visibility(engine: Engine, team: Team, entry_id: int, *, hidden: bool | None = None, withdrawn: bool | None = None) -> bool:
    """Hide/show or withdraw one of the team's own entries; ``False`` if it is not theirs."""
    values = {k: v for k, v in {"hidden": hidden, "withdrawn": withdrawn}.items() if v is not None}
    with writing(engine) as conn:
        changed = conn.execute(
            update(t.entries).where(t.entries.c.id == entry_id, t.entries.c.team_id == team.id).values(**values)
        ).rowcount
        bump_revision(conn)
    return bool(changed)


def cached_comparison(engine: Engine, a: int, b: int) -> str | None:
    """The stored comparison of entries ``a`` and ``b``, if it was computed before."""
    with engine.connect() as conn:
        return conn.execute(
            select(t.comparisons.c.results).where(t.comparisons.c.entry_a == a, t.comparisons.c.entry_b == b)
        ).scalar()


def cache_comparison(engine: Engine, a: int, b: int, results: str, *, keep: int) -> None:
    """Store a comparison, keeping only the ``keep`` newest (the cache must not grow with every pair)."""
    try:
        with writing(engine) as conn:
            conn.execute(t.comparisons.insert().values(entry_a=a, entry_b=b, results=results, created_at=time.time()))
            oldest_kept = conn.execute(
                select(t.comparisons.c.id).order_by(t.comparisons.c.id.desc()).offset(keep - 1).limit(1)
            ).scalar()
            if oldest_kept is not None:
                conn.execute(delete(t.comparisons).where(t.comparisons.c.id < oldest_kept))
    except IntegrityError:  # computed concurrently: the first copy stays
        pass


def count_comparisons(engine: Engine) -> int:
    """How many comparisons are cached."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.comparisons)).scalar_one()
