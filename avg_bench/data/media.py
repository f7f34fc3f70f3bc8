"""Probing media files, and cutting one source into a canonical AVG clip.

:func:`probe` reads a file's streams with ffprobe and never lets an empty or unreadable file look
fine. :func:`process_clip` turns ``[start_s, end_s]`` of a local source into the canonical clip
folder (numbers from :data:`~avg_bench.data.canonical.CANONICAL`)::

    clip.mp4                     H.264 yuv420p at fmt.fps, long side <= fmt.long_side, mono AAC;
                                 no container metadata
    audio.flac                   the mono soundtrack at fmt.sample_rate (absent: source has no audio)
    keyframe_0.jpg .. _{K-1}.jpg the frames on screen at the centres of K equal segments

One ffmpeg run decodes the source once and writes all of it (plus raw PCM on stdout for the
fingerprint and the silence check). The cut is exact: input seeking (``-ss`` before ``-i``) lands
on the preceding keyframe and ffmpeg decodes and discards up to the requested time, so the first
frame and the first audio sample are those at ``start_s``, to the frame and to the sample.

The outputs are byte-identical across runs on the same software stack (ffmpeg and x264 builds):
one thread everywhere, ``bitexact`` flags on the muxers, the encoders and the scaler, no metadata,
and x264's version banner (an SEI NAL unit) removed, so a remote build with the same stack
reproduces local checksums. (H.264 decoding and x264 are bit-exact on any CPU; float audio
decoders such as AAC and Opus may round differently on another CPU family, so compare audio across
machines by fingerprint.) The only name left in the MP4 is the track's fixed compressor name
``Lavc libx264``, without a version.

Everything is written in a hidden ``.<name>.*.partial`` folder beside ``out_dir`` and renamed into
place when complete: an interrupt never leaves a partial ``out_dir`` (a killed process may leave a
``.partial`` folder, which is safe to delete).

Without audio in the source, the clip is still made (video-only MP4, no FLAC,
``audio_sha256 == ""``, ``audio_fingerprint == ""``) and fails the ``no_audio`` check, so the build
can record why it is rejected.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import secrets
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from avg_bench.data.canonical import CANONICAL, CanonicalFormat
from avg_bench.data.checks import content_checks
from avg_bench.data.fingerprints import audio_fingerprint, image_phash
from avg_bench.data.media_info import MediaInfo
from avg_bench.errors import AvgBenchError
from avg_bench.tools import ToolError, run_tool

VIDEO_NAME, AUDIO_NAME = "clip.mp4", "audio.flac"
PARTIAL_SUFFIX = ".partial"
#: Flags that keep encoder and library versions out of the bytes.
_BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
_NO_METADATA = ["-map_metadata", "-1", "-map_chapters", "-1"]


class MediaError(AvgBenchError):
    """A media file is missing, empty, unreadable, or unusable for what was asked."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def keyframe_name(k: int) -> str:
    """The file name of keyframe ``k`` in a clip folder (ffmpeg's image2 pattern ``keyframe_%d.jpg``)."""
    return f"keyframe_{k}.jpg"


