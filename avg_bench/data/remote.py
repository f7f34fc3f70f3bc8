"""Building a manifest's clips through the ledger: remote fetch, workers, retries, shards of the work.

:func:`run_clips` is the clip stage of every ``avg-bench build``, local or remote sources alike (a
local source is one that needs no fetch): every clip has a ledger row
(:mod:`avg_bench.data.ledger`); pending clips are fetched when remote (:mod:`avg_bench.data.fetch`),
cut canonically (:func:`avg_bench.data.media.process_clip`) and marked ``ok`` once their
``clip.json`` is in place. A local source missing before the run is an error up front
(:func:`check_local_sources`); one that vanishes mid-run fails its clip as ``unavailable``. Failures get their class; retryable ones are retried
in the run with backoff, then left ``retryable`` for ``--retry-failed``. A bot check opens the
circuit breaker: no worker takes another clip.

Sharding: ``--shard i/N`` takes the clips whose *source video* hashes to ``i`` (so each source's
info JSON is fetched by one machine only); :func:`merge_parts` joins the parts' clip folders and
ledgers into one build folder, whose normal build then has nothing left to fetch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from avg_bench.data.ahead import FetchAhead
from avg_bench.data.canonical import CanonicalFormat
from avg_bench.data.clip_store import CLIP_META, load_clip, save_clip
from avg_bench.data.failures import ClipFailure, classify_message
from avg_bench.data.fetch import FetchOptions, Section, download_section, remote_url, source_info
from avg_bench.data.ledger import LEDGER_NAME, Ledger, LedgerRow
from avg_bench.data.manifest import resolve_source
from avg_bench.data.media import remove_leftovers
from avg_bench.data.politeness import CircuitBreaker, RateLimiter, backoff_delay
from avg_bench.data.schema import ManifestRecord
from avg_bench.errors import AvgBenchError

WORK_DIR = ".work"


@dataclass(frozen=True)
class RunOptions:
    """The ``build`` options of the ledger stage."""

    workers: int = 2
    #: Fetches per minute (info extractions, section downloads, page peeks), all workers and hosts
    #: together (0: no limit). One section download is one fetch, however many HTTP requests it makes.
    requests_per_minute: float = 60.0
    #: Ceiling on HTTP requests per host in any minute, counted request by request (0: none).
    host_requests_per_minute: float = 0.0
    #: In-run retries of a retryable failure (bot checks excepted), with backoff between them.
    retries: int = 2
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 300.0
    retry_failed: bool = False
    #: With retry_failed: only these classes (None: every retryable class).
    classes: tuple[str, ...] | None = None
    shard: tuple[int, int] | None = None
    fetch: FetchOptions = field(default_factory=FetchOptions)
    keep_downloads: bool = False


@dataclass
class RunOutcome:
    """What the clip stage leaves: the finished clips' metadata and the ledger rows of its clips."""

    clips: dict[str, dict]
    rows: list[LedgerRow]
    elapsed_s: float
    attempted: int
    breaker: str | None = None

    @property
    def complete(self) -> bool:
        """True when every clip of this run (this shard) is ``ok``."""
        return all(row.state == "ok" for row in self.rows)


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/N"`` -> (i, N), with 0 <= i < N.

    >>> parse_shard("1/4")
    (1, 4)
    """
    index, _, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        raise AvgBenchError(f"--shard {text!r}: expected i/N, e.g. 0/4") from None
    if n < 1 or not 0 <= i < n:
        raise AvgBenchError(f"--shard {text!r}: need N >= 1 and 0 <= i < N")
    return i, n


def shard_of(record: ManifestRecord, count: int) -> int:
    """The shard of a clip: by its source video, so one machine fetches each source's info."""
    return int(hashlib.sha256(record.source_key.encode()).hexdigest()[:12], 16) % count


def run_clips(
    records: Sequence[ManifestRecord],
    manifest_path: Path,
    out_dir: Path,
    *,
    process: Callable,
    fmt: CanonicalFormat,
    options: RunOptions,
    progress: bool = True,
) -> RunOutcome:
    """Build every pending clip of ``records`` (of this shard) into ``out_dir/.work/clips``.

    Raises:
        AvgBenchError: a local source of a clip still to build is missing (checked before anything is touched).
    """
    began = time.monotonic()
    work = out_dir / WORK_DIR
    clips_dir = work / "clips"
    mine = [r for r in records if options.shard is None or shard_of(r, options.shard[1]) == options.shard[0]]
    check_local_sources(mine, manifest_path, clips_dir)
    shutil.rmtree(work / "downloads", ignore_errors=True)  # sections left by a killed run
    remove_leftovers(clips_dir)  # and its half-made clip folders (.partial, also the empty ones)
    with Ledger(work / LEDGER_NAME) as ledger:
        ledger.add((r.clip_id, r.source_key) for r in mine)
        ledger.reconcile(clips_dir)
        if options.retry_failed:
            ledger.requeue(options.classes)
        states = ledger.states()
        todo = [r for r in mine if states.get(r.clip_id) == "pending"]
        worker = _Worker(manifest_path, work, ledger, process, fmt, options)
        _run_pool(worker, todo, options.workers, progress)
        rows = ledger.rows(r.clip_id for r in mine)
    clips = {row.clip_id: load_clip(clips_dir / row.clip_id) for row in rows if row.state == "ok"}
    return RunOutcome(clips, rows, time.monotonic() - began, len(todo), worker.breaker.reason)


