"""Fetching the needed section of a remote source video with yt-dlp, and proving it is usable media.

Two steps per clip:

1. :func:`source_info`: yt-dlp's info JSON of the source video, extracted once per source (in
   process, through yt-dlp's Python API, so HTTP errors arrive with their status and
   ``Retry-After``) and cached as ``<cache>/<hash>.info.json``; the other clips of that video reuse it.
2. :func:`download_section`: ``yt-dlp --load-info-json ... --download-sections *A-B`` in a child
   process (killable: a hung transfer can always be ended), fetching ``[start - margin, end +
   margin]`` with HTTP Range requests (ffmpeg stream copy, so the packets are the source's own and
   the canonical cut reproduces a local build bit for bit). A watchdog kills the child when no byte
   arrives for ``stall_s`` or the whole download passes ``timeout_s``.

The result is never trusted: it is probed (TRAPS.md: a host that ignores Range makes yt-dlp write an
empty file and report success) and must cover the cut. Every failure is a
:class:`~avg_bench.data.failures.ClipFailure` with its ledger class.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from avg_bench.cache import atomic_write_bytes
from avg_bench.data.failures import ClipFailure, classify_message, classify_status
from avg_bench.data.politeness import RateLimiter
from avg_bench.data.schema import ManifestRecord
from avg_bench.tools import tail

#: Platforms whose ``source_id`` alone names the video (used when ``source_uri`` is not a URL).
PLATFORM_URLS = {"youtube": "https://www.youtube.com/watch?v={id}", "vimeo": "https://vimeo.com/{id}"}
SECTION_NAME = "section"
#: A section may end this much before the cut's end (container rounding) and still count as whole.
COVER_TOLERANCE_S = 0.25


@dataclass(frozen=True)
class FetchOptions:
    """How remote sections are fetched (the ``build`` options of the same names)."""

    margin_s: float = 2.0
    timeout_s: float = 600.0
    stall_s: float = 60.0
    socket_timeout_s: float = 20.0
    cookies: Path | None = None


@dataclass(frozen=True)
class Section:
    """A downloaded, probed section: the file, its size, and where it starts in the source."""

    path: Path
    size: int
    start_s: float


def remote_url(record: ManifestRecord) -> str | None:
    """The URL to fetch for a record, or None for a local source."""
    uri = record.source_uri
    if uri.startswith(("http://", "https://")):
        return uri
    if record.source_platform in PLATFORM_URLS and not Path(uri).suffix:
        return PLATFORM_URLS[record.source_platform].format(id=record.source_id)
    return None


# ---------------------------------------------------------------------------------------------
# Step 1: the info JSON, once per source video

_info_locks: dict[str, threading.Lock] = {}
_info_locks_guard = threading.Lock()


def info_path(cache_dir: Path, source_key: str) -> Path:
    return cache_dir / f"{hashlib.sha256(source_key.encode()).hexdigest()[:20]}.info.json"


def source_info(url: str, source_key: str, cache_dir: Path, options: FetchOptions, limiter: RateLimiter) -> Path:
    """The cached info JSON of ``url`` (extracted on first use; concurrent callers wait for one)."""
    path = info_path(cache_dir, source_key)
    if path.is_file():
        return path
    with _info_locks_guard:
        lock = _info_locks.setdefault(str(path), threading.Lock())
    with lock:
        if not path.is_file():
            limiter.acquire()
            info = _extract_info(url, options, limiter)
            atomic_write_bytes(path, json.dumps(info).encode())
    return path


class _Quiet:
    """yt-dlp logger that keeps messages for the error text instead of printing them."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def debug(self, msg: str) -> None:
        pass

    info = debug

    def warning(self, msg: str) -> None:
        self.lines.append(msg)

    def error(self, msg: str) -> None:
        self.lines.append(msg)