@dataclass(frozen=True)
class ProcessedClip:
    """A finished canonical clip folder, with the checksums, fingerprints and checks the dataset records."""

    out_dir: Path
    video_path: Path
    #: None when the source had no audio (see the module docstring).
    audio_path: Path | None
    keyframe_paths: tuple[Path, ...]
    video_sha256: str
    audio_sha256: str
    keyframe_sha256: tuple[str, ...]
    #: Probed duration of clip.mp4, seconds.
    duration_s: float
    info: MediaInfo
    keyframe_phash: tuple[str, ...]
    audio_fingerprint: str
    #: Names of the failed content checks (see :mod:`avg_bench.data.checks`); empty when clean.
    failed_checks: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when every content check passed."""
        return not self.failed_checks

    def meta(self) -> dict[str, Any]:
        """What the shards need from this clip (the body of ``clip.json``), paths relative to its folder.

        Relative paths let a ``--shard`` part's clip folders move when parts merge.
        """
        relative = lambda p: None if p is None else os.path.relpath(p, self.out_dir)  # noqa: E731
        return {
            "video": relative(self.video_path),
            "audio": relative(self.audio_path),
            "keyframes": [relative(p) for p in self.keyframe_paths],
            "video_sha256": self.video_sha256,
            "audio_sha256": self.audio_sha256 or "",
            "keyframe_sha256": list(self.keyframe_sha256),
            "keyframe_phash": list(self.keyframe_phash),
            "audio_fingerprint": self.audio_fingerprint or "",
            "duration_s": float(self.duration_s),
            "checks_failed": list(self.failed_checks),
            "folder": str(self.out_dir),
        }


def probe(path: str | Path, *, timeout_s: float = 60.0) -> MediaInfo:
    """Probe a media file with ffprobe.

    Raises:
        MediaError: the file is missing, empty (0 bytes), unreadable, or has no audio or video.
        ToolNotFoundError: ffprobe is not installed.
    """
    path = Path(path)
    if not path.is_file():
        raise MediaError(path, "no such file" if not path.exists() else "not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise MediaError(path, "the file is empty (0 bytes): a download that reported success without "
                               "data (does the host honour HTTP Range requests?)")
    try:
        result = run_tool(
            ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", _file_url(path)],
            timeout_s=timeout_s,
            what=f"probing {path}",
        )
    except ToolError as exc:
        if exc.timed_out:
            raise
        detail = exc.stderr_tail.replace(_file_url(path), "<file>") or f"exit code {exc.returncode}"
        raise MediaError(path, f"not a readable media file ({size} bytes); ffprobe says: {detail}") from None
    try:
        report = json.loads(result.stdout or b"{}")
    except json.JSONDecodeError as exc:
        raise MediaError(path, f"ffprobe printed unreadable JSON ({exc})") from None
    return _media_info(path, report)


#: A section is described from its ``moov`` only when the cut ends at least this long before its
#: video does: the exact end, which ffprobe may read a millisecond apart, then changes nothing.
SOURCE_END_MARGIN_S = 0.5


def describe_written(path: Path) -> MediaInfo:
    """What ffprobe would say about the ``clip.mp4`` that :func:`process_clip` has just written, read from its ``moov`` box.

    Why: this runs on every canonical clip, and an ffprobe start-up (~60 ms) was an eighth of a
    clip's CPU time. For the MP4 our one ffmpeg command writes, the ``moov`` reader
    (:func:`avg_bench.data.mp4_header.read_mp4_movie`) gives ffprobe's durations, sizes, rates,
    codecs and stream indices (``tests/data_tests/test_mp4_header.py`` compares the two over many
    cuts); the pixel format, which only the bitstream says, is left None. A file beyond that reader
    is probed by ffprobe as before.
    """
    return _describe_moov(path) or probe(path)


def describe_section(path: Path, *, cut_end_s: float) -> MediaInfo | None:
    """What ffprobe would say about a downloaded section (an MP4 that ffmpeg stream-copied), from its ``moov``; None to probe.

    Only the facts :func:`process_clip` uses must match ffprobe's: the size, pixel aspect, rotation
    and stream indices do (the reader declines rotated, anamorphic or unknown tracks). The lengths
    may not: where an edit list runs past a video track's last frame, ffprobe clips the length to
    the frames (2 of 30 x264 sources came out up to 1 ms apart). So a cut that ends within
    :data:`SOURCE_END_MARGIN_S` of the video's end gets None, and ffprobe decides there. Local
    sources, from any writer, are always probed by ffprobe.
    """
    info = _describe_moov(path)
    if info is None or info.video_duration_s is None:
        return None
    return info if cut_end_s <= min(info.duration_s, info.video_duration_s) - SOURCE_END_MARGIN_S else None


def _describe_moov(path: Path) -> MediaInfo | None:
    """A :class:`MediaInfo` from a plain MP4's ``moov`` (one video and at most one audio track), or None."""
    from avg_bench.data.mp4_header import MOV_FORMAT_NAME, read_mp4_movie

    path = Path(path)
    movie = read_mp4_movie(path)
    kinds = [track.handler for track in movie.tracks] if movie is not None else []
    if movie is None or kinds.count("vide") != 1 or kinds.count("soun") > 1 or not set(kinds) <= {"vide", "soun"}:
        return None
    info: dict[str, Any] = {"path": path, "format_name": MOV_FORMAT_NAME, "duration_s": movie.duration_s,
                            "has_video": True, "has_audio": "soun" in kinds, "tags": movie.brands}
    for index, track in enumerate(movie.tracks):
        if track.handler == "vide":
            info.update(width=track.width, height=track.height, fps=float(track.average_rate) if track.average_rate else None,
                        video_codec=track.codec, video_duration_s=track.duration_s, video_stream=index)
        else:
            info.update(audio_codec=track.codec, sample_rate=track.sample_rate, channels=track.channels,
                        audio_duration_s=track.duration_s, audio_stream=index)
    return MediaInfo(**info)


