"""Fetching the needed section of a remote source video with yt-dlp, and proving it is usable media.

Two steps per clip:

1. :func:`source_info`: yt-dlp's info JSON of the source video, extracted once per source (in
   process, through yt-dlp's Python API, so HTTP errors arrive with their status and
   ``Retry-After``) and cached as ``<cache>/<hash>.info.json``; the other clips of that video reuse it.
2. :func:`download_section`: the section ``[start - margin, end + margin]`` in a killable child:
   for a single progressive http(s) format without cookies, the ffmpeg command yt-dlp would run
   (``-ss A -t B-A -i URL -c copy``; no yt-dlp start-up per clip), else ``yt-dlp --load-info-json
   ... --download-sections *A-B``. HTTP Range requests fetch only about the section, and stream copy
   keeps the source's own packets, so the canonical cut reproduces a local build bit for bit. A
   watchdog ends the child when no byte arrives for ``stall_s`` (judged on ffmpeg's progress log, not
   on the output file) or the whole download passes ``timeout_s``; ``timeout_s`` also bounds the
   in-process extraction and the bot-page peek.

The result is never trusted: it is probed (TRAPS.md: a host that ignores Range makes yt-dlp write an
empty file and report success) and must cover the cut. Every failure is a
:class:`~avg_bench.data.failures.ClipFailure` with its ledger class.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import select
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
from urllib.parse import urlsplit

from avg_bench.cache import atomic_write_bytes
from avg_bench.data.failures import ClipFailure, classify_message, classify_status
from avg_bench.data.media_info import MediaInfo
from avg_bench.data.mp4_header import Mp4Header, read_mp4_header
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
    """A downloaded, probed section: the file, its size, where it starts in the source, and what its ``moov`` says."""

    path: Path
    size: int
    start_s: float
    #: ffprobe's description of the section, read from its ``moov`` (:func:`~avg_bench.data.media.describe_section`);
    #: None when the cutter must ask ffprobe.
    media: MediaInfo | None = None


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
    """Where a source's info JSON is cached: named by a hash of its source key, never by its URL."""
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
            host = host_of(url)
            limiter.acquire(host)
            limiter.count(host)
            info = _within(options.timeout_s, f"extracting the video's information from {url}",
                           lambda: _extract_info(url, options, limiter))
            atomic_write_bytes(path, json.dumps(info).encode())
    return path


def host_of(url: str) -> str:
    """The host a URL's requests go to (what a pause or a request ceiling applies to)."""
    return (urlsplit(url).hostname or url).lower()


def _within(timeout_s: float, what: str, work):
    """``work()``, or a ``network`` failure once ``timeout_s`` passes (``--timeout`` covers extraction too).

    In-process yt-dlp cannot be killed: a host that drips its page keeps a socket-timeout from ever
    firing. ``work`` runs in a daemon thread that is abandoned on timeout (it ends with its socket).
    """
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="avg-bench-extract", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise ClipFailure("network", f"{what} timed out after {timeout_s:g} s (--timeout)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class _Quiet:
    """yt-dlp logger that keeps its last messages (for debugging) instead of printing them."""

    def __init__(self) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=20)  # bounded: one logger serves many extractions

    def debug(self, msg: str) -> None:
        pass

    info = debug

    def warning(self, msg: str) -> None:
        self.lines.append(msg)

    def error(self, msg: str) -> None:
        self.lines.append(msg)


#: Idle ``YoutubeDL`` objects by socket timeout. Making one costs ~45 ms of CPU (its table of
#: extractors), an extraction from it ~8 ms: each is lent to one thread at a time and handed back.
_idle_extractors: dict[float, list] = {}
_idle_guard = threading.Lock()


