"""Canonical clip processing: exact cuts, the canonical format, checksums, determinism, fingerprints,
content checks on planted faults, clear errors on bad files, and atomic output folders."""

from __future__ import annotations

import hashlib
import os
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from data_tests import media_fixtures as fx
from PIL import Image, ImageEnhance

from avg_bench import tools
from avg_bench.data import media
from avg_bench.data.canonical import CANONICAL
from avg_bench.data.checks import CHECKS, content_checks, rms_dbfs
from avg_bench.data.fingerprints import (
    AUDIO_FINGERPRINT_BITS,
    audio_fingerprint,
    audio_similarity,
    decode_pcm,
    hamming,
    image_phash,
)
from avg_bench.data.media import MediaError, MediaInfo, canonical_size, probe, process_clip
from avg_bench.errors import AvgBenchError
from avg_bench.tools import ToolError, ToolNotFoundError, require_tool, run_tool

CUT = (7.3, 17.3)


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sources")
    return {
        "timecoded": fx.make_timecoded_source(folder / "timecoded.mp4", tags=fx.PLANTED_TAGS),
        "clean": fx.make_av_source(folder / "clean.mp4", tags=fx.PLANTED_TAGS),
        "black": fx.make_black_source(folder / "black.mp4"),
        "still": fx.make_still_source(folder / "still.mp4"),
        "silent": fx.make_silent_source(folder / "silent.mp4"),
        "video_only": fx.make_video_only_source(folder / "video_only.mp4"),
    }


@pytest.fixture(scope="module")
def ten_second_clip(sources, tmp_path_factory) -> media.ProcessedClip:
    """[7.3, 17.3] s of the 30 s time-coded source: the real clip length."""
    return process_clip(sources["timecoded"], *CUT, tmp_path_factory.mktemp("clips") / "tc")


@pytest.fixture(scope="module")
def clean_clip(sources, tmp_path_factory) -> media.ProcessedClip:
    return process_clip(sources["clean"], 0.5, 2.5, tmp_path_factory.mktemp("clips") / "clean", expected_duration_s=2.0)


# ----------------------------------------------------------------------------------- probing


def test_probe_reports_the_source(sources):
    info = probe(sources["timecoded"])
    assert info.duration_s == pytest.approx(30.0, abs=0.05)
    assert (info.width, info.height, info.fps) == (480, 270, 30.0)
    assert (info.video_codec, info.pixel_format, info.audio_codec) == ("h264", "yuv420p", "aac")
    assert (info.has_video, info.has_audio, info.sample_rate, info.channels) == (True, True, 48_000, 2)
    assert info.tags["title"] == "SECRET-TITLE"
    only_video = probe(sources["video_only"])
    assert only_video.has_video and not only_video.has_audio and only_video.audio_duration_s is None


def test_empty_file_never_looks_fine(tmp_path):
    empty = tmp_path / "download.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match=r"download\.mp4: the file is empty \(0 bytes\)"):
        probe(empty)
    with pytest.raises(MediaError, match="empty"):
        process_clip(empty, 0, 1, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["random_bytes", "first_half", "missing"])
def test_corrupt_file_raises_a_clear_error_naming_it(sources, tmp_path, kind):
    path = tmp_path / f"{kind}.mp4"
    if kind == "random_bytes":
        fx.write_random_bytes(path)
    elif kind == "first_half":
        fx.write_first_half(sources["clean"], path)
    with pytest.raises(MediaError) as caught:
        process_clip(path, 0, 1, tmp_path / "out")
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and caught.value.path == str(path)
    expected = "no such file" if kind == "missing" else "not a readable media file"
    assert expected in message
    assert not (tmp_path / "out").exists() and list(tmp_path.glob(".out.*")) == []


