"""Interactive API docs at ``/docs`` from assets this server ships (no CDN).

FastAPI's default ``/docs`` page loads Swagger UI from a CDN and starts it with an inline script;
the leaderboard serves the Swagger UI 5 files shipped in the ``fastapi-offline`` package (the
``swagger-ui-bundle`` package ships Swagger UI 4, which cannot read FastAPI's OpenAPI 3.1) and its
own start-up script, so the page works offline and under the strict CSP of :mod:`leaderboard.headers`.
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
<link rel="icon" type="image/png" href="/static/swagger-ui/favicon.png">
</head><body><div id="swagger-ui"></div>
<script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body></html>
"""


@router.get("/docs", response_class=HTMLResponse)
def docs() -> HTMLResponse:
    """The API reference page, rendered offline from the OpenAPI document (no CDN)."""
    return HTMLResponse(_PAGE)


def mount(app: FastAPI) -> None:
    """``/docs`` plus the static folders it needs."""
    from importlib.resources import files

    app.include_router(router)
    assets = files("fastapi_offline") / "static"  # swagger-ui-bundle.js, swagger-ui.css, favicon.png
    app.mount("/static/swagger-ui", StaticFiles(directory=str(assets)), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
