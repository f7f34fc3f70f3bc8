"""Rendering one source video: the still frame, the tonal soundtrack, espeak-ng speech, and ffmpeg's filter graph."""

from __future__ import annotations

import os
import shutil
import tempfile
import wave
from functools import lru_cache
from pathlib import Path

import numpy as np

from avg_bench.data.synth.cues import LocationCues
from avg_bench.data.synth.plan import VideoPlan
from avg_bench.data.synth.seeded import _between, _hsv, _seed32, _unit
from avg_bench.data.synth.spec import _GROUND_START, _SKY_END, FPS, HEIGHT, NOTICE, SAMPLE_RATE, WIDTH
from avg_bench.errors import AvgBenchError
from avg_bench.tools import ToolNotFoundError, find_tool, require_tool, run_tool

_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/Arial.ttf",
)


def render_base_frame(cues: LocationCues, plan: VideoPlan) -> np.ndarray:
    """The still scene of one video (HEIGHT x WIDTH x 3 uint8): sky, textured band, ground.

    ffmpeg then scrolls it, changes its brightness over time, moves a box across it, adds pixel
    noise and burns in the labels.
    """
    hue = cues.continent_hue_deg + plan.hue_shift_deg
    sat, val = 0.55 + plan.saturation_shift, 0.72 + plan.value_shift
    frame = np.empty((HEIGHT, WIDTH, 3), dtype=np.float64)
    # Sky: the continent hue, lighter and paler towards the top.
    top, bottom = np.array(_hsv(hue, sat * 0.7, val + 0.2), float), np.array(_hsv(hue, sat, val), float)
    ramp = np.linspace(0.0, 1.0, _SKY_END)[:, None, None]
    frame[:_SKY_END] = top * (1 - ramp) + bottom * ramp
    # Middle band: a darker continent colour under the country texture.
    frame[_SKY_END:_GROUND_START] = _hsv(hue, sat, val * 0.8)
    country = cues.country_cues
    ys, xs = np.mgrid[_SKY_END:_GROUND_START, 0:WIDTH]
    mask = _texture_mask(country.texture, xs + plan.texture_phase_px, ys, country.texture_period_px, country.texture_duty)
    tex = np.array(_rgb(country.texture_color), float)
    band = frame[_SKY_END:_GROUND_START]
    band[mask] = 0.15 * band[mask] + 0.85 * tex
    # Ground: the location's (or fusion group's) palette stripes, or a neutral continent ground.
    if cues.palette:
        colours = [np.array(_rgb(c), float) for c in cues.palette]
        period = sum(cues.stripe_widths_px)
        edges = np.cumsum(cues.stripe_widths_px)
        columns = (np.arange(WIDTH) + plan.texture_phase_px) % period
        which = np.searchsorted(edges, columns, side="right")
        frame[_GROUND_START:] = np.stack([colours[i] for i in which])[None, :, :]
    else:
        frame[_GROUND_START:] = _hsv(hue, sat * 0.35, val * 0.55)
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def _texture_mask(kind: str, xs: np.ndarray, ys: np.ndarray, period: int, duty: float) -> np.ndarray:
    on = duty * period
    if kind == "hstripes":
        return (ys % period) < on
    if kind == "vstripes":
        return (xs % period) < on
    if kind == "diagonal":
        return ((xs + ys) % period) < on
    if kind == "checker":
        return ((xs // period + ys // period) % 2) == 0
    if kind == "dots":
        dx, dy = xs % period - period / 2, ys % period - period / 2
        return dx * dx + dy * dy < (duty * period * 0.8) ** 2
    if kind == "grid":
        thickness = max(2.0, on / 2)
        return ((xs % period) < thickness) | ((ys % period) < thickness)
    if kind == "waves":
        return ((ys + 0.3 * period * np.sin(2 * np.pi * xs / (2.5 * period))) % period) < on
    raise ValueError(f"unknown texture {kind!r}")


def render_tonal_audio(cues: LocationCues, plan: VideoPlan, speech: np.ndarray | None = None, speech_rate: int = 22050) -> np.ndarray:
    """The tonal part of the soundtrack (float32 at SAMPLE_RATE): drone, chord, repeated speech.

    The noise textures (the country's band, the hiss) are added by ffmpeg's seeded sources.
    """
    n = int(round(plan.seconds * SAMPLE_RATE))
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    f0 = cues.continent_drone_hz * plan.drone_detune
    phase = 2 * np.pi * _unit(plan.source_id, "tremolo_phase")
    tremolo = 0.75 + 0.25 * np.sin(2 * np.pi * plan.tremolo_hz * t + phase)
    audio = tremolo * (0.10 * np.sin(2 * np.pi * f0 * t) + 0.05 * np.sin(4 * np.pi * f0 * t) + 0.03 * np.sin(6 * np.pi * f0 * t))
    for i, (freq, pulse) in enumerate(zip(cues.chord_hz, cues.chord_pulse_hz)):
        gate = 0.55 + 0.45 * (np.sin(2 * np.pi * pulse * t + 2 * np.pi * _unit(plan.source_id, "chord_phase", i)) > 0)
        audio += 0.08 * gate * np.sin(2 * np.pi * freq * t)
    if speech is not None and speech.size:
        voice = np.interp(np.arange(int(speech.size * SAMPLE_RATE / speech_rate)) * (speech_rate / SAMPLE_RATE), np.arange(speech.size), speech)
        peak = float(np.max(np.abs(voice))) or 1.0
        voice *= 0.32 / peak
        start, k = plan.speech_offset_s, 0
        while start < plan.seconds:
            i0 = int(round(start * SAMPLE_RATE))
            piece = voice[: n - i0] * _between(0.7, 1.0, plan.source_id, "speech_gain", k)
            audio[i0 : i0 + piece.size] += piece
            start += max(plan.speech_period_s, voice.size / SAMPLE_RATE + 0.8)
            k += 1
    return audio.astype(np.float32)


def _write_wav(path: Path, audio: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    pcm = np.clip(np.rint(audio * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as src:
        if src.getsampwidth() != 2:
            raise AvgBenchError(f"espeak-ng wrote {src.getsampwidth() * 8}-bit audio; expected 16-bit")
        rate, channels = src.getframerate(), src.getnchannels()
        data = np.frombuffer(src.readframes(src.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
    return (data.reshape(-1, channels).mean(axis=1) if channels > 1 else data), rate


# ----- external programs: found and run through avg_bench.tools -----


def require_program(program: str) -> str:
    """The path of ``program`` (ffmpeg, espeak-ng); an error that says how to install it, or to go without speech."""
    try:
        return require_tool(program)
    except ToolNotFoundError as exc:
        if program != "espeak-ng":
            raise
        raise AvgBenchError(f"{exc}; or generate AVG-Synth without speech (--no-speech, speech=False)") from None


@lru_cache(maxsize=1)
def find_font() -> str | None:
    """A TrueType font for the burnt-in labels (DejaVu Sans Bold first), or None: text is skipped."""
    for candidate in _FONT_CANDIDATES:
        if os.path.isfile(candidate):
            return candidate
    if find_tool("fc-match"):
        try:
            found = run_tool(["fc-match", "-f", "%{file}", "DejaVu Sans:bold"], timeout_s=20, what="finding a font").stdout.decode("utf-8", "replace").strip()
        except AvgBenchError:
            return None
        if found and os.path.isfile(found) and found.lower().endswith((".ttf", ".otf")):
            return found
    return None


def _speech_clip(cues: LocationCues, plan: VideoPlan, *, workdir: Path) -> tuple[np.ndarray, int]:
    phrase_file = workdir / "phrase.txt"
    phrase_file.write_text(cues.country_cues.phrase, encoding="utf-8")
    args = ["espeak-ng", "-b", "1", "-v", cues.country_cues.voice, "-s", str(plan.speech_rate_wpm), "-p", str(plan.speech_pitch),
            "-w", "speech.wav", "-f", "phrase.txt"]
    run_tool(args, cwd=workdir, timeout_s=120, what=f"speaking {cues.country_cues.phrase!r} for {plan.source_id}", capture_stdout=False)
    return _read_wav(workdir / "speech.wav")


def _write_ppm(path: Path, frame: np.ndarray) -> None:
    height, width, _ = frame.shape
    path.write_bytes(b"P6\n%d %d\n255\n" % (width, height) + frame.tobytes())


def _ffmpeg_args(cues: LocationCues, plan: VideoPlan, *, text: bool, output: str) -> list[str]:
    seconds = f"{plan.seconds:g}"
    box = plan.box_size_px
    frames = int(round(plan.seconds * FPS))
    video = [
        # Convert the still once, then repeat it: far cheaper than decoding a looped image per frame.
        f"format=yuv420p,loop=loop={frames - 1}:size=1:start=0,setpts=N/({FPS}*TB)",
        f"scroll=h={plan.scroll}:v=0",
        f"eq=brightness='{plan.brightness}+{plan.brightness_drift}*sin(2*PI*t/{plan.drift_period_s})':eval=frame",
        f"drawbox=x='mod({plan.box_start_px}+{plan.box_speed_px_s}*t,{WIDTH + box})-{box}':y={plan.box_y_px}"
        f":w={box}:h={box}:color=0x{plan.box_color[1:]}:t=fill",
        f"noise=alls={plan.pixel_noise}:allf=t+u:all_seed={plan.noise_seed}",
    ]
    if text:
        video.append(
            "drawtext=fontfile=font.ttf:textfile=label.txt:expansion=none:x=6:y=6:fontsize=14"
            ":fontcolor=white:box=1:boxcolor=black@0.7:boxborderw=4"
        )
        if cues.sign_text:
            video.append(
                "drawtext=fontfile=font.ttf:textfile=sign.txt:expansion=none:x=(w-text_w)/2:y=h-30:fontsize=15"
                ":fontcolor=white:box=1:boxcolor=0x202020@0.85:boxborderw=5"
            )
    video.append("format=yuv420p")
    band_seed, hiss_seed = _seed32(plan.source_id, "band"), _seed32(plan.source_id, "hiss")
    audio = (
        f"anoisesrc=c=pink:a=0.5:seed={band_seed}:r={SAMPLE_RATE}:d={seconds},"
        f"bandpass=f={cues.country_cues.noise_band_hz}:width_type=q:w=3,volume={1.6 * plan.band_gain:.4f}[band];"
        f"anoisesrc=c=white:a={plan.hiss}:seed={hiss_seed}:r={SAMPLE_RATE}:d={seconds}[hiss];"
        f"[1:a][band][hiss]amix=inputs=3:normalize=0:duration=first,alimiter=limit=0.95:level=0[a]"
    )
    graph = "[0:v]" + ",".join(video) + "[v];" + audio
    return [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-filter_complex_threads", "1",
        "-i", "base.ppm",
        "-i", "tones.wav",
        "-filter_complex", graph,
        "-map", "[v]", "-map", "[a]", "-t", seconds, "-r", str(FPS),
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-g", str(FPS), "-threads", "1",
        "-c:a", "aac", "-aac_coder", "fast", "-b:a", "64k", "-ar", str(SAMPLE_RATE), "-ac", "1",
        "-map_metadata", "-1",
        "-metadata", "title=AVG-Synth synthetic video (not AVG)", "-metadata", "comment=" + NOTICE,
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        "-movflags", "+faststart", "-f", "mp4", output,
    ]  # fmt: skip


def render_video(cues: LocationCues, plan: VideoPlan, destination: Path, *, speech: bool, font: str | None) -> None:
    """Render one source video to ``destination`` atomically (temporary name, then rename)."""
    require_program("ffmpeg")
    if speech:
        require_program("espeak-ng")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="avg-synth-") as tmp:
        workdir = Path(tmp)
        _write_ppm(workdir / "base.ppm", render_base_frame(cues, plan))
        voice, rate = _speech_clip(cues, plan, workdir=workdir) if speech else (None, 22050)
        _write_wav(workdir / "tones.wav", render_tonal_audio(cues, plan, voice, rate))
        if font is not None:
            try:  # a fixed, escape-free name for the filter graph
                os.symlink(font, workdir / "font.ttf")
            except OSError:
                shutil.copyfile(font, workdir / "font.ttf")
            (workdir / "label.txt").write_text("SYNTHETIC", encoding="utf-8")
            if cues.sign_text:
                (workdir / "sign.txt").write_text(cues.sign_text, encoding="utf-8")
        temporary = destination.parent / f".{destination.stem}.{os.getpid()}.{id(plan):x}.tmp.mp4"
        try:
            args = _ffmpeg_args(cues, plan, text=font is not None, output=str(temporary.resolve()))
            run_tool(args, cwd=workdir, timeout_s=max(120.0, 10 * plan.seconds), what=f"rendering {plan.source_id}", capture_stdout=False)
            os.replace(temporary, destination)
        finally:
            temporary.unlink(missing_ok=True)