def test_cut_outside_the_source_or_backwards_is_refused(sources, tmp_path):
    with pytest.raises(MediaError, match="starts after the source ends"):
        process_clip(sources["clean"], 5.0, 8.0, tmp_path / "out")
    with pytest.raises(AvgBenchError, match="invalid cut"):
        process_clip(sources["clean"], 2.0, 1.0, tmp_path / "out")


# --------------------------------------------------------------- the canonical 10 s clip


def test_cut_is_exact_to_the_frame(ten_second_clip):
    start = CUT[0]
    first = fx.decode_luma(ten_second_clip.video_path, frame=0)
    assert fx.read_timecode(first) == round(start * 30)  # source frame 219, 39 frames after a GOP start
    tenth = fx.decode_luma(ten_second_clip.video_path, frame=10)
    assert fx.read_timecode(tenth) == round((start + 1.0) * 30)
    picks = media.keyframe_indices(100, CANONICAL.keyframes)
    for index, path in zip(picks, ten_second_clip.keyframe_paths):
        luma = np.asarray(Image.open(path).convert("L"))
        assert fx.read_timecode(luma) == round((start + index / CANONICAL.fps) * 30)


def test_audio_is_cut_to_the_sample(ten_second_clip):
    rate = CANONICAL.sample_rate
    pcm = decode_pcm(ten_second_clip.audio_path, sample_rate=rate).astype(float)
    assert len(pcm) == pytest.approx(10.0 * rate, abs=2)
    # Cross-correlate against the chirp at source time start + t for lags of +-3 ms (more than one period).
    n = len(pcm) - 400
    lags = np.arange(-48, 49)
    expected = fx.chirp(CUT[0] + (np.arange(n) + 200) / rate)
    scores = [np.dot(pcm[200 + lag: 200 + lag + n], expected) for lag in lags]
    best = lags[int(np.argmax(scores))]
    assert abs(best) <= 1  # within 1/16 ms
    fit = np.dot(pcm[200:200 + n], expected) / (np.linalg.norm(pcm[200:200 + n]) * np.linalg.norm(expected))
    assert fit > 0.99


def test_canonical_format_values(ten_second_clip):
    report = fx.ffprobe_json(ten_second_clip.video_path)
    video = next(s for s in report["streams"] if s["codec_type"] == "video")
    audio = next(s for s in report["streams"] if s["codec_type"] == "audio")
    assert len(report["streams"]) == 2
    assert (video["codec_name"], video["pix_fmt"], video["r_frame_rate"]) == ("h264", "yuv420p", f"{CANONICAL.fps}/1")
    width, height = int(video["width"]), int(video["height"])
    assert (width, height) == (384, 216) and max(width, height) <= CANONICAL.long_side
    assert width % 2 == 0 and height % 2 == 0
    assert int(video["nb_frames"]) == round(10.0 * CANONICAL.fps)
    assert (audio["codec_name"], int(audio["channels"]), int(audio["sample_rate"])) == ("aac", 1, CANONICAL.sample_rate)
    for duration in (report["format"]["duration"], video["duration"], audio["duration"]):
        assert float(duration) == pytest.approx(CANONICAL.duration_s, abs=CANONICAL.duration_tolerance_s)
    assert ten_second_clip.duration_s == pytest.approx(float(report["format"]["duration"]))

    flac = fx.ffprobe_json(ten_second_clip.audio_path)
    (flac_stream,) = flac["streams"]
    assert (flac_stream["codec_name"], int(flac_stream["channels"]), int(flac_stream["sample_rate"])) == ("flac", 1, CANONICAL.sample_rate)
    assert float(flac["format"]["duration"]) == pytest.approx(10.0, abs=0.001)

    assert [p.name for p in ten_second_clip.keyframe_paths] == [f"keyframe_{k}.jpg" for k in range(CANONICAL.keyframes)]
    for path in ten_second_clip.keyframe_paths:
        with Image.open(path) as image:
            assert (image.format, image.size) == ("JPEG", (width, height))
    assert sorted(p.name for p in ten_second_clip.out_dir.iterdir()) == sorted(
        ["clip.mp4", "audio.flac", *(f"keyframe_{k}.jpg" for k in range(CANONICAL.keyframes))]
    )
    assert ten_second_clip.failed_checks == () and ten_second_clip.ok