def check_local_sources(records: Sequence[ManifestRecord], manifest_path: Path, clips_dir: Path, *, shown: int = 5) -> None:
    """Raise one :class:`AvgBenchError` naming the clips whose local source file is missing.

    Only clips still to build count: a finished clip (its ``clip.json`` in ``clips_dir``) needs no
    source. The first ``shown`` are named, with the total.
    """
    missing = []
    for record in records:
        if remote_url(record) is not None or (clips_dir / record.clip_id / CLIP_META).is_file():
            continue
        source = resolve_source(record, manifest_path)
        if not source.is_file():
            missing.append(f"clip {record.clip_id}: source file {source} not found")
    if len(missing) == 1:
        raise AvgBenchError(f"{manifest_path}: {missing[0]}")
    if missing:
        more = f"; and {len(missing) - shown} more" if len(missing) > shown else ""
        raise AvgBenchError(f"{manifest_path}: {len(missing)} local source files not found: {'; '.join(missing[:shown])}{more}")


class _Worker:
    """Builds one clip at a time; shared by the pool's threads (its state is thread-safe)."""

    def __init__(self, manifest_path: Path, work: Path, ledger: Ledger, process: Callable, fmt: CanonicalFormat, options: RunOptions) -> None:
        self.manifest_path, self.work, self.ledger = manifest_path, work, ledger
        self.process, self.fmt, self.options = process, fmt, options
        self.limiter = RateLimiter(options.requests_per_minute, host_requests_per_minute=options.host_requests_per_minute)
        self.breaker = CircuitBreaker()
        #: Set on Ctrl-C: clips failing from then on were interrupted, not broken, and stay pending.
        self.stopping = threading.Event()
        self.failures: dict[str, int] = {}
        #: Sources whose extraction failed permanently: their other clips fail without a request.
        self.gone: dict[str, ClipFailure] = {}
        self._lock = threading.Lock()
        #: The next clip's section is fetched while this one is cut (:mod:`avg_bench.data.ahead`).
        self.ahead = FetchAhead(self._fetch, discard=lambda fetched: shutil.rmtree(fetched[1].path.parent, ignore_errors=True),
                                may_start=lambda: not (self.breaker.is_open or self.stopping.is_set()),
                                key=lambda record: record.clip_id)

    def __call__(self, record: ManifestRecord) -> str:
        """Build one clip with in-run retries; returns "ok", "skipped" (breaker open) or the error class."""
        attempt = 0
        while True:
            if self.breaker.is_open or self.stopping.is_set():
                return "skipped"
            attempt += 1
            self.ledger.start(record.clip_id)
            try:
                self._build(record, attempt)
                return "ok"
            except ClipFailure as failure:
                if self.stopping.is_set():
                    return "interrupted"
                error_class = failure.error_class
                last = failure.permanent or error_class == "bot_check" or attempt > self.options.retries
                if error_class == "bot_check":
                    self.breaker.trip(record.clip_id, str(failure))
                if last:
                    self.ledger.mark_failed(record.clip_id, error_class, str(failure))
                    with self._lock:
                        self.failures[error_class] = self.failures.get(error_class, 0) + 1
                    return error_class
                delay = backoff_delay(attempt, base_s=self.options.backoff_base_s, cap_s=self.options.backoff_cap_s,
                                      retry_after_s=failure.retry_after_s)
                if self.breaker.wait(delay):  # another worker met a bot check: stop here too
                    # Filed under bot_check, so the advice printed for the breaker (--retry-failed
                    # --classes bot_check) retries this clip too; its own failure stays in the message.
                    self.ledger.mark_failed(record.clip_id, "bot_check",
                                            f"stopped by the circuit breaker (bot check at {self.breaker.clip_id}) "
                                            f"while waiting to retry a {error_class} failure: {failure}")
                    with self._lock:
                        self.failures["bot_check"] = self.failures.get("bot_check", 0) + 1
                    return "bot_check"

    def _fetch(self, record: ManifestRecord) -> tuple[Path, Section, float] | None:
        """(info JSON, downloaded section, seconds) of a remote clip; None for a local one."""
        url = remote_url(record)
        if url is None:
            return None
        began = time.monotonic()
        # A fresh folder per attempt: a download left running by a killed earlier run never shares it.
        downloads = self.work / "downloads" / f"{record.clip_id}.{os.getpid()}.{threading.get_ident()}.{time.monotonic_ns()}"
        if record.source_key in self.gone:
            known = self.gone[record.source_key]
            raise ClipFailure(known.error_class, f"{known} (same source as an earlier clip)")
        try:
            info = source_info(url, record.source_key, self.work / "sources", self.options.fetch, self.limiter)
            section = download_section(info, record.start_s, record.end_s, downloads, self.options.fetch, self.limiter)
        except ClipFailure as failure:
            if failure.permanent:
                self.gone[record.source_key] = failure
            if not self.options.keep_downloads:
                shutil.rmtree(downloads, ignore_errors=True)
            raise
        return info, section, time.monotonic() - began

    def _build(self, record: ManifestRecord, attempt: int = 1) -> None:
        from avg_bench.data.media import MediaError
        from avg_bench.tools import ToolError

        folder = self.work / "clips" / record.clip_id
        url = remote_url(record)
        fetch_s = download_bytes = None
        downloads = None
        try:
            if url is not None:
                ahead = self.ahead.claim(record) if attempt == 1 else None
                fetched = (ahead.result() if ahead is not None else None) or self._fetch(record)
                assert fetched is not None  # a clip with a URL always fetches a section (or raises)
                info, section, fetch_s = fetched
                downloads, download_bytes = section.path.parent, section.size
                source, start, end = section.path, record.start_s - section.start_s, record.end_s - section.start_s
                source_info = section.media
                self.ahead.start_next()
            else:
                source, start, end = resolve_source(record, self.manifest_path), record.start_s, record.end_s
                source_info = None
                if not source.is_file():
                    raise ClipFailure("unavailable", f"source file {source} not found")
            processing = time.monotonic()
            try:
                result = self.process(source, start, end, folder, fmt=self.fmt, source_info=source_info)
            except ToolError as exc:
                raise ClipFailure("ffmpeg", str(exc)) from None
            except MediaError as exc:
                raise ClipFailure("validation_failed", str(exc)) from None
            except (AvgBenchError, OSError) as exc:
                raise ClipFailure(classify_message(str(exc), default="validation_failed"), str(exc)) from None
            process_s = time.monotonic() - processing
        finally:
            if downloads is not None and not self.options.keep_downloads:
                shutil.rmtree(downloads, ignore_errors=True)
        licence = None
        if url is not None:  # the licence the source declares now, not only what curate saw
            from avg_bench.data.licences import source_licence

            licence = source_licence(json.loads(Path(info).read_text()))
        meta = save_clip(result, source_license=licence)
        output = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
        self.ledger.mark_ok(record.clip_id, fetch_s=fetch_s, process_s=process_s, download_bytes=download_bytes,
                            output_bytes=output, video_sha256=meta["video_sha256"], audio_sha256=meta["audio_sha256"])