def _media_info(path: Path, report: dict[str, Any]) -> MediaInfo:
    streams = report.get("streams") or []
    container = report.get("format") or {}
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not (s.get("disposition") or {}).get("attached_pic")), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None and audio is None:
        raise MediaError(path, f"no audio or video stream (ffprobe found {len(streams)} stream(s))")
    stream_durations = [d for d in (_float(video, "duration"), _float(audio, "duration")) if d is not None]
    duration = _float(container, "duration")
    if duration is None and stream_durations:
        duration = max(stream_durations)
    if duration is None or not math.isfinite(duration) or duration <= 0:
        raise MediaError(path, f"its duration is unknown or zero (ffprobe: {container.get('duration')!r})")
    info: dict[str, Any] = {
        "path": path,
        "format_name": str(container.get("format_name", "")),
        "duration_s": duration,
        "has_video": video is not None,
        "has_audio": audio is not None,
        "tags": {str(k): str(v) for k, v in (container.get("tags") or {}).items()},
    }
    if video is not None:
        info.update(
            width=_int(video, "width"),
            height=_int(video, "height"),
            fps=_rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")),
            video_codec=video.get("codec_name"),
            pixel_format=video.get("pix_fmt"),
            video_duration_s=_float(video, "duration"),
            rotation=_rotation(video),
            sample_aspect_ratio=_rate(video.get("sample_aspect_ratio"), fraction=True) or Fraction(1),
            video_stream=_int(video, "index"),
        )
    if audio is not None:
        info.update(
            audio_codec=audio.get("codec_name"),
            sample_rate=_int(audio, "sample_rate"),
            channels=_int(audio, "channels"),
            audio_duration_s=_float(audio, "duration"),
            audio_stream=_int(audio, "index"),
        )
    return MediaInfo(**info)


def canonical_size(width: int, height: int, *, long_side: int, sample_aspect_ratio: Fraction = Fraction(1), rotation: int = 0) -> tuple[int, int]:
    """Output (width, height): display aspect kept, long side <= ``long_side``, both even, never upscaled.

    >>> canonical_size(1280, 720, long_side=384)
    (384, 216)
    >>> canonical_size(1080, 1920, long_side=384)
    (216, 384)
    >>> canonical_size(1920, 1080, long_side=384, rotation=90)
    (216, 384)
    >>> canonical_size(201, 151, long_side=384)
    (200, 150)
    """
    display_w, display_h = Fraction(width) * sample_aspect_ratio, Fraction(height)
    if rotation % 180 == 90:
        display_w, display_h = display_h, display_w
    scale = min(Fraction(1), Fraction(long_side) / max(display_w, display_h))

    def even(value: Fraction, unscaled: Fraction) -> int:
        nearest = 2 * math.floor(value / 2 + Fraction(1, 2))
        return max(2, min(nearest, 2 * math.floor(unscaled / 2)))  # rounding never exceeds the source

    return even(display_w * scale, display_w), even(display_h * scale, display_h)


