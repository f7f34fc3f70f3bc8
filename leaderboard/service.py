"""The leaderboard's operations, shared by the JSON API, the pages and the CLI.

A :class:`Leaderboard` owns the database engine, the server-held labels and the scoring worker.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from avg_bench.errors import AvgBenchError
from avg_bench.results import Results
from leaderboard import scoring, store
from leaderboard.config import Settings
from leaderboard.db import open_database
from leaderboard.disclosure import is_hidden, public_results, require_enough_locations
from leaderboard.ratelimit import RateLimited, RateLimiter
from leaderboard.submissions import SubmissionError, SubmissionMeta

log = logging.getLogger("leaderboard")


class UploadTooLarge(AvgBenchError):
    """An upload larger than the server's limit (HTTP 413)."""
    def __init__(self, limit: int) -> None:
        super().__init__(f"the upload is larger than this server's limit of {limit:,} bytes ({limit / 2**20:.0f} MiB)")


class NotFound(AvgBenchError):
    """No such entry (or not one the caller may see)."""


def http_status(exc: AvgBenchError) -> int:
    """The HTTP status of an error, the same for the API and the pages."""
    from avg_bench.errors import InputFileError, MissingPredictionsError

    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, UploadTooLarge):
        return 413
    if isinstance(exc, (store.QuotaExceeded, RateLimited)):
        return 429
    if isinstance(exc, (InputFileError, MissingPredictionsError, SubmissionError)):
        return 422
    return 400