def _run_pool(worker: _Worker, todo: list[ManifestRecord], workers: int, progress: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed or 0.0:.2f} clips/s")

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), Rate(), TimeRemainingColumn(),
               TextColumn("{task.fields[failures]}"))
    with Progress(*columns, disable=not progress or not todo, transient=True) as bar:
        task = bar.add_task("clips", total=len(todo), failures="")
        pool = ThreadPoolExecutor(max_workers=max(1, workers))
        worker.ahead.plan(todo)
        try:
            futures = [pool.submit(worker, record) for record in todo]
            for future in as_completed(futures):
                future.result()
                failed = ", ".join(f"{c} {n}" for c, n in sorted(worker.failures.items()))
                bar.update(task, advance=1, failures=f"failed: {failed}" if failed else "")
        except BaseException:
            worker.stopping.set()  # Ctrl-C: no new clip starts, clips in flight stay pending
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            worker.ahead.close()
        pool.shutdown(wait=True)


def merge_parts(parts: Sequence[Path], out_dir: Path) -> int:
    """Copy the finished clips and the ledger rows of part folders (``--shard`` builds) into ``out_dir``.

    Returns the number of clips brought in. A clip finished in two parts is taken once.
    """
    work = out_dir / WORK_DIR
    (work / "clips").mkdir(parents=True, exist_ok=True)
    brought = 0
    with Ledger(work / LEDGER_NAME) as ledger:
        for part in parts:
            part_work = Path(part) / WORK_DIR
            if not (part_work / LEDGER_NAME).is_file():
                raise AvgBenchError(f"--merge {part}: no build ledger at {part_work / LEDGER_NAME} (is it a --shard build folder?)")
            for clip_json in sorted((part_work / "clips").glob(f"*/{CLIP_META}")):
                target = work / "clips" / clip_json.parent.name
                if (target / CLIP_META).is_file():
                    continue
                partial = target.with_name(f".{target.name}.merge.partial")
                shutil.rmtree(partial, ignore_errors=True)
                shutil.copytree(clip_json.parent, partial)
                shutil.rmtree(target, ignore_errors=True)
                partial.replace(target)
                brought += 1
            with Ledger(part_work / LEDGER_NAME) as other:
                ledger.merge_from(other)
        ledger.reconcile(work / "clips")
    return brought