def test_no_metadata_reaches_the_clip(ten_second_clip):
    report = fx.ffprobe_json(ten_second_clip.video_path)
    assert set(report["format"].get("tags", {})) <= {"major_brand", "minor_version", "compatible_brands"}
    for stream in report["streams"]:
        assert set(stream.get("tags", {})) <= {"language", "handler_name", "vendor_id", "encoder"}
        assert not re.search(r"\d\.\d", stream.get("tags", {}).get("encoder", ""))  # no library version
    for path in [ten_second_clip.video_path, ten_second_clip.audio_path, *ten_second_clip.keyframe_paths]:
        data = path.read_bytes()
        for planted in (b"SECRET", b"48.8584", b"2021-06-01", b"x264 - core", b"Lavf5", b"Lavc5"):
            assert planted not in data, (path.name, planted)


def test_sha256_of_every_file(ten_second_clip):
    clip = ten_second_clip
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert clip.video_sha256 == digest(clip.video_path)
    assert clip.audio_sha256 == digest(clip.audio_path)
    assert list(clip.keyframe_sha256) == [digest(p) for p in clip.keyframe_paths]
    assert len({clip.video_sha256, clip.audio_sha256, *clip.keyframe_sha256}) == 2 + CANONICAL.keyframes


def test_reprocessing_gives_byte_identical_files(sources, clean_clip, tmp_path):
    again = process_clip(sources["clean"], 0.5, 2.5, tmp_path / "again", expected_duration_s=2.0)
    assert again.video_sha256 == clean_clip.video_sha256
    assert again.audio_sha256 == clean_clip.audio_sha256
    assert again.keyframe_sha256 == clean_clip.keyframe_sha256
    assert (again.keyframe_phash, again.audio_fingerprint) == (clean_clip.keyframe_phash, clean_clip.audio_fingerprint)
    # Re-running into an existing folder replaces it whole.
    (tmp_path / "again" / "stale.txt").write_text("left over")
    replaced = process_clip(sources["clean"], 0.5, 2.5, tmp_path / "again", expected_duration_s=2.0)
    assert replaced.video_sha256 == clean_clip.video_sha256
    assert not (tmp_path / "again" / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["again"]


def test_scaling_keeps_aspect_even_and_never_upscales(clean_clip):
    assert (clean_clip.info.width, clean_clip.info.height) == (384, 288)  # from 480x360
    assert canonical_size(320, 240, long_side=384) == (320, 240)
    assert canonical_size(1920, 1080, long_side=384) == (384, 216)
    assert canonical_size(1366, 768, long_side=384) == (384, 216)
    assert canonical_size(720, 480, long_side=384, sample_aspect_ratio=Fraction(32, 27)) == (384, 216)
    assert canonical_size(1280, 720, long_side=384, rotation=270) == (216, 384)
    assert canonical_size(3, 3, long_side=384) == (2, 2)


# ------------------------------------------------------------------------ content checks


@pytest.mark.parametrize(
    ("name", "cut", "expected_duration", "failed"),
    [
        ("clean", (0.5, 2.5), 2.0, ()),
        ("black", (0.5, 2.5), 2.0, ("black_video",)),
        ("still", (0.5, 2.5), 2.0, ("frozen_video",)),
        ("silent", (0.5, 2.5), 2.0, ("silent_audio",)),
        ("video_only", (0.5, 2.5), 2.0, ("no_audio",)),
        ("clean", (1.0, 4.0), 3.0, ("wrong_duration",)),  # the source ends at 3 s
    ],
)
def test_each_check_fires_on_its_planted_fault_only(sources, tmp_path, name, cut, expected_duration, failed):
    clip = process_clip(sources[name], *cut, tmp_path / "clip", expected_duration_s=expected_duration)
    assert clip.failed_checks == failed
    assert len(clip.keyframe_paths) == CANONICAL.keyframes and all(p.is_file() for p in clip.keyframe_paths)
    if name == "video_only":
        assert clip.audio_path is None and clip.audio_sha256 == "" and clip.audio_fingerprint == ""
        assert not (tmp_path / "clip" / "audio.flac").exists()
        assert not clip.info.has_audio and clip.info.has_video
    if failed == ("wrong_duration",):
        assert clip.duration_s == pytest.approx(2.0, abs=0.1)


def _info(duration=10.0, has_audio=True) -> MediaInfo:
    return MediaInfo(path=Path("x.mp4"), format_name="mp4", duration_s=duration, has_video=True, has_audio=has_audio,
                     video_duration_s=duration, audio_duration_s=duration if has_audio else None)


def test_check_thresholds_come_from_canonical():
    rng = np.random.default_rng(0)
    moving = [rng.integers(0, 256, (27, 48), dtype=np.uint8) for _ in range(4)]
    tone = (0.5 * 32767 * np.sin(np.arange(16000) * 0.1)).astype(np.int16)
    assert content_checks(_info(), moving, tone) == []
    # Silence: just under and just over -60 dBFS.
    quiet = np.full(16000, 10 ** (CANONICAL.silence_dbfs / 20) * 32768 * 0.9)
    loud = quiet / 0.9 * 1.1
    assert rms_dbfs(quiet / 32768) < CANONICAL.silence_dbfs < rms_dbfs(loud / 32768)
    assert content_checks(_info(), moving, (quiet / 32768)) == ["silent_audio"]
    assert content_checks(_info(), moving, (loud / 32768)) == []
    assert content_checks(_info(), moving, np.zeros(0, np.int16)) == ["silent_audio"]
    # Black: every keyframe under the luma threshold; one bright keyframe is enough to pass.
    dark = [np.full((27, 48), CANONICAL.black_luma * 0.9) + 0.001 * k for k in range(4)]
    assert content_checks(_info(), dark, tone) == ["black_video"]
    assert content_checks(_info(), [*dark[:3], moving[0]], tone) == []
    # Frozen: all consecutive differences under the threshold (and black is not also frozen).
    still = [np.full((27, 48), 0.5) + k * CANONICAL.frozen_difference * 0.5 for k in range(4)]
    assert content_checks(_info(), still, tone) == ["frozen_video"]
    assert content_checks(_info(), [np.full((27, 48), 0.01)] * 4, tone) == ["black_video"]
    one_change = [*still[:3], still[2] + 2 * CANONICAL.frozen_difference]
    assert content_checks(_info(), one_change, tone) == []
    # Duration: tolerance inclusive, from CANONICAL, or from the caller's expectation.
    tol = CANONICAL.duration_tolerance_s
    assert content_checks(_info(10.0 + tol * 0.9), moving, tone) == []
    assert content_checks(_info(10.0 + tol * 1.1), moving, tone) == ["wrong_duration"]
    assert content_checks(_info(3.0), moving, tone, expected_duration_s=3.0) == []
    # No audio wins over silence; every fault at once comes out in CHECKS order.
    assert content_checks(_info(5.0, has_audio=False), dark, None) == ["no_audio", "black_video", "wrong_duration"]
    assert set(CHECKS) == {"no_audio", "silent_audio", "black_video", "frozen_video", "wrong_duration"}


# -------------------------------------------------------------------------- fingerprints


def test_perceptual_hash_near_and_far(ten_second_clip, clean_clip, sources, tmp_path):
    frame = Image.open(clean_clip.keyframe_paths[0]).convert("RGB")
    assert clean_clip.keyframe_phash[0] == image_phash(clean_clip.keyframe_paths[0])
    assert len(clean_clip.keyframe_phash[0]) == 16 and int(clean_clip.keyframe_phash[0], 16) >= 0
    # Near-identical: recompressed hard, slightly brighter, slightly smaller.
    near = tmp_path / "near.jpg"
    ImageEnhance.Brightness(frame).enhance(1.05).resize((360, 270)).save(near, quality=25)
    assert hamming(image_phash(frame), image_phash(near)) <= 4
    assert hamming(image_phash(np.asarray(frame.convert("L"))), image_phash(frame)) == 0
    # Different content: another source's keyframe, and a seeded random image.
    other = image_phash(ten_second_clip.keyframe_paths[0])
    noise = image_phash(np.random.default_rng(1).integers(0, 256, (216, 384), dtype=np.uint8))
    assert hamming(image_phash(frame), other) >= 16
    assert hamming(image_phash(frame), noise) >= 16
    with pytest.raises(ValueError, match="different lengths"):
        hamming("ab", "abc")


def test_audio_fingerprint_same_audio_reencoded_vs_different(tmp_path):
    rate = CANONICAL.sample_rate
    original = fx.write_tone_sequence_wav(tmp_path / "a.wav", seed=1)
    fx.ffmpeg("-i", original, "-c:a", "aac", "-b:a", "64k", "-ar", "44100", tmp_path / "a.m4a")
    different = fx.write_tone_sequence_wav(tmp_path / "b.wav", seed=2)
    a = audio_fingerprint(decode_pcm(original, sample_rate=rate), rate)
    a_reencoded = audio_fingerprint(decode_pcm(tmp_path / "a.m4a", sample_rate=rate), rate)
    b = audio_fingerprint(decode_pcm(different, sample_rate=rate), rate)
    assert len(a) == AUDIO_FINGERPRINT_BITS // 4 == 64
    assert audio_similarity(a, a_reencoded) >= 0.9
    assert audio_similarity(a, b) <= 0.7
    louder = decode_pcm(original, sample_rate=rate).astype(float) * 2.0 / 32768
    assert audio_similarity(a, audio_fingerprint(louder, rate)) >= 0.95  # gain does not matter
    assert audio_fingerprint(np.zeros(rate, np.int16), rate) == "0" * 64
    assert audio_fingerprint(np.zeros(0, np.int16), rate) == "0" * 64


def test_clip_fingerprint_and_level_match_the_source(ten_second_clip, sources):
    rate = CANONICAL.sample_rate
    pcm = decode_pcm(ten_second_clip.audio_path, sample_rate=rate)
    assert ten_second_clip.audio_fingerprint == audio_fingerprint(pcm, rate)
    source = decode_pcm(sources["timecoded"], sample_rate=rate)[int(CUT[0] * rate): int(CUT[1] * rate)]
    assert rms_dbfs(pcm) == pytest.approx(rms_dbfs(source), abs=0.1)  # same mono downmix, no gain change
    assert audio_similarity(ten_second_clip.audio_fingerprint, audio_fingerprint(source, rate)) >= 0.9


# ------------------------------------------------------------------------ interrupted runs


@pytest.mark.parametrize("failure", [KeyboardInterrupt, "tool_error"])
def test_a_failure_after_ffmpeg_wrote_files_leaves_no_out_dir(sources, tmp_path, monkeypatch, failure):
    written = []

    def failing_run_tool(args, **kwargs):
        result = run_tool(args, **kwargs)
        if Path(args[0]).name == "ffmpeg":
            work = next(Path(str(a).removeprefix("file:")).parent for a in args if str(a).endswith("clip.mp4"))
            written.extend(p.name for p in work.iterdir())
            if failure == "tool_error":
                raise ToolError("cutting", args, returncode=1, stderr="Conversion failed!")
            raise KeyboardInterrupt
        return result

    monkeypatch.setattr(media, "run_tool", failing_run_tool)
    expected = KeyboardInterrupt if failure is KeyboardInterrupt else ToolError
    with pytest.raises(expected):
        process_clip(sources["clean"], 0.5, 2.5, tmp_path / "clip")
    assert "clip.mp4" in written  # the interrupt came after ffmpeg wrote its files
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_rerun_keeps_the_previous_clip(sources, clean_clip, tmp_path, monkeypatch):
    out = tmp_path / "clip"
    first = process_clip(sources["clean"], 0.5, 2.5, out, expected_duration_s=2.0)

    def interrupted(args, **kwargs):
        result = run_tool(args, **kwargs)
        if Path(args[0]).name == "ffmpeg":
            raise KeyboardInterrupt
        return result

    monkeypatch.setattr(media, "run_tool", interrupted)
    with pytest.raises(KeyboardInterrupt):
        process_clip(sources["clean"], 0.5, 2.5, out, expected_duration_s=2.0)
    assert [p.name for p in tmp_path.iterdir()] == ["clip"]
    assert hashlib.sha256(first.video_path.read_bytes()).hexdigest() == clean_clip.video_sha256


def test_ffmpeg_timeout_is_a_tool_error_and_leaves_nothing(sources, tmp_path):
    with pytest.raises(ToolError) as caught:
        process_clip(sources["timecoded"], *CUT, tmp_path / "clip", timeout_s=0.05)
    assert caught.value.timed_out and "time limit" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------- tools


@pytest.fixture
def no_tools_on_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(tools.sys, "executable", str(tmp_path / "python"))
    tools.find_tool.cache_clear()
    yield
    tools.find_tool.cache_clear()


@pytest.mark.parametrize(("name", "hint"), [
    ("ffmpeg", "apt-get install ffmpeg"), ("ffprobe", "apt-get install ffmpeg"),
    ("espeak-ng", "apt-get install espeak-ng"), ("yt-dlp", "pip install yt-dlp"),
])
def test_missing_tool_says_how_to_install_it(no_tools_on_path, name, hint):
    with pytest.raises(ToolNotFoundError) as caught:
        require_tool(name)
    assert hint in str(caught.value) and name in str(caught.value)
    assert tools.find_tool(name) is None


def test_tool_lookup_is_cached_and_absolute():
    tools.find_tool.cache_clear()
    path = require_tool("ffmpeg")
    assert os.path.isabs(path) and os.access(path, os.X_OK)
    require_tool("ffmpeg")
    assert tools.find_tool.cache_info().hits >= 1


def test_run_tool_failure_shows_stderr_tail_and_command(tmp_path):
    missing = tmp_path / "nothing-here.mp4"
    with pytest.raises(ToolError) as caught:
        run_tool(["ffmpeg", "-nostdin", "-i", missing, "-f", "null", "-"], timeout_s=30, what="decoding a test file")
    error = caught.value
    assert error.returncode != 0 and not error.timed_out
    assert "No such file or directory" in error.stderr_tail
    assert str(error).startswith("decoding a test file: ffmpeg failed with exit code")
    assert str(missing) in str(error).splitlines()[-1] and "command:" in str(error)
    assert isinstance(error, AvgBenchError)


def test_run_tool_has_no_stdin_and_a_hard_timeout():
    # ffmpeg without -nostdin would wait on a terminal; with stdin closed it must not hang.
    with pytest.raises(ToolError) as caught:
        run_tool(["ffmpeg", "-f", "lavfi", "-i", "anullsrc", "-f", "null", "-"], timeout_s=0.5, what="an endless source")
    assert caught.value.timed_out and caught.value.returncode is None
    # A tool that reads stdin gets end-of-file at once instead of waiting.
    with pytest.raises(ToolError) as caught:
        run_tool(["ffmpeg", "-i", "pipe:0", "-f", "null", "-"], timeout_s=30, what="reading stdin")
    assert not caught.value.timed_out
    result = run_tool(["ffprobe", "-version"], timeout_s=30, what="version")
    assert result.stdout.startswith(b"ffprobe version")
