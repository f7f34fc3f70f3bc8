"""A local video host: a threaded HTTP server on 127.0.0.1 that honours Range requests.

The demo serves AVG-Synth's source videos with it, so the dataset is built through the same remote
path as AVG (yt-dlp, ledger, section downloads) without any network; the tests extend it with
injected faults (``tests/remote_host.py``). Python's ``http.server`` ignores ``Range``, and yt-dlp
then writes an empty file that reports success (TRAPS.md): this host answers ``Range: bytes=a-b``
with ``206 Partial Content`` and a correct ``Content-Range``.
"""

from __future__ import annotations

import mimetypes
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
UNSATISFIABLE = "unsatisfiable"


def byte_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """The inclusive ``(start, end)`` a ``Range`` header asks of ``size`` bytes; None for the whole file.

    >>> byte_range("bytes=10-19", 100), byte_range("bytes=90-", 100), byte_range("bytes=-5", 100)
    ((10, 19), (90, 99), (95, 99))
    >>> byte_range("bytes=100-", 100), byte_range(None, 100)
    ('unsatisfiable', None)
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return UNSATISFIABLE
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    else:  # a suffix range: the last N bytes
        start, end = max(0, size - int(last)), size - 1
    if start >= size or start > end:
        return UNSATISFIABLE
    return start, end


def content_type(file: Path) -> str:
    """The Content-Type the host serves a file with (by its extension; unknown: octet-stream)."""
    return mimetypes.guess_type(file.name)[0] or "application/octet-stream"


class QuietServer(ThreadingHTTPServer):
    """Clients that hang up (a killed build, a watchdog) are expected: no traceback."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """Ignore clients that hang up; report anything else as usual."""
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class LocalHost:
    """Serve the files under ``root`` at ``http://127.0.0.1:PORT/<relative path>`` (``with`` starts and stops it)."""

    def __init__(self, root: str | Path, *, port: int = 0) -> None:
        """``port`` 0 picks a free one; a taken ``port`` falls back to a free one too."""
        self.root = Path(root).resolve()
        try:
            self._server = QuietServer(("127.0.0.1", port), _handler(self))
        except OSError:
            self._server = QuietServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-host", daemon=True)

    def __enter__(self) -> LocalHost:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        """Start serving in a background thread."""
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        """The port the host listens on (127.0.0.1)."""
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        """The URL of ``path`` on this host."""
        return f"http://127.0.0.1:{self.port}/{quote(path.lstrip('/'))}"

    def file(self, url_path: str) -> Path | None:
        """The served file for a request path, or None (outside ``root`` or absent)."""
        file = (self.root / unquote(urlsplit(url_path).path).lstrip("/")).resolve()
        return file if self.root in file.parents and file.is_file() else None


def _handler(host: LocalHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # a host for local builds: no access log on the terminal
            pass

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, *, body: bool) -> None:
            file = host.file(self.path)
            if file is None:
                return self._status(404, body)
            size = file.stat().st_size
            wanted = byte_range(self.headers.get("Range"), size)
            if wanted == UNSATISFIABLE:
                return self._status(416, body, {"Content-Range": f"bytes */{size}"})
            start, end = wanted if isinstance(wanted, tuple) else (0, size - 1)
            self.send_response(206 if wanted else 200)
            self.send_header("Content-Type", content_type(file))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(end - start + 1))
            if wanted:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if not body:
                return
            try:
                with file.open("rb") as handle:
                    handle.seek(start)
                    left = end - start + 1
                    while left > 0 and (chunk := handle.read(min(left, 1 << 20))):
                        self.wfile.write(chunk)
                        left -= len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _status(self, status: int, body: bool, headers: dict | None = None) -> None:
            data = f"HTTP {status}".encode()
            self.send_response(status)
            for key, value in {"Content-Type": "text/plain", **(headers or {})}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

    return Handler
