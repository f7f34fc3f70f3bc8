"""What an MP4's ``moov`` box declares, read in process: durations, tracks, sizes, codecs.

Why: ffprobe takes ~65 ms per file, nearly all of it loading its libraries, and the build asks
twice per clip. The ``moov`` of an MP4 that ffmpeg has just written says the same in well under a
millisecond:

* :func:`read_mp4_header` (duration and track kinds) checks every downloaded section before it is
  cut (readable, a video track, long enough; TRAPS.md: never trust a download);
* :func:`read_mp4_movie` (each track's timing, size and codec) describes the canonical
  ``clip.mp4`` that :func:`avg_bench.data.media.process_clip` has just written, with the numbers
  ffprobe would print (``tests/data_tests/test_mp4_header.py`` compares the two over many cuts).

Anything these readers do not fully understand (another container, a fragmented MP4, a box that
overruns the file, a zero duration, an edit list with gaps, a rotated track, an unknown codec)
gives None, and the caller asks ffprobe.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from fractions import Fraction
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


#: ffprobe's ``codec_name`` for the sample entries the canonical clip uses (anything else: ask ffprobe).
CODEC_NAMES = {b"avc1": "h264", b"mp4a": "aac"}
#: ffprobe's ``format_name`` for every file its mov/mp4 demuxer reads.
MOV_FORMAT_NAME = "mov,mp4,m4a,3gp,3g2,mj2"
#: The identity transformation matrix of ``tkhd`` (an unrotated, unscaled track).
_IDENTITY = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


@dataclass(frozen=True)
class Mp4Track:
    """One track as a demuxer presents it: its presented length, and the facts of its first sample entry."""

    handler: str
    timescale: int
    #: Presented length in ``timescale`` units: the edit's length when an edit list trims the media.
    duration_ts: int
    codec: str
    #: Frames per second as ffmpeg averages it (samples x timescale / summed sample durations).
    average_rate: Fraction | None
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    channels: int | None = None

    @property
    def duration_s(self) -> float:
        """The length as ffprobe prints it (``duration_ts x time_base`` to the microsecond)."""
        return float(f"{self.duration_ts / self.timescale:.6f}")


@dataclass(frozen=True)
class Mp4Movie:
    """The tracks of an MP4 in file order (a track's position is ffprobe's stream index), and its ``ftyp`` brands."""

    tracks: tuple[Mp4Track, ...]
    brands: dict[str, str]

    @property
    def duration_s(self) -> float:
        """The container's length as ffprobe prints it: the longest track, rounded to the microsecond first."""
        return max(_rescale(t.duration_ts, 1_000_000, t.timescale) for t in self.tracks) / 1e6


