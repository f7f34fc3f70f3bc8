"""Interactive API docs at ``/docs`` from assets this server ships (no CDN).

FastAPI's default ``/docs`` page loads Swagger UI from a CDN and starts it with an inline script;
the leaderboard serves the ``swagger-ui-bundle`` package's files and its own start-up script instead,
so the page works offline and under the strict CSP of :mod:`leaderboard.headers`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).with_name("static")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AVG leaderboard API</title>
<link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
<link rel="icon" type="image/png" href="/static/swagger-ui/favicon-32x32.png">
</head><body><div id="swagger-ui"></div>
<script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body></html>
"""


@router.get("/docs", response_class=HTMLResponse)
def docs() -> HTMLResponse:
    return HTMLResponse(_PAGE)


def mount(app: FastAPI) -> None:
    """``/docs`` plus the static folders it needs."""
    from swagger_ui_bundle import swagger_ui_path

    app.include_router(router)
    app.mount("/static/swagger-ui", StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
