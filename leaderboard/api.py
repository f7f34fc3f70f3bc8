"""The JSON API (``/api/...``); FastAPI publishes its OpenAPI spec at ``/openapi.json``."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from avg_bench._version import __version__
from leaderboard import store
from leaderboard.auth import optional_team, require_team
from leaderboard.responses import ApiError, Entry, EntryList, Health, Me, Results
from leaderboard.responses import EntryModalities as Modalities
from leaderboard.service import Leaderboard, NotFound
from leaderboard.submissions import SubmissionMeta
from leaderboard.table import SORT_KEYS, board, public

#: Every error answer is ``{"error": message}`` (the app's handlers), 4xx and 5xx alike.
_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ApiError, "description": "A request the server refuses: the message names the field or problem."},
    "5XX": {"model": ApiError, "description": "The server cannot answer now (e.g. the database is busy)."},
}
router = APIRouter(prefix="/api", tags=["api"], responses=_ERRORS)
#: Results and comparisons are passed through as the scorer wrote them (documented, not re-serialised).
_RESULTS: dict[int | str, dict[str, Any]] = {200: {"model": Results, "description": "The results JSON as it may be published."}}

Split = Literal["val", "test"]
Config = Literal["seen", "geo-holdout"]
SortKey = Literal[SORT_KEYS]  # type: ignore[valid-type]
#: Entry ids are positive 32-bit integers (the databases' INTEGER range).
MAX_ID = 2**31 - 1
EntryId = Annotated[int, Path(ge=1, le=MAX_ID)]
EntryRef = Annotated[int, Query(ge=1, le=MAX_ID)]


def _lb(request: Request) -> Leaderboard:
    return request.app.state.leaderboard


def client_address(request: Request) -> str:
    """Who to rate-limit: the peer address (behind a proxy, run uvicorn with --proxy-headers)."""
    return request.client.host if request.client else "unknown"


@router.get("/health", summary="Server state", response_model=Health)
def health(request: Request) -> dict[str, Any]:
    """Server state, the boards it holds labels for, and its limits."""
    lb = _lb(request)
    return {
        "status": "ok",
        "toolkit_version": __version__,
        "boards": [{"config": c, "split": s} for c, s in lb.labels.available()],
        "quota": {"test_submissions": lb.settings.quota_count, "window_days": lb.settings.quota_days},
        "max_upload_bytes": lb.settings.max_upload_bytes,
    }


@router.get("/entries", summary="The leaderboard table", response_class=JSONResponse, response_model=EntryList)
def list_entries(
    request: Request,
    split: Split = "test",
    config: Config = "seen",
    modalities: Modalities | None = None,
    sort: SortKey = "rank",
    order: Literal["asc", "desc"] | None = None,
) -> Response:
    """The table of one board: scored public entries, ranked by GeoScore unless sorted otherwise."""
    def compute(rows: list[dict[str, Any]]) -> Response:
        k = _lb(request).settings.min_locations
        listed = [public(r, k=k) for r in board(rows, modalities=modalities, sort=sort, order=order, k=k)]
        return Response(json.dumps({"split": split, "config": config, "entries": listed}), media_type="application/json")

    return _lb(request).public_view((split, config, "api", modalities, sort, order), compute)


@router.get("/entries/{entry_id}", summary="One entry (hidden ones only to their team)", response_model=Entry, response_model_exclude_unset=True)
def get_entry(request: Request, entry_id: EntryId, team: store.Team | None = Depends(optional_team)) -> dict[str, Any]:
    """One entry; a hidden or withdrawn one only to its own team."""
    row = _lb(request).entry(entry_id, viewer=team)
    return public(row, owner=team is not None and team.id == row["team_id"], k=_lb(request).settings.min_locations)


@router.get("/entries/{entry_id}/results", summary="The full results JSON of a scored entry", response_model=None, responses=_RESULTS)
def get_results(request: Request, entry_id: EntryId, team: store.Team | None = Depends(optional_team)) -> dict[str, Any]:
    """The entry's results JSON as it may be published (hidden splits: only what disclosure allows)."""
    return _lb(request).results(entry_id, viewer=team)


@router.get("/compare", summary="Paired comparison of two entries (a minus b)", response_model=None, responses=_RESULTS)
def compare(request: Request, a: EntryRef, b: EntryRef) -> dict[str, Any]:
    """A paired cluster-bootstrap comparison of two scored entries on one board (a minus b)."""
    return _lb(request).compare(a, b, client=client_address(request))


@router.post("/submissions", status_code=202, summary="Submit a predictions file (scored in the background)", response_model=Entry)
def submit(
    request: Request,
    file: UploadFile = File(..., description="predictions.jsonl"),
    model_name: str = Form(..., max_length=200),
    split: Split = Form("val"),
    config: Config = Form("seen"),
    modalities: Modalities = Form("audio+visual"),
    link: str = Form("", max_length=500),
    external_data: str = Form("", max_length=500),
    toolkit_version: str = Form(__version__, max_length=50),
    dataset_version: str = Form("", max_length=100),
    team: store.Team = Depends(require_team),
) -> JSONResponse:
    """Queue a predictions file for scoring; the entry comes back pending."""
    meta = SubmissionMeta(
        model_name=model_name, split=split, config=config, modalities=modalities, link=link,
        external_data=external_data, toolkit_version=toolkit_version, dataset_version=dataset_version,
    )
    row = _lb(request).submit(team, meta, file.file, file.filename)
    return JSONResponse(public(row, owner=True, k=_lb(request).settings.min_locations), status_code=202)


@router.get("/me", summary="The calling team: quota and every own entry", response_model=Me, response_model_exclude_unset=True)
def me(request: Request, team: store.Team = Depends(require_team)) -> dict[str, Any]:
    """The calling team: its quota and every own entry, hidden ones included."""
    lb = _lb(request)
    rows = store.entries(lb.engine, team_id=team.id, statuses=None, include_private=True)
    return {
        "team": team.name,
        "quota": store.team_quota(lb.engine, team.id, lb.settings.quota_count, lb.settings.quota_days).to_dict(),
        "entries": [public(r, owner=True, k=lb.settings.min_locations) for r in rows],
    }


def _own(request: Request, team: store.Team, entry_id: int, **change: bool) -> dict[str, Any]:
    lb = _lb(request)
    if not store.set_visibility(lb.engine, team, entry_id, **change):
        raise NotFound(f"no entry {entry_id} of team {team.name}")
    return public(lb.entry(entry_id, viewer=team), owner=True, k=lb.settings.min_locations)


@router.post("/entries/{entry_id}/hide", summary="Hide an own entry from the table", response_model=Entry, response_model_exclude_unset=True)
def hide(request: Request, entry_id: EntryId, team: store.Team = Depends(require_team)) -> dict[str, Any]:
    """Hide an own entry from the table (it stays scored and can be shown again)."""
    return _own(request, team, entry_id, hidden=True)


@router.post("/entries/{entry_id}/show", summary="Show a hidden own entry again", response_model=Entry, response_model_exclude_unset=True)
def show(request: Request, entry_id: EntryId, team: store.Team = Depends(require_team)) -> dict[str, Any]:
    """Show a hidden own entry in the table again."""
    return _own(request, team, entry_id, hidden=False)


@router.post("/entries/{entry_id}/withdraw", summary="Withdraw an own entry for good (its quota use stays)", response_model=Entry,
             response_model_exclude_unset=True)
def withdraw(request: Request, entry_id: EntryId, team: store.Team = Depends(require_team)) -> dict[str, Any]:
    """Withdraw an own entry for good; its use of the quota stays."""
    return _own(request, team, entry_id, withdrawn=True)
