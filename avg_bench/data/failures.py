"""Why a clip could not be built: the error classes of the build ledger (DESIGN §6), and which retry.

Every failure of a remote clip becomes a :class:`ClipFailure` with one class from
:data:`ERROR_CLASSES`. *Permanent* classes describe the source itself (it is gone, private,
blocked in this country, age-gated): retrying cannot help, so a plain re-run and ``--retry-failed``
leave them alone; only naming the class in ``--classes`` retries it (a video that came back).
*Retryable* classes describe the transfer or the host's mood (rate limits, bot checks, cut
connections, a download that produced no usable media).

>>> classify_message("ERROR: [generic] x: Unable to download webpage: HTTP Error 404: Not Found")
'unavailable'
>>> classify_message("ERROR: [youtube] abc: Sign in to confirm you’re not a bot. Use --cookies")
'bot_check'
>>> is_permanent("private"), is_permanent("http_429")
(True, False)
"""

from __future__ import annotations

import re

from avg_bench.errors import AvgBenchError

PERMANENT = ("unavailable", "removed", "private", "geo_blocked", "age_gated")
RETRYABLE = ("bot_check", "http_429", "http_403", "network", "ffmpeg", "validation_failed")
ERROR_CLASSES = PERMANENT + RETRYABLE

#: What each class means, for the report and ``--help``.
DESCRIPTIONS = {
    "unavailable": "the host says the video does not exist (HTTP 404, 'Video unavailable')",
    "removed": "the video was taken down (HTTP 410, removed by the uploader or for a violation)",
    "private": "the video is private",
    "geo_blocked": "the video is not available in this country",
    "age_gated": "the video needs a signed-in, age-verified account",
    "bot_check": "the host asks to confirm you are not a bot (all workers pause)",
    "http_429": "rate limited (HTTP 429 Too Many Requests)",
    "http_403": "forbidden (HTTP 403; on YouTube often a missing PO token or an expired URL)",
    "network": "the transfer failed: connection cut, reset, stalled or timed out",
    "ffmpeg": "ffmpeg failed to make the canonical clip from a download that probed fine",
    "validation_failed": "the download 'succeeded' but is not usable media (empty, corrupt, too short)",
}

# Checked in order: the first pattern that matches names the class.
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("bot_check", r"not a bot|confirm you.?re not a robot|unusual traffic|captcha"),
    ("age_gated", r"confirm your age|age[- ]restricted|inappropriate for some users"),
    ("private", r"private video|video is private"),
    ("geo_blocked", r"not available in your country|geo[- ]?restrict|uploader has not made this video available in your country"),
    ("removed", r"has been removed|terminated|copyright claim|HTTP Error 410|\b410 Gone"),
    ("http_429", r"HTTP Error 429|\b429 Too Many Requests|Too Many Requests"),
    ("http_403", r"HTTP Error 403|\b403 Forbidden"),
    ("unavailable", r"HTTP Error 404|\b404 Not Found|video unavailable|does not exist|no longer available"),
    ("network", r"timed out|timeout|connection (reset|refused|aborted)|partial file|Input/output error|"
                r"Stream ends prematurely|End of file|IncompleteRead|Network is unreachable|Name or service not known|"
                r"Temporary failure in name resolution|Remote end closed|stalled"),
    ("validation_failed", r"Invalid data found|moov atom not found|empty \(0 bytes\)|not a readable media file"),
)


class ClipFailure(AvgBenchError):
    """One clip failed: its class, whether retrying may help, and (for 429) how long the host asked to wait."""

    def __init__(self, error_class: str, message: str, *, retry_after_s: float | None = None) -> None:
        if error_class not in ERROR_CLASSES:
            raise ValueError(f"unknown error class {error_class!r}")
        self.error_class = error_class
        self.retry_after_s = retry_after_s
        super().__init__(message)

    @property
    def permanent(self) -> bool:
        """Whether retrying this clip can never help (the source is gone, private, refused...)."""
        return is_permanent(self.error_class)


def is_permanent(error_class: str) -> bool:
    """Whether a failure of this class is final: the clip is not retried within the build."""
    return error_class in PERMANENT


def classify_message(text: str, default: str = "network") -> str:
    """The error class a yt-dlp or ffmpeg message points to (``default`` when nothing matches)."""
    for error_class, pattern in _PATTERNS:
        if re.search(pattern, text, flags=re.IGNORECASE):
            return error_class
    return default


def classify_status(status: int) -> str | None:
    """The error class of an HTTP status, or None for statuses that are not failures of their own."""
    return {404: "unavailable", 410: "removed", 429: "http_429", 403: "http_403", 451: "geo_blocked"}.get(status)


def parse_classes(text: str | None) -> tuple[str, ...] | None:
    """``--classes`` value (comma-separated, ``all``, ``retryable``, ``permanent``) -> class names."""
    if text is None:
        return None
    chosen: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        group = {"all": ERROR_CLASSES, "retryable": RETRYABLE, "permanent": PERMANENT}.get(part)
        if group is None:
            part = part.replace("-", "_")
            if part not in ERROR_CLASSES:
                raise AvgBenchError(f"--classes: unknown error class {part!r}; expected some of {', '.join(ERROR_CLASSES)}"
                                    " (or all, retryable, permanent)")
            group = (part,)
        chosen.extend(c for c in group if c not in chosen)
    if not chosen:
        raise AvgBenchError("--classes: name at least one error class")
    return tuple(chosen)
