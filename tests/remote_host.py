"""A local video host for tests: the package's Range-capable host (:mod:`avg_bench.data.local_host`) plus faults.

It stands in for a video platform (and for an HTTP mirror of a built dataset) without any network.
Python's ``http.server`` ignores ``Range``, and yt-dlp then writes an empty file that reports success
(TRAPS.md); this host answers ``Range: bytes=a-b`` with ``206 Partial Content`` and a correct
``Content-Range``, so ffmpeg and yt-dlp can fetch just a section of a file.

Faults are injected per path (see :class:`Fault`): HTTP 404, 403, 410 and 429 (with
``Retry-After``), a connection cut mid-body, a stall, a corrupt container, a corrupt ``moov`` (the file
opens, its track headers are zeros), a truncated file, an
empty ``200``, a bot-check page, a host that ignores ``Range`` like ``http.server``, a slow but
steady transfer (``slow``: the file at ``rate_bps``) and a bot-check page dripped at ``rate_bps``
(``drip``). A fault can hold for the first ``times`` requests only, so in-run retries are testable,
and only for ``Range`` requests (``ranged_only``: the section download, not the info extraction).
Every request is logged with its time and status in :attr:`VideoHost.log`.

Usage::

    with VideoHost(folder) as host:
        host.fault("/v/a.mp4", Fault("404"))
        url = host.url("/v/a.mp4")
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from avg_bench.data.local_host import UNSATISFIABLE, QuietServer, byte_range
from avg_bench.data.local_host import content_type as _type

FAULT_KINDS = ("404", "403", "410", "429", "cut", "stall", "corrupt", "truncated", "empty", "bot", "no_range", "slow",
               "drip", "bad_moov")
BOT_PAGE = (
    b"<!DOCTYPE html><html><head><title>Verify</title></head><body>"
    b"<h1>Sign in to confirm you're not a bot</h1><p>This helps protect our community.</p></body></html>"
)


@dataclass
class Fault:
    """What a path does instead of serving its file.

    Args:
        kind: one of :data:`FAULT_KINDS`.
        times: how many requests the fault holds for (None: until cleared).
        retry_after: the ``Retry-After`` seconds of a 429.
        stall_s: how long a stall holds the connection before closing it.
        rate_bps: bytes per second of ``slow`` and ``drip``.
        ranged_only: the fault answers only requests with a ``Range`` header.
    """

    kind: str
    times: int | None = None
    retry_after: int = 1
    stall_s: float = 30.0
    rate_bps: float = 20_000.0
    ranged_only: bool = False

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; expected one of {FAULT_KINDS}")


class VideoHost:
    """Serve the files under ``root`` at ``http://127.0.0.1:PORT/<relative path>``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self._faults: dict[str, Fault] = {}
        self._lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.ranges: list[tuple[str, str | None]] = []
        #: (monotonic time, path, status) of every request, in arrival order.
        self.log: list[tuple[float, str, int]] = []
        self.closing = threading.Event()
        self._server = QuietServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="video-host", daemon=True)

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> VideoHost:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.closing.set()  # ends stalls at once
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    # -- faults ---------------------------------------------------------------------------------
    def fault(self, path: str, fault: Fault) -> None:
        with self._lock:
            self._faults["/" + path.lstrip("/")] = fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, path: str, *, ranged: bool = False) -> Fault | None:
        """The fault for this request (counting it down), and the request counted."""
        with self._lock:
            self.requests[path] = self.requests.get(path, 0) + 1
            fault = self._faults.get(path)
            if fault is None or (fault.ranged_only and not ranged):
                return None
            if fault.times is not None:
                if fault.times <= 0:
                    return None
                fault.times -= 1
            return fault


