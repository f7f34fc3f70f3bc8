"""The FastAPI application: API + pages + error handling + the scoring worker's life cycle."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from avg_bench._version import __version__
from avg_bench.errors import AvgBenchError
from leaderboard import api, apidocs, pages
from leaderboard.config import Settings
from leaderboard.headers import SecurityHeaders
from leaderboard.limits import BodySizeLimit
from leaderboard.ratelimit import RateLimited
from leaderboard.service import Leaderboard, http_status

log = logging.getLogger("leaderboard")

#: Room for the form fields around the predictions file in a multipart body.
MULTIPART_OVERHEAD = 1 << 20


def create_app(settings: Settings | None = None, *, leaderboard: Leaderboard | None = None, start_worker: bool = True) -> FastAPI:
    """The app; pass ``leaderboard`` to share one (tests), else one is opened from ``settings``."""
    lb = leaderboard or Leaderboard(settings or Settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if start_worker:
            lb.start()
        try:
            yield
        finally:
            if start_worker:
                lb.stop()

    app = FastAPI(
        title="AVG leaderboard API",
        version=__version__,
        description="Submit predictions for the AVG audiovisual geolocation benchmark and read the scored table. "
        "Submissions need a team token (`Authorization: Bearer TOKEN`).",
        lifespan=lifespan,
        docs_url=None,  # served by leaderboard.apidocs from local assets (no CDN)
        redoc_url=None,
    )
    app.state.leaderboard = lb
    app.include_router(api.router)
    app.include_router(pages.router)
    apidocs.mount(app)
    app.add_middleware(BodySizeLimit, limit=lb.settings.max_upload_bytes + MULTIPART_OVERHEAD)
    app.add_middleware(SecurityHeaders)  # outermost: on every response, the 413s above included

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"

    def error_response(request: Request, status: int, message: str, headers: dict | None = None) -> Response:
        if wants_json(request):
            return JSONResponse({"error": message}, status_code=status, headers=headers)
        return HTMLResponse(_error_html(status, message), status_code=status, headers=headers)

    @app.exception_handler(AvgBenchError)
    async def _avg_error(request: Request, exc: AvgBenchError) -> Response:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return error_response(request, http_status(exc), str(exc), headers)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        return error_response(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def _database_busy(request: Request, exc: OperationalError) -> Response:
        log.warning("database error: %s", exc.orig)
        return error_response(request, 503, "the leaderboard database is busy or unavailable; try again shortly", {"Retry-After": "5"})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path"))
            problems.append(f"field {where!r}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid")))
        return error_response(request, 422, "; ".join(problems) or "invalid request")

    return app


def _error_html(status: int, message: str) -> str:
    from html import escape

    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Error {status}</title></head><body>"
        f"<h1>Error {status}</h1><p class=error id=error>{escape(message)}</p><p><a href='/'>Back to the table</a></p></body></html>"
    )