def read_mp4_movie(path: str | Path) -> Mp4Movie | None:
    """Every track of the plain MP4 at ``path``, or None when any part of it is beyond this reader."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            ftyp = _top_level_box(handle, size, b"ftyp")
            found = _top_level_box(handle, size, b"moov")
            if ftyp is None or found is None or found[1] - found[0] > MAX_MOOV_BYTES or ftyp[1] - ftyp[0] > 4096:
                return None
            handle.seek(ftyp[0])
            brands = _brands(handle.read(ftyp[1] - ftyp[0]))
            handle.seek(found[0])
            moov = handle.read(found[1] - found[0])
        movie_timescale, tracks = None, []
        for kind, start, end in _children(moov, 0, len(moov)):
            if kind == b"mvhd":
                movie_timescale = struct.unpack_from(">I", moov, start + (20 if moov[start] == 1 else 12))[0]
            elif kind == b"trak":
                tracks.append((start, end))
        if not movie_timescale or not tracks:
            return None
        parsed = [_track(moov, start, end, movie_timescale) for start, end in tracks]
        if any(track is None for track in parsed):
            return None
        return Mp4Movie(tuple(t for t in parsed if t is not None), brands)
    except (OSError, ValueError, struct.error, UnicodeDecodeError, ZeroDivisionError):
        return None


def _rescale(a: int, b: int, c: int) -> int:
    """``a * b / c`` rounded to the nearest integer, halves away from zero (ffmpeg's ``av_rescale``), for a, b, c >= 0."""
    return (a * b + c // 2) // c


def _brands(ftyp: bytes) -> dict[str, str]:
    """The container tags ffprobe derives from ``ftyp``: major brand, minor version, compatible brands."""
    major, minor = struct.unpack_from(">4sI", ftyp, 0)
    return {"major_brand": major.decode("latin-1"), "minor_version": str(minor),
            "compatible_brands": ftyp[8:].decode("latin-1")}


def _boxes(moov: bytes, start: int, end: int, path: tuple[bytes, ...]) -> dict[bytes, tuple[int, int]]:
    """The boxes inside ``moov[start:end]``, descending into ``path``'s containers: type -> (payload start, end)."""
    found: dict[bytes, tuple[int, int]] = {}
    for kind, begin, finish in _children(moov, start, end):
        if kind in found:  # two boxes of one type (two edit lists, two sample tables): not plain
            raise ValueError(f"two {kind!r} boxes")
        found[kind] = (begin, finish)
        if kind in path:
            found.update(_boxes(moov, begin, finish, path))
    return found


def _track(moov: bytes, start: int, end: int, movie_timescale: int) -> Mp4Track | None:
    """One ``trak``; None when it is rotated or scaled, edited other than by one plain trim, or of an unknown codec."""
    boxes = _boxes(moov, start, end, (b"edts", b"mdia", b"minf", b"stbl"))
    if not {b"tkhd", b"mdhd", b"hdlr", b"stsd", b"stts"} <= boxes.keys():
        return None
    tkhd = boxes[b"tkhd"][0]
    matrix_at = tkhd + (52 if moov[tkhd] == 1 else 40)
    if struct.unpack_from(">9i", moov, matrix_at) != _IDENTITY:
        return None
    mdhd = boxes[b"mdhd"][0]
    timescale, media_duration = struct.unpack_from(">IQ" if moov[mdhd] == 1 else ">II", moov, mdhd + (20 if moov[mdhd] == 1 else 12))
    duration_ts = media_duration
    if b"elst" in boxes:
        edits = _edits(moov, boxes[b"elst"][0])
        if edits is None:
            return None
        duration_ts = _rescale(edits, timescale, movie_timescale)
    stsd = boxes[b"stsd"][0]
    if struct.unpack_from(">I", moov, stsd + 4)[0] != 1:
        return None
    entry = stsd + 8
    codec = CODEC_NAMES.get(moov[entry + 4:entry + 8])
    handler = moov[boxes[b"hdlr"][0] + 8:boxes[b"hdlr"][0] + 12].decode("latin-1")
    if codec is None or not timescale or not duration_ts:
        return None
    stts = boxes[b"stts"][0]
    (count,) = struct.unpack_from(">I", moov, stts + 4)
    runs = [struct.unpack_from(">II", moov, stts + 8 + 8 * i) for i in range(count)]
    samples, ticks = sum(n for n, _ in runs), sum(n * delta for n, delta in runs)
    rate = Fraction(timescale * samples, ticks) if samples and ticks else None
    if handler == "vide" and codec == "h264":
        width, height = struct.unpack_from(">II", moov, matrix_at + 36)
        coded = struct.unpack_from(">HH", moov, entry + 32)
        if (width & 0xFFFF, height & 0xFFFF) != (0, 0) or coded != (width >> 16, height >> 16):
            return None  # shown at another size than coded: non-square pixels, which only ffprobe reads right
        entry_end = entry + struct.unpack_from(">I", moov, entry)[0]
        pasp = dict((kind, begin) for kind, begin, _ in _children(moov, entry + 86, entry_end)).get(b"pasp")
        if pasp is not None and moov[pasp:pasp + 4] != moov[pasp + 4:pasp + 8]:
            return None  # a declared pixel aspect other than 1:1
        return Mp4Track(handler, timescale, duration_ts, codec, rate, width=coded[0], height=coded[1])
    if handler == "soun" and codec == "aac":
        entry_end = entry + struct.unpack_from(">I", moov, entry)[0]
        esds = dict((kind, begin) for kind, begin, _ in _children(moov, entry + 36, entry_end)).get(b"esds")
        config = _aac_config(moov, esds) if esds is not None else None
        if config is None:
            return None
        return Mp4Track(handler, timescale, duration_ts, codec, rate, sample_rate=config[0], channels=config[1])
    return None


#: The sampling frequencies an AAC ``AudioSpecificConfig`` indexes (ISO 14496-3, 1.6.3.4).
_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)


def _aac_config(moov: bytes, esds: int) -> tuple[int, int] | None:
    """(sample rate, channels) of plain AAC (object type 1-4) from an ``esds`` box; the sample entry's own fields are placeholders.

    The descriptors nest ES (tag 3) > DecoderConfig (tag 4) > DecoderSpecificInfo (tag 5), whose
    body is the ``AudioSpecificConfig``: 5 bits object type, 4 bits rate index, 4 bits channels.
    """
    pos = esds + 4  # version and flags
    tag, pos = _descriptor(moov, pos)
    if tag != 3:
        return None
    flags = moov[pos + 2]
    pos += 3 + (2 if flags & 0x80 else 0) + (1 + moov[pos + 3] if flags & 0x40 else 0) + (2 if flags & 0x20 else 0)
    tag, pos = _descriptor(moov, pos)
    if tag != 4 or moov[pos] != 0x40:  # 0x40: MPEG-4 audio
        return None
    tag, pos = _descriptor(moov, pos + 13)
    if tag != 5:
        return None
    bits = int.from_bytes(moov[pos:pos + 2], "big")
    object_type, rate_index, channels = bits >> 11, (bits >> 7) & 0xF, (bits >> 3) & 0xF
    if not 1 <= object_type <= 4 or rate_index >= len(_AAC_RATES) or not 1 <= channels <= 6:
        return None
    return _AAC_RATES[rate_index], channels


def _descriptor(data: bytes, pos: int) -> tuple[int, int]:
    """(tag, body start) of the MPEG-4 descriptor at ``pos``: a tag byte, then a length in 1-4 bytes of 7 bits each."""
    tag = data[pos]
    pos += 1
    for _ in range(4):
        byte = data[pos]
        pos += 1
        if not byte & 0x80:
            break
    return tag, pos


def _edits(moov: bytes, elst: int) -> int | None:
    """The length (movie timescale) of an edit list that only trims: one entry, a media time >= 0, rate 1."""
    version, count = moov[elst], struct.unpack_from(">I", moov, elst + 4)[0]
    if count != 1:
        return None
    length, media_time, rate = struct.unpack_from(">Qqi" if version == 1 else ">Iii", moov, elst + 8)
    return length if media_time >= 0 and rate == 0x10000 else None