def _extract_info(url: str, options: FetchOptions, limiter: RateLimiter) -> dict:
    import yt_dlp

    logger = _Quiet()
    params = {
        "logger": logger, "quiet": True, "no_warnings": True, "noprogress": True, "skip_download": True,
        "noplaylist": True, "cachedir": False, "socket_timeout": options.socket_timeout_s,
        "extractor_retries": 0, "retries": 0,
    }
    if options.cookies is not None:
        params["cookiefile"] = str(options.cookies)
    try:
        with yt_dlp.YoutubeDL(params) as ydl:
            info = ydl.extract_info(url, download=False)
            return ydl.sanitize_info(info)
    except yt_dlp.utils.DownloadError as exc:
        raise _extraction_failure(exc, url, options, limiter) from None


def _extraction_failure(exc: Exception, url: str, options: FetchOptions, limiter: RateLimiter) -> ClipFailure:
    message = str(exc).removeprefix("ERROR: ")
    http = _http_error(exc)
    if http is not None:
        status = getattr(http, "status", None)
        error_class = classify_status(status) if status else None
        if error_class is not None:
            retry_after = _retry_after(http)
            return ClipFailure(error_class, f"{url}: {message}", retry_after_s=retry_after)
    if "Unsupported URL" in message:
        # A page instead of a video: often a bot check. Read its first bytes to tell.
        page = _peek(url, options, limiter)
        if classify_message(page, default="") == "bot_check":
            return ClipFailure("bot_check", f"{url}: the host answered with a bot-check page instead of the video")
        return ClipFailure("unavailable", f"{url}: yt-dlp finds no video there ({message})")
    return ClipFailure(classify_message(message), f"{url}: {message}")


def _http_error(exc: BaseException | None):
    """The yt-dlp HTTPError somewhere in the exception chain, if any."""
    seen = 0
    while exc is not None and seen < 8:
        if hasattr(exc, "status") and hasattr(exc, "response"):
            return exc
        info = getattr(exc, "exc_info", None)
        nxt = getattr(exc, "cause", None) or exc.__cause__ or exc.__context__ or (info[1] if info else None)
        exc = nxt if nxt is not exc else None
        seen += 1
    return None


def _retry_after(http) -> float | None:
    try:
        value = http.response.headers.get("Retry-After")
        return float(value) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


def _peek(url: str, options: FetchOptions, limiter: RateLimiter, limit: int = 65536) -> str:
    limiter.acquire()
    try:
        with urllib.request.urlopen(url, timeout=options.socket_timeout_s) as response:  # noqa: S310 (http(s) only)
            return response.read(limit).decode("utf-8", errors="replace")
    except (urllib.error.URLError, OSError, ValueError):
        return ""


# ---------------------------------------------------------------------------------------------
# Step 2: the section, in a killable child process


def download_section(info_file: Path, start_s: float, end_s: float, folder: Path, options: FetchOptions,
                     limiter: RateLimiter) -> Section:
    """Download ``[start_s - margin, end_s + margin]`` of the source described by ``info_file`` into ``folder``.

    Raises:
        ClipFailure: the host refused, the transfer broke or hung, or the file is not usable media
            covering the cut.
    """
    section_start = max(0.0, start_s - options.margin_s)
    section_end = end_s + options.margin_s
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    command = [
        sys.executable, "-m", "yt_dlp", "--load-info-json", str(info_file),
        "--download-sections", f"*{section_start:.3f}-{section_end:.3f}",
        "-o", str(folder / f"{SECTION_NAME}.%(ext)s"),
        "--no-progress", "--no-cache-dir", "--no-playlist", "--retries", "0", "--fragment-retries", "0",
        "--socket-timeout", f"{options.socket_timeout_s:g}", "--no-mtime",
    ]
    if options.cookies is not None:
        command += ["--cookies", str(options.cookies)]
    limiter.acquire()
    log = folder / "yt-dlp.log"
    returncode, killed = _run_watched(command, folder, log, options)
    stderr = tail(log.read_text(errors="replace"), 20) if log.is_file() else ""
    if killed:
        # A child that already failed but was slow to exit (a loaded machine) keeps its own class.
        said = classify_message(stderr, default="network") if "ERROR:" in stderr else "network"
        raise ClipFailure(said, f"the download {killed}; last output:\n{stderr}")
    if returncode != 0:
        return _raise(ClipFailure(classify_message(stderr), f"yt-dlp failed (exit code {returncode}):\n{stderr}"))
    files = [p for p in folder.glob(f"{SECTION_NAME}.*") if not p.name.endswith((".part", ".ytdl", ".log"))]
    if not files:
        raise ClipFailure("validation_failed", f"yt-dlp reported success but wrote no file:\n{stderr}")
    section = files[0]
    _check_covers(section, start_s, end_s, section_start, info_file, stderr)
    return Section(section, section.stat().st_size, section_start)


