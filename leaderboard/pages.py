"""Server-rendered HTML pages: the table, an entry, a comparison, and the submission form."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from avg_bench._version import __version__
from avg_bench.errors import AvgBenchError
from avg_bench.metrics.definitions import metric_table
from avg_bench.spec import AVG_V1
from leaderboard import store
from leaderboard.api import Config, EntryId, EntryRef, Modalities, SortKey, Split, client_address
from leaderboard.auth import team_for_token
from leaderboard.scoring import TABLE_METRICS
from leaderboard.service import Leaderboard, http_status
from leaderboard.submissions import MODALITIES, SubmissionMeta
from leaderboard.table import board, default_order, iso_date, metric_label

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))  # Starlette turns autoescape on
_METRICS = {m.name: m for m in metric_table(AVG_V1)}
#: Below this many locations a cluster-bootstrap p-value is flagged as unreliable on the compare page
#: (a percentile bootstrap over few clusters is anti-conservative; ~30 is the usual floor).
MIN_P_LOCATIONS = 30


def number(value: float | None, name: str, *, signed: bool = False) -> str:
    """A metric as the table shows it: accuracies in %, km and GeoScore with one decimal."""
    if value is None:
        return "–"
    sign = "+" if signed else ""
    if _METRICS[name].is_fraction:
        return f"{value * 100:{sign}.1f}"
    return f"{value:{sign}.1f}" if name != "geoscore" else f"{value:{sign}.0f}"


templates.env.filters["number"] = number
templates.env.filters["date"] = lambda ts: (iso_date(ts) or "")[:10]
templates.env.globals.update(
    metric_label=metric_label, TABLE_METRICS=TABLE_METRICS, MODALITIES=MODALITIES, version=__version__,
    CONFIGS=AVG_V1.configs, METRICS=_METRICS, MIN_P_LOCATIONS=MIN_P_LOCATIONS,
)


def _lb(request: Request) -> Leaderboard:
    return request.app.state.leaderboard


def _page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    context.setdefault("title", request.app.state.leaderboard.settings.title)
    return templates.TemplateResponse(request, name, context, status_code=status)


@router.get("/", response_class=HTMLResponse)
def table_page(
    request: Request,
    split: Split = "test",
    config: Config = "seen",
    modalities: Modalities | Literal[""] = "",
    sort: SortKey = "rank",
    order: Literal["asc", "desc", ""] = "",
) -> HTMLResponse:
    """The public table of one board (split, config), filtered and sorted as asked."""
    current = order or default_order(sort)

    def sort_link(key: str) -> str:
        flip = "asc" if (key == sort and current == "desc") else "desc" if key == sort else default_order(key)
        query = f"?split={split}&config={config}&sort={key}&order={flip}"
        return query + (f"&modalities={modalities}" if modalities else "")

    def render(rows: list[dict]) -> HTMLResponse:
        shown = board(rows, modalities=modalities or None, sort=sort, order=order or None, k=_lb(request).settings.min_locations)
        cells = [_cells(row) for row in shown]
        return _page(request, "table.html", rows=list(zip(shown, cells)), split=split, config=config, modalities=modalities,
                     sort=sort, order=current, sort_link=sort_link)

    return _lb(request).public_view((split, config, "page", modalities, sort, order), render)


_SHOWN = [name for name in TABLE_METRICS if name != "mean_km"]


def _cells(row: dict) -> list[tuple[str, float, str, str]]:
    """``(metric, value, text, CI text)`` per column: formatted here, ~10x faster than in the template."""
    out = []
    for name in _SHOWN:
        m = row["summary"]["metrics"][name]
        ci = f"{number(m['ci_low'], name)}–{number(m['ci_high'], name)}" if m["ci_low"] is not None else ""
        out.append((name, m["value"], number(m["value"], name), ci))
    return out


@router.get("/entries/{entry_id}", response_class=HTMLResponse)
def entry_page(request: Request, entry_id: EntryId, view: str | None = Query(None, max_length=64)) -> HTMLResponse:
    """One entry: its scores as they may be published, and the other entries to compare it with."""
    lb = _lb(request)
    row = lb.entry(entry_id, view_key=view)
    results = lb.results(entry_id) if row["status"] == store.SCORED else None
    others = [r for r in store.entries(lb.engine, split=row["split"], config=row["config"]) if r["id"] != entry_id]
    return _page(request, "entry.html", entry=row, results=results, others=others, min_locations=lb.settings.min_locations)


@router.get("/entries/{entry_id}/map.png")
def entry_map(request: Request, entry_id: EntryId) -> Response:
    """The entry's error map (PNG); on hidden splits only cells that rest on k locations are drawn."""
    return Response(_lb(request).error_map(entry_id), media_type="image/png", headers={"Cache-Control": "max-age=3600"})


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, a: EntryRef, b: EntryRef) -> HTMLResponse:
    """Two entries side by side with the paired difference of every metric."""
    lb = _lb(request)
    results = lb.compare(a, b, client=client_address(request))
    return _page(request, "compare.html", a=lb.entry(a), b=lb.entry(b), results=results)


@router.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request) -> HTMLResponse:
    """The submission form."""
    return _page(request, "submit.html", boards=_lb(request).labels.available(), error=None, form={})


@router.post("/submit", response_class=HTMLResponse)
def submit_page(
    request: Request,
    file: UploadFile = File(...),
    token: str = Form(""),
    model_name: str = Form(""),
    split: str = Form("val"),
    config: str = Form("seen"),
    modalities: str = Form("audio+visual"),
    link: str = Form(""),
    external_data: str = Form(""),
    dataset_version: str = Form(""),
) -> Response:
    """Take a submission from the form: the same checks as the API, errors shown on the form."""
    form = {"model_name": model_name, "split": split, "config": config, "modalities": modalities, "link": link,
            "external_data": external_data, "dataset_version": dataset_version}
    lb = _lb(request)
    try:
        team = team_for_token(request, token.strip())
        meta = SubmissionMeta(**form, toolkit_version=__version__)
        row = lb.submit(team, meta, file.file, file.filename)
    except AvgBenchError as exc:  # the API's statuses: 429 for an exhausted quota, 413, 422...
        return _page(request, "submit.html", status=http_status(exc), boards=lb.labels.available(), error=str(exc), form=form)
    except Exception as exc:  # HTTPException from the token check
        detail = getattr(exc, "detail", None)
        if detail is None:
            raise
        return _page(request, "submit.html", status=getattr(exc, "status_code", 400), boards=lb.labels.available(), error=detail, form=form)
    # Until it is scored, the entry is visible only to its team: the link carries a key from the token.
    return RedirectResponse(f"/entries/{row['id']}?view={lb.view_key(token.strip(), row['id'])}", status_code=303)