def _handler(host: VideoHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, *, body: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            fault = host.take_fault(path, ranged=self.headers.get("Range") is not None)
            file = (host.root / path.lstrip("/")).resolve()
            if host.root not in file.parents or not file.is_file():
                return self._plain(404, b"not found", body)
            with host._lock:
                host.ranges.append((path, self.headers.get("Range")))
            kind = fault.kind if fault else None
            if kind in ("404", "403", "410"):
                return self._plain(int(kind), f"HTTP {kind}".encode(), body)
            if kind == "429":
                return self._plain(429, b"too many requests", body, {"Retry-After": str(fault.retry_after)})
            if kind == "bot":
                return self._plain(200, BOT_PAGE, body, {"Content-Type": "text/html; charset=utf-8"})
            if kind == "drip":
                return self._plain(200, BOT_PAGE, body, {"Content-Type": "text/html; charset=utf-8"}, rate_bps=fault.rate_bps)
            if kind == "empty":
                return self._plain(200, b"", body, {"Content-Type": _type(file)})
            data = file.read_bytes()
            if kind == "corrupt":
                data = bytes((b * 73 + 41) & 0xFF for b in data)  # same size, no container left
            elif kind == "bad_moov":
                data = _bad_moov(data)
            elif kind == "truncated":
                data = data[: len(data) // 3]
            self._send(data, file, body, fault, honour_range=kind != "no_range")

        def send_response(self, code: int, message: str | None = None) -> None:
            with host._lock:
                host.log.append((time.monotonic(), unquote(urlsplit(self.path).path), code))
            super().send_response(code, message)

        def _plain(self, status: int, data: bytes, body: bool, headers: dict | None = None, rate_bps: float = 0) -> None:
            self.send_response(status)
            headers = {"Content-Type": "text/plain", **(headers or {})}
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body and data:
                self._write(data, rate_bps)

        def _write(self, data: bytes, rate_bps: float) -> None:
            """Send ``data``, at ``rate_bps`` bytes per second in small steady pieces when given."""
            if not rate_bps:
                self.wfile.write(data)
                return
            piece = max(1, int(rate_bps / 10))
            try:
                for offset in range(0, len(data), piece):
                    if host.closing.wait(piece / rate_bps):
                        break
                    self.wfile.write(data[offset : offset + piece])
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True

        def _send(self, data: bytes, file: Path, body: bool, fault: Fault | None, *, honour_range: bool) -> None:
            size = len(data)
            start, end = 0, size - 1
            status = 200
            requested = self.headers.get("Range")
            if requested and honour_range:
                wanted = byte_range(requested, size)
                if wanted == UNSATISFIABLE:
                    return self._plain(416, b"range not satisfiable", body, {"Content-Range": f"bytes */{size}"})
                if wanted is not None:
                    (start, end), status = wanted, 206
            self.send_response(status)
            self.send_header("Content-Type", _type(file))
            self.send_header("Accept-Ranges", "bytes" if honour_range else "none")
            self.send_header("Content-Length", str(end - start + 1))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if not body:
                return
            chunk = data[start : end + 1]
            try:
                if fault is not None and fault.kind == "cut":
                    self.wfile.write(chunk[: max(1, len(chunk) // 3)])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)  # mid-body: the client sees a short read
                    return
                if fault is not None and fault.kind == "stall":
                    self.wfile.write(chunk[: min(len(chunk), 4096)])
                    self.wfile.flush()
                    host.closing.wait(fault.stall_s)
                    self.close_connection = True
                    return
                self._write(chunk, fault.rate_bps if fault is not None and fault.kind == "slow" else 0)
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True

    return Handler


def _bad_moov(data: bytes) -> bytes:
    """``data`` with the first 392 bytes of its ``moov`` box zeroed: the file opens, its tracks are gone."""
    at = data.find(b"moov")
    if at == -1:
        return data
    return data[: at + 8] + bytes(392) + data[at + 400 :]


if __name__ == "__main__":  # serve a folder by hand: python tests/remote_host.py FOLDER
    import sys
    import time

    with VideoHost(sys.argv[1] if len(sys.argv) > 1 else os.getcwd()) as served:
        print(served.url("/"), flush=True)
        while True:
            time.sleep(3600)