def keyframe_indices(n_frames: int, keyframes: int) -> list[int]:
    """Frame numbers on screen at the centres of ``keyframes`` equal segments of ``n_frames`` frames.

    >>> keyframe_indices(100, 4)
    [12, 37, 62, 87]
    """
    return [min(n_frames - 1, ((2 * k + 1) * n_frames) // (2 * keyframes)) for k in range(keyframes)]


def canonical_command(
    source: Path,
    start_s: float,
    duration_s: float,
    work: Path,
    *,
    size: tuple[int, int],
    video_stream: int,
    audio_stream: int | None,
    keyframes: list[int],
    fmt: CanonicalFormat = CANONICAL,
) -> list[str]:
    """The one ffmpeg command that writes clip.mp4, audio.flac, the keyframes, and PCM on stdout.

    Why each choice:
      * ``-ss``/``-t`` before ``-i``: input seeking, exact to the frame and sample (ffmpeg
        decodes from the previous keyframe and trims), and nothing past the cut is decoded.
      * seeking ``fmt.decode_preroll_s`` early, then ``trim``/``atrim`` to the cut: the audio
        decoder is primed before ``start_s`` whatever the keyframes (a seek that lands on the frame
        holding ``start_s`` decodes its first AAC frame without pre-roll), so the same cut of the
        same packets gives the same samples from a whole file and from a fetched section.
      * ``fps=...:round=up``: output frame k is the source frame on screen at k/fps (the default
        rounding picks the frame a third of a period later); ``fps`` before ``scale`` drops
        frames before they are scaled.
      * ``sws_flags=area+accurate_rnd+bitexact``: area averaging is the right filter for
        downscaling; bitexact keeps swscale off CPU-specific rounding.
      * ``aformat=s16 mono`` before ``asplit``: the FLAC and the PCM are the same samples.
      * ``-aac_coder fast``: half the AAC encoding time of the default two-loop search, which
        at 64 kb/s mono is inaudible.
      * ``filter_units=remove_types=6``: drops x264's SEI banner (version and options).
      * ``-threads 1`` everywhere: reproducible bytes, and a build parallelises across clips.
    """
    width, height = size
    preroll = min(fmt.decode_preroll_s, start_s)
    seconds = lambda value: f"{value:.6f}"  # noqa: E731 - ffmpeg's own precision (microseconds)
    # Input timestamps start at 0 = start_s - preroll; trim keeps t >= preroll and shifts it back to 0.
    video_trim = f"trim=start={seconds(preroll)},setpts=PTS-{seconds(preroll)}/TB," if preroll else ""
    audio_trim = f"atrim=start={seconds(preroll)},asetpts=PTS-{seconds(preroll)}/TB," if preroll else ""
    select = "+".join(f"eq(n\\,{n})" for n in keyframes)
    graph = [
        "sws_flags=area+accurate_rnd+bitexact",
        f"[0:{video_stream}]{video_trim}fps={fmt.fps}:round=up,scale={width}:{height},setsar=1,format={fmt.pixel_format},"
        f"split=2[v][k]",
        f"[k]select={select}[kf]",
    ]
    if audio_stream is not None:
        graph.append(
            f"[0:{audio_stream}]{audio_trim}aresample={fmt.sample_rate},"
            "aformat=sample_fmts=s16:channel_layouts=mono,asplit=3[a_mp4][a_flac][a_pcm]"
        )
    aac_options = ["-aac_coder", "fast"] if fmt.audio_codec == "aac" else []
    command = [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-threads", "1", "-ss", seconds(start_s - preroll), "-t", seconds(duration_s + preroll), "-i", _file_url(source),
        "-filter_complex_threads", "1", "-filter_complex", ";".join(graph),
        # clip.mp4
        "-map", "[v]",
        *(["-map", "[a_mp4]"] if audio_stream is not None else []),
        "-c:v", fmt.video_codec, "-preset", fmt.preset, "-crf", str(fmt.crf), "-pix_fmt", fmt.pixel_format,
        "-g", str(max(1, round(fmt.keyframe_interval_s * fmt.fps))),
        "-bsf:v", "filter_units=remove_types=6",
        *(["-c:a", fmt.audio_codec, *aac_options, "-b:a", fmt.audio_bitrate] if audio_stream is not None else []),
        "-threads", "1", "-t", seconds(duration_s), *_NO_METADATA, *_BITEXACT, "-movflags", "+faststart",
        _file_url(work / VIDEO_NAME),
        # keyframe_K.jpg
        "-map", "[kf]", "-fps_mode", "passthrough", "-c:v", "mjpeg", "-q:v", str(fmt.jpeg_quality),
        "-threads", "1", *_NO_METADATA, *_BITEXACT, "-start_number", "0", "-f", "image2",
        _file_url(work / "keyframe_%d.jpg"),
    ]
    if audio_stream is not None:
        command += [
            "-map", "[a_flac]", "-c:a", "flac", "-threads", "1", *_NO_METADATA, *_BITEXACT, _file_url(work / AUDIO_NAME),
            "-map", "[a_pcm]", "-c:a", "pcm_s16le", "-f", "s16le", "pipe:1",
        ]
    return command


def process_clip(
    source: str | Path,
    start_s: float,
    end_s: float,
    out_dir: str | Path,
    *,
    fmt: CanonicalFormat = CANONICAL,
    expected_duration_s: float | None = None,
    timeout_s: float = 300.0,
    source_info: MediaInfo | None = None,
) -> ProcessedClip:
    """Cut ``[start_s, end_s]`` (seconds from the start of ``source``) into the canonical clip folder ``out_dir``.

    An existing ``out_dir`` is replaced as a whole, only once the new one is complete.

    Args:
        source: a local media file with a video stream.
        start_s: the cut's start, seconds from the start of ``source``.
        end_s: the cut's end.
        out_dir: the folder to create (its parent is created if needed).
        fmt: the canonical format.
        expected_duration_s: the length the duration check expects; ``fmt.duration_s`` when None
            (pass ``end_s - start_s`` for clips that are meant to be shorter, as tests do).
        timeout_s: limit for the ffmpeg run.
        source_info: what is already known about ``source`` (:func:`describe_section`); ffprobe is
            asked when None.

    Raises:
        MediaError: the source is missing, empty, unreadable, has no video, or the cut misses it.
        ToolError: ffmpeg failed or timed out.
    """
    source, out_dir = Path(source), Path(out_dir)
    if not (math.isfinite(start_s) and math.isfinite(end_s) and 0 <= start_s < end_s):
        raise AvgBenchError(f"invalid cut [{start_s}, {end_s}] of {source}: need 0 <= start_s < end_s")
    src = source_info if source_info is not None else probe(source)
    if not src.has_video or src.video_stream is None or src.width is None or src.height is None:
        raise MediaError(source, "has no video stream: an AVG clip needs pictures")
    if start_s >= src.duration_s:
        raise MediaError(source, f"the cut [{start_s:g}, {end_s:g}] s starts after the source ends ({src.duration_s:.3f} s)")
    duration = end_s - start_s
    size = canonical_size(src.width, src.height, long_side=fmt.long_side,
                          sample_aspect_ratio=src.sample_aspect_ratio, rotation=src.rotation)
    video_end = src.video_duration_s if src.video_duration_s is not None else src.duration_s
    available = max(0.0, min(duration, video_end - start_s))
    n_frames = max(1, math.floor(available * fmt.fps + 1e-6))
    picks = keyframe_indices(n_frames, fmt.keyframes)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = _fresh_dir(out_dir, PARTIAL_SUFFIX)
    try:
        command = canonical_command(source, start_s, duration, work, size=size, video_stream=src.video_stream,
                                    audio_stream=src.audio_stream, keyframes=picks, fmt=fmt)
        result = run_tool(command, timeout_s=timeout_s,
                          what=f"cutting [{start_s:g}, {end_s:g}] s of {source} into a canonical clip")
        clip = _finish(work, out_dir, result.stdout if src.has_audio else None, fmt, expected_duration_s)
        _publish(work, out_dir)
        return clip
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _finish(work: Path, out_dir: Path, pcm_bytes: bytes | None, fmt: CanonicalFormat, expected_duration_s: float | None) -> ProcessedClip:
    """Probe, fingerprint, check and checksum the files in ``work``; paths point at their final place."""
    from PIL import Image

    keyframe_files = [work / keyframe_name(k) for k in range(fmt.keyframes)]
    missing = [p.name for p in keyframe_files if not p.is_file()]
    if missing:
        raise MediaError(out_dir, f"ffmpeg wrote no {', '.join(missing)}: the source's video ends too early")
    info = describe_written(work / VIDEO_NAME)
    pcm = np.frombuffer(pcm_bytes, dtype="<i2").astype(np.int16) if pcm_bytes is not None else None
    lumas, phashes = [], []
    for path in keyframe_files:
        with Image.open(path) as image:
            grey = image.convert("L")
        lumas.append(np.asarray(grey))
        phashes.append(image_phash(grey))
    failed = content_checks(info, lumas, pcm, fmt, expected_duration_s=expected_duration_s)
    audio = work / AUDIO_NAME if pcm is not None else None
    return ProcessedClip(
        out_dir=out_dir,
        video_path=out_dir / VIDEO_NAME,
        audio_path=out_dir / AUDIO_NAME if audio is not None else None,
        keyframe_paths=tuple(out_dir / p.name for p in keyframe_files),
        video_sha256=_sha256_synced(work / VIDEO_NAME),
        audio_sha256=_sha256_synced(audio) if audio is not None else "",
        keyframe_sha256=tuple(_sha256_synced(p) for p in keyframe_files),
        duration_s=info.duration_s,
        info=dataclasses.replace(info, path=out_dir / VIDEO_NAME),
        keyframe_phash=tuple(phashes),
        audio_fingerprint=audio_fingerprint(pcm, fmt.sample_rate) if pcm is not None else "",
        failed_checks=tuple(failed),
    )


def _sha256_synced(path: Path) -> str:
    """sha256 of a finished file, flushed to disk first so the renamed folder is complete after a crash."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
        return hashlib.sha256(handle.read()).hexdigest()


def _publish(work: Path, out_dir: Path) -> None:
    """Rename the finished ``work`` folder to ``out_dir``, replacing an existing one whole."""
    old = None
    if out_dir.exists() or out_dir.is_symlink():
        # rename(2) may replace an empty folder: park the old out_dir on a fresh empty name first.
        old = _fresh_dir(out_dir, ".old")
        os.replace(out_dir, old)
    os.replace(work, out_dir)
    _fsync_dir(out_dir.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_leftovers(folder: Path) -> int:
    """Delete the hidden ``.<clip>.*.partial`` / ``.old`` folders a killed run left in ``folder``; returns how many.

    Call it only when no other process builds into ``folder`` (a build's start, before its workers).
    """
    removed = 0
    if folder.is_dir():
        for leftover in folder.glob(".*"):
            if leftover.is_dir() and leftover.name.endswith((PARTIAL_SUFFIX, ".old")):
                shutil.rmtree(leftover, ignore_errors=True)
                removed += 1
    return removed


def _fresh_dir(out_dir: Path, suffix: str) -> Path:
    """A new empty hidden folder beside ``out_dir`` (mode from the umask, unlike mkdtemp's 0700)."""
    for _ in range(100):
        candidate = out_dir.parent / f".{out_dir.name}.{secrets.token_hex(4)}{suffix}"
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free temporary name beside {out_dir}")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _file_url(path: Path) -> str:
    """``file:`` + absolute path: a local name with a colon is never taken for a protocol (``http:``)."""
    return f"file:{Path(path).absolute()}"


def _float(record: dict | None, key: str) -> float | None:
    if record is None:
        return None
    try:
        value = float(record[key])
    except (KeyError, TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _int(record: dict, key: str) -> int | None:
    try:
        return int(record[key])
    except (KeyError, TypeError, ValueError):
        return None


def _rate(text: str | None, *, fraction: bool = False):
    """'30000/1001' -> 29.97 (or a Fraction); None for missing or zero rates ('0/0', '0:1')."""
    if not text:
        return None
    try:
        num, _, den = str(text).replace(":", "/").partition("/")
        value = Fraction(int(num), int(den or 1))
    except (ValueError, ZeroDivisionError):
        return None
    if value <= 0:
        return None
    return value if fraction else float(value)


def _rotation(video: dict) -> int:
    """Clockwise rotation in degrees from the display matrix (or the legacy ``rotate`` tag)."""
    degrees = None
    for side in video.get("side_data_list") or []:
        if "rotation" in side:
            degrees = -float(side["rotation"])  # ffprobe reports the matrix's counter-clockwise angle
            break
    if degrees is None and "rotate" in (video.get("tags") or {}):
        degrees = float(video["tags"]["rotate"])
    return int(round(degrees or 0.0)) % 360 // 90 * 90
