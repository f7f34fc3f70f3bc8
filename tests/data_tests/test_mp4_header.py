"""The ``moov`` reader against ffprobe: a canonical clip is described without ffprobe, with ffprobe's own numbers.

A clip's ``duration_s`` goes into the dataset and its stream durations decide ``wrong_duration``,
so the reader must print what ffprobe prints, to the microsecond, for every cut the build can make:
whole and short clips, sources whose audio ends early, no audio, odd rates and portrait frames.
Anything the reader does not understand must go to ffprobe instead of being guessed.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest
from data_tests import media_fixtures as fx

from avg_bench.data import media
from avg_bench.data.mp4_header import read_mp4_movie

#: (name, lavfi video, lavfi audio or None, seconds): rates and lengths that give uneven edits.
SOURCES = [
    ("ntsc", "testsrc2=size=480x270:rate=30000/1001", "sine=f=300:r=44100", 12.0),
    ("pal_short_audio", "testsrc2=size=500x333:rate=25", "sine=f=500:r=48000:d=7.3", 11.37),
    ("portrait_24", "testsrc2=size=270x480:rate=24", "sine=f=700:r=22050", 8.0),
    ("video_only_60", "testsrc2=size=640x360:rate=60", None, 6.0),
]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("mp4-sources")
    rng = random.Random(13)
    made = []
    for name, video, audio, seconds in SOURCES:
        source = folder / f"{name}.mp4"
        inputs = ["-f", "lavfi", "-i", f"{video}:duration={seconds}"]
        if audio is not None:
            inputs += ["-f", "lavfi", "-i", audio if ":d=" in audio else f"{audio}:d={seconds}"]
        codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(rng.choice([12, 50, 250]))]
        if audio is not None:
            codecs += ["-c:a", "aac", "-b:a", "96k", "-ac", "2"]
        fx.ffmpeg(*inputs, *codecs, source)
        made.append(source)
    return made


@pytest.fixture(scope="module")
def clips(sources, tmp_path_factory) -> list[media.ProcessedClip]:
    folder = tmp_path_factory.mktemp("mp4-clips")
    rng = random.Random(17)
    made = []
    for source in sources:
        seconds = media.probe(source).duration_s
        for k in range(3):  # a full clip, and cuts of random starts and lengths (some past the source's end)
            start = round(rng.uniform(0, seconds - 0.5), rng.choice([0, 2, 6]))
            length = 10.0 if k == 0 else rng.uniform(0.3, 11.0)
            try:
                made.append(media.process_clip(source, start, start + length, folder / f"{source.stem}-{k}"))
            except media.MediaError:  # a cut too short for its keyframes: nothing to describe
                continue
    assert len(made) >= 9
    return made


def test_the_moov_reader_says_what_ffprobe_says(clips):
    for clip in clips:
        probed = dataclasses.replace(media.probe(clip.video_path), pixel_format=None)  # only the bitstream says it
        described = media.describe_written(clip.video_path)
        assert described == probed, clip.video_path
        assert described.tags == probed.tags
        assert clip.duration_s == probed.duration_s and clip.info == dataclasses.replace(probed, pixel_format=None)
        assert read_mp4_movie(clip.video_path) is not None  # the reader, not its fallback, answered


def test_a_canonical_clip_runs_ffprobe_once_on_its_source_only(tmp_path, monkeypatch):
    source = fx.make_av_source(tmp_path / "source.mp4", duration_s=4.0)
    probed: list[Path] = []
    real = media.probe
    monkeypatch.setattr(media, "probe", lambda path, **kw: probed.append(Path(path)) or real(path, **kw))
    clip = media.process_clip(source, 0.5, 3.5, tmp_path / "clip", expected_duration_s=3.0)
    assert probed == [source] and clip.ok


def test_what_the_reader_does_not_understand_goes_to_ffprobe(tmp_path):
    upright, rotated = tmp_path / "upright.mp4", tmp_path / "rotated.mp4"
    fx.ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=2", "-c:v", "libx264", "-preset", "ultrafast", upright)
    fx.ffmpeg("-i", upright, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated)  # a phone's display matrix
    matroska = tmp_path / "clip.mkv"
    fx.ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=2", "-c:v", "libx264", "-preset", "ultrafast", matroska)
    mp3 = tmp_path / "mp3.mp4"
    fx.ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=2", "-f", "lavfi", "-i", "sine=d=2",
              "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "libmp3lame", mp3)
    garbage = fx.write_random_bytes(tmp_path / "garbage.mp4")
    assert read_mp4_movie(upright) is not None
    for path in (rotated, matroska, mp3, garbage):
        assert read_mp4_movie(path) is None, path.name
    assert media.describe_written(rotated) == media.probe(rotated) and media.probe(rotated).rotation in (90, 270)  # ffprobe's answer
    assert media.describe_written(matroska).format_name == "matroska,webm"
    assert media.describe_written(mp3).audio_codec == "mp3"


USED_BY_THE_CUT = ("has_video", "has_audio", "width", "height", "rotation", "sample_aspect_ratio", "video_stream", "audio_stream")


def test_a_section_is_described_as_ffprobe_does_where_the_cut_depends_on_it(sources, tmp_path):
    """A stream-copied section (what yt-dlp's ffmpeg writes) cut from its moov gives the same clip, byte for byte."""
    with_audio = [s for s in sources if media.probe(s).has_audio]
    for source in with_audio:
        section = tmp_path / f"{source.stem}-section.mp4"
        fx.ffmpeg("-ss", "1.3", "-t", "6.0", "-i", source, "-c", "copy", section)
        probed = media.probe(section)
        described = media.describe_section(section, cut_end_s=4.5)
        assert described is not None, source.name
        assert {k: getattr(described, k) for k in USED_BY_THE_CUT} == {k: getattr(probed, k) for k in USED_BY_THE_CUT}
        end = min(described.duration_s, described.video_duration_s)
        assert media.describe_section(section, cut_end_s=end - media.SOURCE_END_MARGIN_S / 2) is None  # ffprobe decides
        from_moov = media.process_clip(section, 0.5, 4.5, tmp_path / f"{source.stem}-a", expected_duration_s=4.0, source_info=described)
        from_ffprobe = media.process_clip(section, 0.5, 4.5, tmp_path / f"{source.stem}-b", expected_duration_s=4.0)
        assert from_moov.meta() | {"folder": ""} == from_ffprobe.meta() | {"folder": ""}
