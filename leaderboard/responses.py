"""Pydantic models of the API's JSON responses, so ``/openapi.json`` describes what comes back.

The routes still build plain dicts (``leaderboard.table.public`` and friends); these models are
their published contract. The OpenAPI fuzz test checks every generated response against them, so
a route that drifts from its model fails there. Results and comparisons are the scorer's results
JSON (DESIGN §5), documented there and kept open here (``extra="allow"``) beyond their outline.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from avg_bench.modality import MODALITY_SET_NAMES

#: The modality words an entry may carry (``leaderboard.submissions.MODALITIES``).
EntryModalities = Literal["none", "audio", "visual", "audio+visual"]
assert EntryModalities.__args__ == MODALITY_SET_NAMES  # type: ignore[attr-defined]


class ApiError(BaseModel):
    """Every 4xx/5xx answer of the API: one message naming the problem."""

    model_config = ConfigDict(extra="forbid")
    error: str


class Board(BaseModel):
    """One leaderboard the server holds labels for."""

    model_config = ConfigDict(extra="forbid")
    config: str
    split: str


class QuotaPolicy(BaseModel):
    """The server's test-split submission quota."""

    model_config = ConfigDict(extra="forbid")
    test_submissions: int
    window_days: float


class Health(BaseModel):
    """``GET /api/health``: server state and limits."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["ok"]
    toolkit_version: str
    boards: list[Board]
    quota: QuotaPolicy
    max_upload_bytes: int


class Entry(BaseModel):
    """One leaderboard entry as published; ``rank`` only in the table, owner fields only to the team."""

    model_config = ConfigDict(extra="forbid")
    id: int
    model_name: str
    team: str
    link: str
    modalities: EntryModalities
    external_data: str
    toolkit_version: str
    dataset_version: str
    split: Literal["val", "test"]
    config: str
    status: Literal["pending", "scoring", "scored", "failed"]
    n_predictions: int
    summary: dict[str, Any] | None
    created_at: str | None
    scored_at: str | None
    rank: int | None = None
    hidden: bool | None = None
    withdrawn: bool | None = None
    error: str | None = None


class EntryList(BaseModel):
    """``GET /api/entries``: one board's table."""

    model_config = ConfigDict(extra="forbid")
    split: str
    config: str
    entries: list[Entry]


class TeamQuota(BaseModel):
    """The calling team's use of its test-split quota."""

    model_config = ConfigDict(extra="forbid")
    used: int
    limit: int
    window_days: float
    remaining: int
    next_available_at: str | None


class Me(BaseModel):
    """``GET /api/me``: the calling team, its quota and every own entry."""

    model_config = ConfigDict(extra="forbid")
    team: str
    quota: TeamQuota
    entries: list[Entry]


class Results(BaseModel):
    """A scored entry's results JSON (or a comparison) as it may be published; outlined, open beyond."""

    model_config = ConfigDict(extra="allow")
    schema_version: int
    split: str | None = None
    metrics: dict[str, Any]