def _extract_info(url: str, options: FetchOptions, limiter: RateLimiter) -> dict:
    import yt_dlp

    params = {
        "logger": _Quiet(), "quiet": True, "no_warnings": True, "noprogress": True, "skip_download": True,
        "noplaylist": True, "cachedir": False, "socket_timeout": options.socket_timeout_s,
        "extractor_retries": 0, "retries": 0,
    }
    try:
        if options.cookies is not None:  # a fresh one: its cookie jar is read from, and saved back to, the file
            params["cookiefile"] = str(options.cookies)
            with yt_dlp.YoutubeDL(params) as ydl:
                return ydl.sanitize_info(ydl.extract_info(url, download=False))
        with _idle_guard:
            idle = _idle_extractors.setdefault(options.socket_timeout_s, [])
            ydl = idle.pop() if idle else None
        ydl = ydl or yt_dlp.YoutubeDL(params)
        try:
            info = ydl.sanitize_info(ydl.extract_info(url, download=False))
        except BaseException:
            ydl.close()  # not lent again: a failed one may hold a half-read connection
            raise
        with _idle_guard:
            idle.append(ydl)
        return info
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
            if retry_after is not None and error_class == "http_429":
                limiter.hold(host_of(url), retry_after)
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
    """The first ``limit`` bytes of ``url`` as text ("" when unreachable), within the build's timeouts.

    Never longer than ``--timeout`` in all nor ``--stall-timeout`` without a byte (a page can be dripped to hold a worker).
    """
    host = host_of(url)
    limiter.acquire(host)
    limiter.count(host)
    request = urllib.request.Request(url, headers={"Range": f"bytes=0-{limit - 1}"})
    began, data = time.monotonic(), b""
    try:
        with urllib.request.urlopen(request, timeout=min(options.socket_timeout_s, options.stall_s)) as response:  # noqa: S310
            while len(data) < limit and time.monotonic() - began < options.timeout_s:
                piece = response.read1(min(4096, limit - len(data)))
                if not piece:
                    break
                data += piece
    except urllib.error.HTTPError as exc:
        data = exc.read(limit) if exc.fp is not None else b""
    except (urllib.error.URLError, OSError, ValueError):
        pass
    return data.decode("utf-8", errors="replace")


def _ask_retry_after(url: str, options: FetchOptions, limiter: RateLimiter) -> float | None:
    """A 429 on the section: ffmpeg does not show the ``Retry-After`` header, so ask once (HEAD with the same Range)."""
    host = host_of(url)
    limiter.acquire(host)
    limiter.count(host)
    request = urllib.request.Request(url, method="HEAD", headers={"Range": "bytes=0-0"})
    try:
        with urllib.request.urlopen(request, timeout=min(options.socket_timeout_s, options.stall_s)):  # noqa: S310
            return None
    except urllib.error.HTTPError as exc:
        try:
            retry_after = exc.headers.get("Retry-After")
            return float(retry_after) if retry_after else None
        except ValueError:
            return None
    except (urllib.error.URLError, OSError, ValueError):
        return None


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
    info = json.loads(info_file.read_text())
    media_url = str(info.get("url") or info.get("webpage_url") or "")
    host = host_of(media_url)
    command = _direct_command(info, section_start, section_end, folder, options)
    direct = command is not None
    if command is None:
        command = [
            sys.executable, "-m", "yt_dlp", "--load-info-json", str(info_file),
            "--download-sections", f"*{section_start:.3f}-{section_end:.3f}",
            "-o", str(folder / f"{SECTION_NAME}.%(ext)s"),
            "--no-progress", "--no-cache-dir", "--no-playlist", "--retries", "0", "--fragment-retries", "0",
            "--socket-timeout", f"{options.socket_timeout_s:g}", "--no-mtime",
            # ffmpeg's own log: one "Starting connection attempt" per HTTP request (the host's request
            # ceiling) and a progress line per half second while packets arrive (the stall watchdog).
            "--downloader-args", "ffmpeg_i:" + " ".join(_FFMPEG_LOG),
        ]
        if options.cookies is not None:
            command += ["--cookies", str(options.cookies)]
    limiter.acquire(host)
    log = folder / "yt-dlp.log"
    returncode, killed = _run_watched(command, folder, log, options, lambda n: limiter.count(host, n))
    stderr = tail(_readable(log), 20) if log.is_file() else ""
    tool = "ffmpeg" if direct else "yt-dlp"
    if killed:
        # A child that already failed but was slow to exit (a loaded machine) keeps its own class.
        failed = "ERROR:" in stderr or "[error]" in stderr
        said = classify_message(stderr, default="network") if failed else "network"
        raise ClipFailure(said, f"the download {killed}; last output:\n{stderr}")
    if returncode != 0:
        raise _section_failure(stderr, f"{tool} failed (exit code {returncode}):\n{stderr}", media_url, options, limiter)
    if direct and (folder / f"{SECTION_NAME}.{info['ext']}.part").is_file():
        os.replace(folder / f"{SECTION_NAME}.{info['ext']}.part", folder / f"{SECTION_NAME}.{info['ext']}")
    files = [p for p in folder.glob(f"{SECTION_NAME}.*") if not p.name.endswith((".part", ".ytdl", ".log"))]
    if not files:
        raise _section_failure(stderr, f"{tool} reported success but wrote no file:\n{stderr}", media_url, options, limiter)
    section = files[0]
    try:
        _check_covers(section, start_s, end_s, section_start, info, stderr)
    except ClipFailure as failure:
        if failure.error_class != "validation_failed":
            raise
        raise _section_failure(stderr, str(failure), media_url, options, limiter) from None
    from avg_bench.data.media import describe_section

    return Section(section, section.stat().st_size, section_start, describe_section(section, cut_end_s=end_s - section_start))


