"""Small media sources for the media tests, generated at test time with ffmpeg's lavfi (seeded, fast).

Importable as ``data_tests.media_fixtures`` (``tests`` is on pytest's pythonpath). Each ``make_*``
writes one file and returns its path. Planted faults: a black picture, a frozen still image, a
silent track, no audio track, an empty file, random bytes, a file cut in half.

The time-coded source makes exactness checkable: frame ``N`` shows ``N`` in binary as
``TIMECODE_BITS`` vertical stripes (bright = 1, most significant bit on the left), and the audio is a
chirp whose phase at every sample is a known function of time (:func:`chirp`).
"""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np

#: Metadata planted in sources; none of it may reach a canonical clip.
PLANTED_TAGS = {
    "title": "SECRET-TITLE",
    "comment": "SECRET-COMMENT",
    "location": "+48.8584+002.2945/",
    "creation_time": "2021-06-01T12:00:00Z",
}
TIMECODE_BITS = 16
#: Luma of a 0 and a 1 stripe (dark grey, not black: a time-coded frame never looks black).
TIMECODE_LOW, TIMECODE_HIGH = 64, 235
CHIRP_HZ, CHIRP_SWEEP = 200.0, 15.0  # phase = 2*pi*(200 t + 15 t^2): 200 Hz rising 30 Hz per second

_FAST_H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
_AAC = ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "128k", "-ac", "2"]


def ffmpeg(*args: str | Path) -> None:
    """Run ffmpeg quietly; a failure shows its stderr."""
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *map(str, args)]
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}\n{result.stderr}")


def ffprobe_json(path: str | Path) -> dict:
    """ffprobe's full JSON report (format and streams): the tests' independent referee."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True, check=True,
    )
    return json.loads(result.stdout)


def _tags(tags: dict[str, str] | None) -> list[str]:
    return [arg for key, value in (tags or {}).items() for arg in ("-metadata", f"{key}={value}")]


def make_av_source(path: Path, *, duration_s: float = 3.0, size: str = "480x360", fps: int = 30,
                   tone_hz: float = 440.0, tags: dict[str, str] | None = None) -> Path:
    """A clean clip: moving testsrc2 pattern and a sine tone, H.264 + AAC in MP4."""
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={duration_s}",
           "-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=48000:duration={duration_s}",
           *_FAST_H264, *_AAC, *_tags(tags), path)
    return path


def make_black_source(path: Path, *, duration_s: float = 3.0) -> Path:
    """Black picture over a tone (planted fault: black_video)."""
    ffmpeg("-f", "lavfi", "-i", f"color=c=black:size=320x240:rate=30:duration={duration_s}",
           "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={duration_s}",
           *_FAST_H264, *_AAC, path)
    return path


def make_still_source(path: Path, *, duration_s: float = 3.0, seed: int = 0) -> Path:
    """One seeded random image held still over a tone (planted fault: frozen_video)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    blocks = rng.integers(30, 226, size=(12, 16, 3), dtype=np.uint8)
    image = path.with_suffix(".png")
    Image.fromarray(blocks).resize((320, 240), Image.Resampling.NEAREST).save(image)
    ffmpeg("-loop", "1", "-framerate", "30", "-t", str(duration_s), "-i", image,
           "-f", "lavfi", "-i", f"sine=frequency=660:sample_rate=48000:duration={duration_s}",
           *_FAST_H264, *_AAC, "-shortest", path)
    return path


def make_silent_source(path: Path, *, duration_s: float = 3.0) -> Path:
    """Moving picture with a digitally silent audio track (planted fault: silent_audio)."""
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=30:duration={duration_s}",
           "-f", "lavfi", "-i", f"anullsrc=channel_layout=stereo:sample_rate=48000:duration={duration_s}",
           *_FAST_H264, *_AAC, "-shortest", path)
    return path


def make_video_only_source(path: Path, *, duration_s: float = 3.0) -> Path:
    """Moving picture, no audio stream at all (planted fault: no_audio)."""
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=30:duration={duration_s}", *_FAST_H264, path)
    return path


def make_timecoded_source(path: Path, *, duration_s: float = 30.0, size: str = "480x270", fps: int = 30,
                          gop: int = 60, tags: dict[str, str] | None = None) -> Path:
    """Frames that show their own number, a chirp whose phase tells the time; 2 s GOP like YouTube.

    The GOP makes a cut start between keyframes, so an exact cut has to decode and discard.
    """
    stripes = f"if(bitand(N,pow(2,{TIMECODE_BITS - 1}-X)),{TIMECODE_HIGH},{TIMECODE_LOW})"
    video = (f"color=c=black:size={TIMECODE_BITS}x2:rate={fps}:duration={duration_s},format=yuv444p,"
             f"geq=lum='{stripes}':cb=128:cr=128,scale={size}:flags=neighbor,setsar=1,format=yuv420p")
    audio = f"aevalsrc='0.5*sin(2*PI*({CHIRP_HZ}*t+{CHIRP_SWEEP}*t*t))':s=48000:d={duration_s}"
    ffmpeg("-f", "lavfi", "-i", video, "-f", "lavfi", "-i", audio, *_FAST_H264, "-g", str(gop),
           *_AAC, *_tags(tags), path)
    return path


def read_timecode(luma: np.ndarray) -> int:
    """The frame number shown by a time-coded frame (a 2-D luma array, any size)."""
    row = np.asarray(luma, dtype=float)[luma.shape[0] // 4: 3 * luma.shape[0] // 4].mean(axis=0)
    width = row.shape[0]
    threshold = (TIMECODE_LOW + TIMECODE_HIGH) / 2
    bits = [row[int((b + 0.5) * width / TIMECODE_BITS)] > threshold for b in range(TIMECODE_BITS)]
    return sum(int(bit) << (TIMECODE_BITS - 1 - i) for i, bit in enumerate(bits))


def chirp(t: np.ndarray) -> np.ndarray:
    """The time-coded source's audio at source times ``t`` (seconds), up to gain."""
    return np.sin(2 * np.pi * (CHIRP_HZ * t + CHIRP_SWEEP * t * t))


def decode_luma(path: str | Path, *, frame: int = 0) -> np.ndarray:
    """Frame number ``frame`` (0-based, in presentation order) of a video or image as a luma array."""
    probe = ffprobe_json(path)
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    width, height = int(video["width"]), int(video["height"])
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{frame})",
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True, check=True,
    )
    return np.frombuffer(result.stdout, dtype=np.uint8).reshape(height, width)


def write_tone_sequence_wav(path: Path, *, seed: int, duration_s: float = 10.0, sample_rate: int = 16_000) -> Path:
    """Seeded 'melody': a new random tone (with a harmonic) and level every 0.25 s, plus a little noise."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * sample_rate)
    step = int(0.25 * sample_rate)
    notes = -(-n // step)
    freqs = np.repeat(rng.uniform(180.0, 3000.0, notes), step)[:n]
    gains = np.repeat(rng.uniform(0.1, 0.5, notes), step)[:n]
    phase = 2 * np.pi * np.cumsum(freqs) / sample_rate
    signal = gains * (np.sin(phase) + 0.4 * np.sin(2.7 * phase)) + 0.01 * rng.standard_normal(n)
    pcm = np.clip(signal * 32767 / 1.5, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(sample_rate)
        handle.writeframes(pcm.tobytes())
    return path


def write_random_bytes(path: Path, *, size: int = 4096, seed: int = 0) -> Path:
    """Not a media file at all (planted fault: corrupt)."""
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())
    return path


def write_first_half(source: Path, path: Path) -> Path:
    """The first half of a media file: an interrupted download (its MP4 index is at the end)."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path