def _raise(failure: ClipFailure):
    raise failure


def _check_covers(path: Path, start_s: float, end_s: float, section_start: float, info_file: Path, stderr: str) -> None:
    """Probe the section: readable, with video, long enough for the cut (TRAPS.md: never trust a download)."""
    from avg_bench.data.media import MediaError, probe

    try:
        info = probe(path)
    except MediaError as exc:
        broken = _transfer_broke(stderr)
        raise ClipFailure("network" if broken else "validation_failed", f"the downloaded section {exc.problem}") from None
    if not info.has_video:
        raise ClipFailure("validation_failed", f"the downloaded section of {path.name} has no video stream")
    source_duration = json.loads(info_file.read_text()).get("duration")
    wanted_end = min(end_s, float(source_duration)) if source_duration else end_s
    needed = wanted_end - section_start
    if info.duration_s + COVER_TOLERANCE_S < needed:
        broken = _transfer_broke(stderr)
        raise ClipFailure(
            "network" if broken else "validation_failed",
            f"the downloaded section lasts {info.duration_s:.2f} s but the cut needs {needed:.2f} s "
            f"({'the transfer broke off' if broken else 'the file is truncated'}); yt-dlp/ffmpeg said:\n{tail(stderr, 4)}",
        )


def _transfer_broke(stderr: str) -> bool:
    """ffmpeg's HTTP layer saw the connection close before the promised Content-Length (a cut, not a short file)."""
    return bool(re.search(r"Stream ends prematurely|Connection reset|Broken pipe|timed out", stderr, flags=re.IGNORECASE))


def _folder_bytes(folder: Path) -> int:
    total = 0
    for entry in folder.iterdir():
        try:
            if entry.name != "yt-dlp.log":
                total += entry.stat().st_size
        except OSError:
            pass
    return total


def _run_watched(command: list[str], folder: Path, log: Path, options: FetchOptions) -> tuple[int | None, str | None]:
    """Run ``command``, killing it and its children on a stall or a timeout; (returncode, why killed).

    The child stays in our process group, so Ctrl-C or a scheduler killing the build's group ends
    the download too; the watchdog ends the child and its descendants (ffmpeg) itself.
    """
    with open(log, "wb") as sink:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT)
        began = last_growth = time.monotonic()
        size = 0
        try:
            while True:
                try:
                    return child.wait(timeout=0.2), None
                except subprocess.TimeoutExpired:
                    pass
                now = time.monotonic()
                current = _folder_bytes(folder)
                if current != size:
                    size, last_growth = current, now
                if now - last_growth > options.stall_s:
                    why = f"stalled: no data for {options.stall_s:g} s (watchdog)"
                elif now - began > options.timeout_s:
                    why = f"timed out after {options.timeout_s:g} s"
                else:
                    continue
                _kill_tree(child)
                return None, why
        except BaseException:
            _kill_tree(child)
            raise


def _descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, recursively (Linux /proc; empty elsewhere)."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                children = [int(c) for c in handle.read().split()]
        except (OSError, ValueError):
            continue
        for child in children:
            found += [child, *_descendants(child)]
    return found


def _kill_tree(child: subprocess.Popen) -> None:
    for pid in [*_descendants(child.pid), child.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    child.wait()
