"""Team tokens: random, shown once, stored only as a SHA-256 hash.

A token carries 256 random bits, so a plain (unsalted) SHA-256 is enough: there is no dictionary
to attack, and the lookup stays one indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "avgt_"


def new_token() -> str:
    """A new random API token (256 bits), prefixed so leaked tokens are recognisable."""
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 the server stores instead of the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def display_prefix(token: str) -> str:
    """The first characters, for ``token list`` (12 of ~48: not enough to guess the rest)."""
    return token[:12]
