"""Who is calling: the team of a bearer token (API) or of a token typed into a form (pages)."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from leaderboard import store

bearer = HTTPBearer(auto_error=False, description="A team token from `avg-bench leaderboard token create TEAM`.")

MISSING = "a team token is required: send 'Authorization: Bearer TOKEN' (ask the leaderboard admin for one)"
REFUSED = "the token is not valid (unknown or revoked)"


def team_for_token(request: Request, token: str | None) -> store.Team:
    """The team a bearer token belongs to; 401 when it is missing, unknown or revoked."""
    if not token:
        raise HTTPException(401, MISSING, headers={"WWW-Authenticate": "Bearer"})
    team = store.authenticate(request.app.state.leaderboard.engine, token)
    if team is None:
        raise HTTPException(401, REFUSED, headers={"WWW-Authenticate": "Bearer"})
    return team


def require_team(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> store.Team:
    """FastAPI dependency: the calling team, or 401."""
    return team_for_token(request, credentials.credentials if credentials else None)


def optional_team(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> store.Team | None:
    """The caller's team when a token is sent (it may then see its own hidden entries)."""
    return team_for_token(request, credentials.credentials) if credentials else None