_FFMPEG_LOG = ("-loglevel", "level+verbose", "-stats_period", "0.5")
#: Containers ffmpeg writes a stream-copied section into, by the format's extension.
_OUT_FORMATS = {"mp4": "mp4", "m4a": "mp4", "mov": "mov", "webm": "webm", "mkv": "matroska"}


def _direct_command(info: dict, section_start: float, section_end: float, folder: Path, options: FetchOptions) -> list[str] | None:
    """The ffmpeg command yt-dlp would run for this section, or None where only yt-dlp knows how.

    A single progressive http(s) format without cookies is what yt-dlp hands to ffmpeg unchanged
    (``-headers``, ``-ss``, ``-t``, ``-i URL -c copy``): running that ffmpeg ourselves saves the ~1 s
    a fresh yt-dlp process costs per clip. Merged formats (DASH video + audio), HLS, live streams
    and ``--cookies`` go through yt-dlp.
    """
    url, ext = info.get("url"), info.get("ext")
    if (options.cookies is not None or info.get("requested_formats") or info.get("is_live")
            or not isinstance(url, str) or not url.startswith(("http://", "https://"))
            or info.get("protocol") not in (None, "http", "https") or ext not in _OUT_FORMATS):
        return None
    start, end = float(f"{section_start:.3f}"), float(f"{section_end:.3f}")  # yt-dlp's own rounding
    command = ["ffmpeg", "-y", "-hide_banner", "-nostdin", *_FFMPEG_LOG, "-rw_timeout", str(int(options.socket_timeout_s * 1e6))]
    headers = info.get("http_headers") or {}
    if headers:
        command += ["-headers", "".join(f"{key}: {value}\r\n" for key, value in headers.items())]
    if start:
        command += ["-ss", str(start)]
    command += ["-t", str(end - start), "-i", url, "-c", "copy", "-f", _OUT_FORMATS[ext],
                f"file:{folder / f'{SECTION_NAME}.{ext}.part'}"]
    return command


#: ffmpeg messages about the file's own structure: a broken container, not a broken transfer.
_CONTAINER = re.compile(r"moov atom not found|Invalid data found|does not contain any stream|could not seek to position|"
                        r"error reading header|partial file|corrupt input packet|no video stream|not a readable media file|"
                        r"has no video|lasts .* but the cut needs|wrote no file", re.IGNORECASE)


def _section_failure(stderr: str, message: str, media_url: str, options: FetchOptions, limiter: RateLimiter) -> ClipFailure:
    """The class of a failed section download, asking the host once where its log cannot tell.

    * a 429: the host is paused for every worker for its ``Retry-After`` (asked with one HEAD);
    * not usable media: if the host served a bot-check page instead of the video, ``bot_check``
      (which opens the circuit breaker), else ``validation_failed``;
    * a broken container is ``validation_failed`` unless the transfer visibly broke off.
    """
    error_class = classify_message(stderr + "\n" + message)
    if error_class == "http_429":
        retry_after = _ask_retry_after(media_url, options, limiter) if media_url else None
        if retry_after is not None:
            limiter.hold(host_of(media_url), retry_after)
        return ClipFailure("http_429", message, retry_after_s=retry_after)
    if error_class == "network" and not _transfer_broke(stderr) and _CONTAINER.search(stderr + "\n" + message):
        error_class = "validation_failed"
    if error_class == "validation_failed" and media_url.startswith(("http://", "https://")):
        page = _peek(media_url, options, limiter, limit=4096)
        if classify_message(page, default="") == "bot_check":
            return ClipFailure("bot_check", f"{media_url}: the host answered with a bot-check page instead of the video")
    return ClipFailure(error_class, message)


def _readable(log: Path) -> str:
    """The log without ffmpeg's progress lines and per-request chatter (kept for the watchdog only)."""
    lines = log.read_text(errors="replace").replace("\r", "\n").splitlines()
    return "\n".join(line for line in lines if line.strip() and not _NOISE.search(line))


_NOISE = re.compile(r"^(\[info\]\s*)?(frame=|size=)|\[verbose\]|^\[info\]\s+(Input|Output|Stream|Duration|Metadata|Press|\s)|"
                    r"^\[info\] (video|audio):\d")


