"""What ``avg-bench submit`` runs: a local check, the upload, and waiting for the score.

Standard library only (``urllib``), so submitting needs none of the server's dependencies.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from avg_bench.errors import AvgBenchError, PredictionFileError
from avg_bench.geo.gazetteer import Hierarchy
from avg_bench.jsonl import JsonLinesReader
from avg_bench.labels import Labels, load_labels
from avg_bench.predictions import PREDICTED, WATCHED_KEYS, read_predictions


class ServerError(AvgBenchError):
    """The server refused the request; the message is the server's own."""


def check_locally(path: Path, labels: Path | None = None) -> int:
    """Validate ``path`` before uploading; returns the number of predictions.

    With ``labels`` (e.g. the public val labels) the check is the server's own: ids and
    completeness too. Without, every line is checked as the scorer checks it, against the file's
    own clip ids (the hidden test labels are not here); the server checks the ids.
    """
    if labels is not None:
        truth = load_labels(labels)
        predictions = read_predictions(path, truth)
        predictions.ensure_complete(truth)
        return predictions.count(PREDICTED)
    ids: dict[str, None] = {}
    try:
        for _, record in JsonLinesReader(path, error=PredictionFileError, watched_keys=WATCHED_KEYS):
            clip_id = record.get("clip_id")
            if isinstance(clip_id, (str, int)) and not isinstance(clip_id, bool):
                ids.setdefault(str(clip_id))
    except PredictionFileError:
        pass  # the full pass below reports the first problem in file order
    clip_ids = np.array(list(ids) or ["-"], dtype=object)
    n = len(clip_ids)
    unknown = np.full(n, "?", dtype=object)
    own = Labels(clip_ids, clip_ids.copy(), np.zeros(n), np.zeros(n), Hierarchy(unknown, unknown, unknown, unknown), source=str(path))
    return read_predictions(path, own).count(PREDICTED)


def _multipart(fields: dict[str, str], file_field: str, file_path: Path) -> tuple[bytes, str]:
    boundary = f"avg-bench-{uuid.uuid4().hex}"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{file_path.name.replace(chr(34), "_")}"\r\n'
        "Content-Type: application/x-ndjson\r\n\r\n".encode()
    )
    parts.append(file_path.read_bytes())
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def request(server: str, method: str, path: str, *, token: str | None = None, body: bytes | None = None,
            content_type: str | None = None, timeout: float = 120.0) -> Any:
    """One API call; a refused call raises :class:`ServerError` with the server's message."""
    url = server.rstrip("/") + path
    if urllib.parse.urlparse(url).scheme not in ("http", "https"):
        raise AvgBenchError(f"--server must be an http:// or https:// URL, found {server!r}")
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error") or exc.reason
        except (ValueError, AttributeError):
            message = exc.reason
        raise ServerError(f"the server refused the request (HTTP {exc.code}): {message}") from None
    except urllib.error.URLError as exc:
        raise AvgBenchError(f"cannot reach the leaderboard at {server}: {exc.reason}") from None
    except TimeoutError:
        raise AvgBenchError(f"the leaderboard at {server} did not answer within {timeout:g} s") from None


def submit(server: str, token: str, path: Path, metadata: dict[str, str]) -> dict[str, Any]:
    """Upload; returns the new entry (status ``pending``)."""
    body, content_type = _multipart(metadata, "file", path)
    return request(server, "POST", "/api/submissions", token=token, body=body, content_type=content_type)


def wait(server: str, token: str, entry_id: int, *, timeout: float, poll: float = 1.0,
         on_poll: Callable[[dict], None] | None = None) -> dict[str, Any]:
    """Poll the entry until it is scored or failed, or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        entry = request(server, "GET", f"/api/entries/{entry_id}", token=token)
        if entry["status"] in ("scored", "failed") or time.monotonic() >= deadline:
            return entry
        if on_poll:
            on_poll(entry)
        time.sleep(poll)


def results(server: str, token: str, entry_id: int) -> dict[str, Any]:
    """A scored entry's results JSON (a :class:`~avg_bench.results.Results` as a dict)."""
    return request(server, "GET", f"/api/entries/{entry_id}/results", token=token)
