"""An MP4's duration and track kinds, read from its ``moov`` box in process.

Why: every downloaded section is checked before it is cut (readable, a video track, long enough;
TRAPS.md: never trust a download). ffprobe takes ~65 ms for that, nearly all of it loading its
libraries; the ``moov`` of the MP4 that ffmpeg has just written says the same in well under a
millisecond. Anything this reader does not fully understand (another container, a fragmented
MP4, a box that overruns the file, a zero duration) gives None, and the caller asks ffprobe.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

#: A ``moov`` larger than this is left to ffprobe (a 10 s section's is a few KiB).
MAX_MOOV_BYTES = 16 << 20


@dataclass(frozen=True)
class Mp4Header:
    """What the ``moov`` box declares: the movie's duration and each track's handler (``vide``, ``soun``, ...)."""

    duration_s: float
    handlers: tuple[str, ...]

    @property
    def has_video(self) -> bool:
        """Whether the file has a video track."""
        return "vide" in self.handlers


def read_mp4_header(path: str | Path) -> Mp4Header | None:
    """The header of the MP4 at ``path``, or None when it is not a whole, plain MP4 this reader understands."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            found = _top_level_box(handle, size, b"moov")
            if found is None or found[1] - found[0] > MAX_MOOV_BYTES:
                return None
            handle.seek(found[0])
            moov = handle.read(found[1] - found[0])
        return _parse_moov(moov)
    except (OSError, ValueError, struct.error):
        return None


def _top_level_box(handle, size: int, wanted: bytes) -> tuple[int, int] | None:
    """(payload start, end) of the first top-level box ``wanted``; None if absent or the boxes do not tile the file."""
    pos = 0
    while pos + 8 <= size:
        handle.seek(pos)
        head = handle.read(16)
        length, kind, header = _box_size(head, 0, size - pos)
        if kind == wanted:
            return pos + header, pos + length
        pos += length
    return None


def _box_size(data: bytes, pos: int, room: int) -> tuple[int, bytes, int]:
    """(box length, type, header length) of the box at ``pos``; ValueError when it does not fit in ``room`` bytes."""
    length, kind = struct.unpack_from(">I4s", data, pos)
    header = 8
    if length == 1:
        (length,) = struct.unpack_from(">Q", data, pos + 8)
        header = 16
    elif length == 0:  # "to the end of the file"
        length = room
    if length < header or length > room:
        raise ValueError(f"box {kind!r} of {length} bytes does not fit")
    return length, kind, header


def _children(data: bytes, start: int, end: int):
    """(type, payload start, payload end) of each box in ``data[start:end]``."""
    pos = start
    while pos < end:
        length, kind, header = _box_size(data, pos, end - pos)
        yield kind, pos + header, pos + length
        pos += length


def _parse_moov(moov: bytes) -> Mp4Header | None:
    duration_s, handlers = None, []
    for kind, start, _ in _children(moov, 0, len(moov)):
        if kind == b"mvhd":
            version = moov[start]
            if version == 1:
                timescale, duration = struct.unpack_from(">IQ", moov, start + 20)
            else:
                timescale, duration = struct.unpack_from(">II", moov, start + 12)
            if timescale and duration:
                duration_s = duration / timescale
        elif kind == b"trak":
            handlers.append(_handler(moov, start, _))
    kinds = [h for h in handlers if h is not None]
    if duration_s is None or not kinds or len(kinds) != len(handlers):
        return None
    return Mp4Header(duration_s, tuple(kinds))


def _handler(moov: bytes, start: int, end: int) -> str | None:
    """The handler type in a ``trak``'s ``mdia/hdlr`` (after version, flags and pre_defined)."""
    for kind, mdia_start, mdia_end in _children(moov, start, end):
        if kind == b"mdia":
            for inner, hdlr_start, hdlr_end in _children(moov, mdia_start, mdia_end):
                if inner == b"hdlr" and hdlr_end - hdlr_start >= 12:
                    return moov[hdlr_start + 8:hdlr_start + 12].decode("latin-1")
    return None