def _check_covers(path: Path, start_s: float, end_s: float, section_start: float, info: dict, stderr: str) -> None:
    """Probe the section: readable, with video, long enough for the cut (TRAPS.md: never trust a download).

    An MP4 is read from its own ``moov`` box (:mod:`avg_bench.data.mp4_header`, no ffprobe start-up);
    anything that reader does not understand goes to ffprobe.
    """
    from avg_bench.data.media import MediaError, probe

    media: Mp4Header | MediaInfo | None = read_mp4_header(path)
    if media is None:
        try:
            media = probe(path)
        except MediaError as exc:
            broken = _transfer_broke(stderr)
            raise ClipFailure("network" if broken else "validation_failed", f"the downloaded section {exc.problem}") from None
    if not media.has_video:
        raise ClipFailure("validation_failed", f"the downloaded section of {path.name} has no video stream")
    source_duration = info.get("duration")
    wanted_end = min(end_s, float(source_duration)) if source_duration else end_s
    needed = wanted_end - section_start
    if media.duration_s + COVER_TOLERANCE_S < needed:
        broken = _transfer_broke(stderr)
        raise ClipFailure(
            "network" if broken else "validation_failed",
            f"the downloaded section lasts {media.duration_s:.2f} s but the cut needs {needed:.2f} s "
            f"({'the transfer broke off' if broken else 'the file is truncated'}); yt-dlp/ffmpeg said:\n{tail(stderr, 4)}",
        )


def _transfer_broke(stderr: str) -> bool:
    """Ffmpeg's HTTP layer saw the connection close before the promised Content-Length (a cut, not a short file)."""
    return bool(re.search(r"Stream ends prematurely|Connection reset|Broken pipe|timed out", stderr, flags=re.IGNORECASE))


#: One per HTTP request: ffmpeg opens a new connection for each (its http ``multiple_requests`` is off).
_OPENING = re.compile(rb"Starting connection attempt to ")


def _run_watched(command: list[str], folder: Path, log: Path, options: FetchOptions,
                 on_requests=lambda n: None) -> tuple[int | None, str | None]:
    """Run ``command``, killing it and its children on a stall or a timeout; (returncode, why killed).

    A stall is judged on *bytes received*, not on the output file: ffmpeg writes the MP4 in bursts
    of ~256 KiB, so a slow but steady transfer leaves the file unchanged for minutes. ffmpeg logs a
    progress line every half second while packets arrive (``-stats_period 0.5``), and nothing while
    it waits on the socket: the log growing is the sign of life. The HTTP requests ffmpeg opens are
    reported to ``on_requests`` as they appear (the host's request ceiling).

    The child stays in our process group, so Ctrl-C or a scheduler killing the build's group ends
    the download too; the watchdog ends the child and its descendants (ffmpeg) itself.
    """
    with open(log, "wb") as sink:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT)
        exited = _exit_signal(child)
        began = last_growth = time.monotonic()
        size, read_to = -1, 0
        try:
            while True:
                code = _wait_exit(child, exited, 0.2)
                if code is not None:
                    on_requests(_count_requests(log, read_to)[0])
                    return code, None
                now = time.monotonic()
                current = _folder_bytes(folder)
                if current != size:
                    size, last_growth = current, now
                opened, read_to = _count_requests(log, read_to)
                on_requests(opened)
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
        finally:
            if exited is not None:
                os.close(exited)


def _exit_signal(child: subprocess.Popen) -> int | None:
    """A descriptor that becomes readable when ``child`` exits (Linux pidfd), or None where there is none."""
    try:
        return os.pidfd_open(child.pid)
    except (AttributeError, OSError):
        return None


def _wait_exit(child: subprocess.Popen, exited: int | None, timeout_s: float) -> int | None:
    """``child``'s exit code once it exits within ``timeout_s``, else None.

    ``Popen.wait(timeout)`` polls with sleeps of up to 50 ms, so a ~70 ms download was noticed
    ~25 ms late on average; the pidfd wakes us the moment the child exits.
    """
    if exited is not None:
        ready, _, _ = select.select([exited], [], [], timeout_s)
        return child.wait() if ready else child.poll()
    try:
        return child.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return None


def _count_requests(log: Path, offset: int) -> tuple[int, int]:
    """HTTP requests ffmpeg logged after byte ``offset`` of ``log`` (whole lines only); (count, new offset)."""
    try:
        with open(log, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except OSError:
        return 0, offset
    end = data.rfind(b"\n") + 1
    return len(_OPENING.findall(data[:end])), offset + end


def _folder_bytes(folder: Path) -> int:
    """Bytes in the download folder, the log included (its progress lines are the sign of arriving data)."""
    total = 0
    for entry in folder.iterdir():
        try:
            total += entry.stat().st_size
        except OSError:
            pass
    return total


def _descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, recursively (Linux /proc; empty elsewhere)."""
    found: list[int] = []
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