class Leaderboard:
    """Database + labels + worker. ``start()`` launches the background scorer threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = open_database(settings.db_url)
        self.labels = scoring.ServerLabels(settings.labels_dir)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._maps: OrderedDict[int, bytes] = OrderedDict()
        self._maps_lock = threading.Lock()
        self._views: OrderedDict[tuple, tuple[int, Any]] = OrderedDict()
        self._views_lock = threading.Lock()
        self._compare_limit = RateLimiter(
            settings.compare_per_minute, burst=settings.compare_burst, total_per_minute=10 * settings.compare_per_minute
        )

    # Life cycle.

    def start(self) -> None:
        """Start the background scoring threads."""
        store.requeue_interrupted(self.engine)
        for k in range(self.settings.workers):
            thread = threading.Thread(target=self._work, name=f"scorer-{k}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop the background scoring threads and wait for them."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()
        self.engine.dispose()

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                if self.score_next() is None:
                    self._wake.wait(timeout=1.0)
                    self._wake.clear()
            except Exception:  # a bug in one scoring must not kill the worker
                log.exception("scoring worker error")
                time.sleep(1.0)

    # Submissions.

    def submit(self, team: store.Team, meta: SubmissionMeta, upload: BinaryIO, filename: str | None) -> dict[str, Any]:
        """Check and queue a submission; returns the new entry (``pending``)."""
        shown_as = scoring.display_name(filename)
        labels = self.labels.get(meta.config, meta.split)
        require_enough_locations(labels.n_locations, self.settings.min_locations, meta.split)
        with tempfile.TemporaryDirectory(prefix="avg-upload-") as folder:
            path = Path(folder) / "upload.jsonl"
            data = _copy_limited(upload, path, self.settings.max_upload_bytes)
            predictions = scoring.check_predictions(path, shown_as, labels)
        entry_id = store.add_entry(
            self.engine,
            team,
            meta.columns(),
            upload=data,
            n_predictions=predictions.count(1),
            sha256=hashlib.sha256(data).hexdigest(),
            quota_limit=self.settings.quota_count,
            quota_days=self.settings.quota_days,
        )
        self._wake.set()
        return self.entry(entry_id, viewer=team)

    def score_next(self) -> int | None:
        """Score the oldest pending entry, if any; returns its id."""
        entry_id = store.claim_next(self.engine)
        if entry_id is None:
            return None
        row = store.entry(self.engine, entry_id)
        started = time.perf_counter()
        try:
            labels = self.labels.get(row["config"], row["split"])
            with tempfile.TemporaryDirectory(prefix="avg-score-") as folder:
                path = Path(folder) / "predictions.jsonl"
                path.write_bytes(store.predictions_bytes(self.engine, entry_id))
                results = scoring.score(
                    path, f"entry-{entry_id}.jsonl", labels, bootstrap=self.settings.bootstrap, seed=self.settings.seed,
                    split=row["split"], config=row["config"],
                )
        except AvgBenchError as exc:
            store.fail(self.engine, entry_id, str(exc))
            return entry_id
        except Exception as exc:
            log.exception("scoring entry %s failed", entry_id)
            store.fail(self.engine, entry_id, f"internal scoring error ({type(exc).__name__}); the operator has been told")
            return entry_id
        store.finish(self.engine, entry_id, summary=scoring.summary(results), results=results.to_json(), seconds=time.perf_counter() - started)
        return entry_id

    def score_pending(self) -> int:
        """Score every pending entry now, in this thread (tests, benchmarks); returns how many."""
        n = 0
        while self.score_next() is not None:
            n += 1
        return n

    # Reading.

    def public_view(self, key: tuple, compute: Callable[[list[dict[str, Any]]], Any]) -> Any:
        """``compute(scored public rows of the board)`` for ``key = (split, config, ...)``, cached.

        Cached until the table's revision changes (any server's write bumps it), so a busy table is rendered once.
        """
        revision = store.board_revision(self.engine)
        with self._views_lock:
            hit = self._views.get(key)
            if hit is not None and hit[0] == revision:
                self._views.move_to_end(key)
                return hit[1]
        value = compute(store.entries(self.engine, split=key[0], config=key[1]))
        with self._views_lock:
            self._views[key] = (revision, value)
            while len(self._views) > 256:
                self._views.popitem(last=False)
        return value

    def entry(self, entry_id: int, *, viewer: store.Team | None = None, with_results: bool = False,
              view_key: str | None = None) -> dict[str, Any]:
        """An entry as the viewer may see it.

        Others see it only once it is scored and public; its team (by token, or by the view link the submission form redirects to) sees it in every state.
        """
        row = store.entry(self.engine, entry_id, with_results=with_results)
        if row is None:
            raise NotFound(f"no entry {entry_id}")
        public = row["status"] == store.SCORED and not row["hidden"] and not row["withdrawn"]
        owner = (viewer is not None and viewer.id == row["team_id"]) or self._valid_view_key(row, view_key)
        if not (public or owner):
            raise NotFound(f"no entry {entry_id}")
        return row

    @staticmethod
    def view_key(token: str, entry_id: int) -> str:
        """The secret part of an unscored entry's page link, derived from the submitting token."""
        from leaderboard.tokens import token_hash

        return hmac.new(token_hash(token).encode(), f"entry-view:{entry_id}".encode(), hashlib.sha256).hexdigest()[:32]

    def _valid_view_key(self, row: dict[str, Any], key: str | None) -> bool:
        if not key or len(key) != 32:
            return False
        for hashed in store.live_token_hashes(self.engine, row["team_id"]):
            expected = hmac.new(hashed.encode(), f"entry-view:{row['id']}".encode(), hashlib.sha256).hexdigest()[:32]
            if hmac.compare_digest(expected, key):
                return True
        return False

    def results(self, entry_id: int, viewer: store.Team | None = None) -> dict[str, Any]:
        """The entry's results as they may be published (:func:`leaderboard.disclosure.public_results`).

        The same for every viewer: the owning team is as much a possible attacker as anyone.
        """
        row = self.entry(entry_id, viewer=viewer, with_results=True)
        if row["status"] != store.SCORED:
            raise NotFound(f"entry {entry_id} is {row['status']}, not scored")
        return public_results(json.loads(row["results"]), k=self.settings.min_locations)

    def compare(self, a: int, b: int, *, client: str = "local") -> dict[str, Any]:
        """Paired cluster-bootstrap comparison of two scored public entries (a minus b), cached.

        As it may be published (hidden splits: see :mod:`leaderboard.disclosure`).
        """
        if a == b:
            raise AvgBenchError("compare two different entries")
        rows = [self.entry(a), self.entry(b)]
        for row in rows:
            if row["status"] != store.SCORED:
                raise AvgBenchError(f"entry {row['id']} is {row['status']}: only scored entries can be compared")
        if (rows[0]["split"], rows[0]["config"]) != (rows[1]["split"], rows[1]["config"]):
            raise AvgBenchError("entries on different splits or configurations cannot be compared")
        cached = store.cached_comparison(self.engine, a, b)
        if cached is None:
            self._compare_limit.take(client, "new comparisons")
            labels = self.labels.get(rows[0]["config"], rows[0]["split"])
            with tempfile.TemporaryDirectory(prefix="avg-compare-") as folder:
                pa, pb = Path(folder) / f"entry-{a}.jsonl", Path(folder) / f"entry-{b}.jsonl"
                pa.write_bytes(store.predictions_bytes(self.engine, a))
                pb.write_bytes(store.predictions_bytes(self.engine, b))
                results = scoring.score(pa, pa.name, labels, bootstrap=self.settings.bootstrap, seed=self.settings.seed,
                                        split=rows[0]["split"], config=rows[0]["config"], baseline=pb)
            results = _without_sources(results, a, b)
            cached = results.to_json()
            store.cache_comparison(self.engine, a, b, cached, keep=self.settings.compare_cache_size)
        return public_results(json.loads(cached), k=self.settings.min_locations)

    def error_map(self, entry_id: int) -> bytes:
        """PNG of the entry's errors, binned on a coarse grid (see :mod:`leaderboard.errormap`)."""
        row = self.entry(entry_id)
        if row["status"] != store.SCORED:
            raise NotFound(f"entry {entry_id} is {row['status']}, not scored")
        with self._maps_lock:
            if entry_id in self._maps:
                self._maps.move_to_end(entry_id)
                return self._maps[entry_id]
        from leaderboard.errormap import cell_means, render_error_map

        labels = self.labels.get(row["config"], row["split"])
        with tempfile.TemporaryDirectory(prefix="avg-map-") as folder:
            path = Path(folder) / "predictions.jsonl"
            path.write_bytes(store.predictions_bytes(self.engine, entry_id))
            predictions = scoring.check_predictions(path, path.name, labels)
        means, _ = cell_means(labels.lat, labels.lon, scoring.clip_errors_km(predictions, labels), labels.location_id,
                              min_locations=self.settings.min_locations if is_hidden(row["split"]) else 1)
        png = render_error_map(means, title=f"{row['model_name']} ({row['team']}), {row['split']}/{row['config']}")
        with self._maps_lock:
            self._maps[entry_id] = png
            while len(self._maps) > 64:
                self._maps.popitem(last=False)
        return png


def _without_sources(results: Results, a: int, b: int) -> Results:
    comparison = results.comparison
    if comparison is not None:
        comparison = dataclasses.replace(comparison, baseline={**comparison.baseline, "source": f"entry {b}"})
    return dataclasses.replace(results, predictions={**results.predictions, "source": f"entry {a}"}, comparison=comparison)


def _copy_limited(upload: BinaryIO, path: Path, limit: int) -> bytes:
    """Copy an upload to ``path`` in chunks, refusing it as soon as it passes ``limit`` bytes."""
    chunks, size = [], 0
    while chunk := upload.read(1 << 20):
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(limit)
        chunks.append(chunk)
    data = b"".join(chunks)
    path.write_bytes(data)
    return data
