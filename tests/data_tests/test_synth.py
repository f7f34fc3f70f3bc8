"""AVG-Synth: a tiny set generates fast, its manifest is valid, runs are deterministic and resumable,
and its cues are measurable in the modality they were put in (colour statistics, band energies)."""

from __future__ import annotations

import colorsys
import functools
import hashlib
import json
import re
import subprocess
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from avg_bench.data import synth as S
from avg_bench.data.manifest import read_manifest, resolve_source
from avg_bench.data.schema import CLIP_ID, LocationRecord, ManifestRecord
from avg_bench.errors import AvgBenchError
from avg_bench.modality import Modality

#: Real places (GeoNames), built by hand: two share a country, three continents.
PLACES = [
    LocationRecord("L0001", 2988507, "Paris", "Ile-de-France", "FR", "EU", 48.85341, 2.3488, 2138551),
    LocationRecord("L0002", 2996944, "Lyon", "Auvergne-Rhone-Alpes", "FR", "EU", 45.74846, 4.84671, 522969),
    LocationRecord("L0003", 184745, "Nairobi", "Nairobi Area", "KE", "AF", -1.28333, 36.81667, 2750547),
    LocationRecord("L0004", 1850147, "Tokyo", "Tokyo", "JP", "AS", 35.6895, 139.69171, 8336599),
]
#: Splits the French pair: Paris holds its identity in the video, Lyon in the audio.
SEED = 4
SECONDS = 24.0
VIDEOS, CLIPS = 2, 2


def _tiny(out: Path, *, seed: int = SEED, places=PLACES, videos: int = VIDEOS, clips: int = CLIPS) -> S.SynthResult:
    return S.generate_synth(
        out, places, videos_per_location=videos, clips_per_video=clips, video_seconds=SECONDS, seed=seed, workers=2, progress=False
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> S.SynthResult:
    return _tiny(tmp_path_factory.mktemp("synth") / "tiny")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _videos(result: S.SynthResult) -> dict[str, list[Path]]:
    """location_id -> its source files, in video order."""
    by_location: dict[str, list[Path]] = defaultdict(list)
    for record in read_manifest(result.manifest_path):
        path = resolve_source(record, result.manifest_path)
        if path not in by_location[record.location_id]:
            by_location[record.location_id].append(path)
    return by_location


def _frames(path: Path, *, fps: int = 1) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-vf", f"fps={fps}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, np.uint8).reshape(-1, S.HEIGHT, S.WIDTH, 3).astype(np.float64)


def _audio(path: Path) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", str(S.SAMPLE_RATE), "-f", "f32le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, np.float32).astype(np.float64)


@functools.cache
def _decoded(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A source's frames at 2 fps and its soundtrack, decoded once for all the signal tests."""
    return _frames(path, fps=2), _audio(path)


def _clip(path: Path, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    frames, audio = _decoded(path)
    return frames[round(start * 2) : round(end * 2)], audio[round(start * S.SAMPLE_RATE) : round(end * S.SAMPLE_RATE)]


def _power_spectrum(x: np.ndarray, n_fft: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Mean power spectrum over Hann windows (half-overlapping): frequencies, power."""
    starts = range(0, x.size - n_fft, n_fft // 2)
    window = np.hanning(n_fft)
    power = np.mean([np.abs(np.fft.rfft(x[s : s + n_fft] * window)) ** 2 for s in starts], axis=0)
    return np.fft.rfftfreq(n_fft, 1 / S.SAMPLE_RATE), power


def _band(freqs: np.ndarray, power: np.ndarray, centre: float, relative: float) -> float:
    return float(power[(freqs >= centre * (1 - relative)) & (freqs <= centre * (1 + relative))].sum())


def _log_band_energies(x: np.ndarray, bands: int = 40) -> np.ndarray:
    """Log energies in log-spaced bands (60 Hz .. 8 kHz): a log-mel-like statistic of a clip."""
    freqs, power = _power_spectrum(x, n_fft=1024)
    edges = np.geomspace(60.0, S.SAMPLE_RATE / 2, bands + 1)
    return np.log(np.array([power[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in zip(edges[:-1], edges[1:])]) + 1e-10)


def _colour_features(frames: np.ndarray) -> np.ndarray:
    """Mean colour and a 4x4x4 colour histogram of a clip's frames."""
    pixels = frames.reshape(-1, 3) / 255.0
    histogram = np.histogramdd(pixels, bins=(4, 4, 4), range=((0, 1),) * 3)[0].ravel()
    return np.concatenate([pixels.mean(axis=0), np.sqrt(histogram / histogram.sum())])


def _hue_gap(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


# --------------------------------------------------------------------------------------------
# The manifest


def test_manifest_rows_are_valid_synthetic_clips(tiny):
    rows = [json.loads(line) for line in tiny.manifest_path.read_text().splitlines()]
    records = [ManifestRecord.from_dict(row) for row in rows]
    assert len(records) == tiny.clips == len(PLACES) * VIDEOS * CLIPS == 16
    assert (tiny.locations, tiny.videos, tiny.rendered, tiny.skipped) == (4, 8, 8, 0)
    assert len({r.clip_id for r in records}) == len(records)
    place = {p.location_id: p for p in PLACES}
    for record in records:
        assert CLIP_ID.fullmatch(record.clip_id) and re.fullmatch(r"synth-[0-9a-f]{10}", record.clip_id)
        assert record.clip_id == S.clip_id(SEED, record.source_id, record.start_s)
        assert record.source_platform == "synthetic" and record.synthetic is True
        assert record.license == "CC0-1.0 (synthetic)" and record.coord_source == "centroid"
        assert (record.lat, record.lon) == (place[record.location_id].lat, place[record.location_id].lon)
        assert "synthetic" in record.source_id and record.location_id in record.source_id
        assert not Path(record.source_uri).is_absolute()
        assert resolve_source(record, tiny.manifest_path).is_file()
    by_source = defaultdict(set)
    for record in records:
        by_source[record.source_id].add(record.location_id)
    assert len(by_source) == 8 and all(len(v) == 1 for v in by_source.values())  # one source, one place
    written = [json.loads(line) for line in tiny.locations_path.read_text().splitlines()]
    assert [LocationRecord.from_dict(row) for row in written] == PLACES


def test_clips_are_exact_and_never_overlap_within_a_source(tiny):
    by_source = defaultdict(list)
    for record in read_manifest(tiny.manifest_path):
        assert record.end_s - record.start_s == pytest.approx(10.0, abs=1e-9)
        assert 0.0 <= record.start_s and record.end_s <= SECONDS
        assert round(record.start_s * 10) == pytest.approx(record.start_s * 10, abs=1e-9)  # on a frame
        by_source[record.source_id].append((record.start_s, record.end_s))
    for spans in by_source.values():
        spans.sort()
        assert len(spans) == CLIPS
        assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))


@pytest.mark.parametrize(("seconds", "clips"), [(10.0, 1), (24.0, 2), (32.0, 3), (45.0, 4), (40.0, 4), (300.0, 7)])
def test_clip_starts_fit_on_frames_without_overlap(seconds, clips):
    for k in range(20):
        starts = S.clip_starts(f"synthetic-L0001-v{k:02d}-x", seed=k, video_seconds=seconds, clips=clips)
        assert starts == S.clip_starts(f"synthetic-L0001-v{k:02d}-x", seed=k, video_seconds=seconds, clips=clips)
        assert len(starts) == clips and starts[0] >= 0 and starts[-1] + 10.0 <= seconds + 1e-9
        assert all(b - a >= 10.0 - 1e-9 for a, b in zip(starts, starts[1:]))
        assert all(abs(s * 10 - round(s * 10)) < 1e-9 for s in starts)
    with pytest.raises(AvgBenchError, match="do not fit"):
        S.clip_starts("x", seed=0, video_seconds=29.9, clips=3)


# --------------------------------------------------------------------------------------------
# The media


def test_every_source_probes_with_audio_video_and_the_right_length(tiny):
    for paths in _videos(tiny).values():
        for path in paths:
            probe = json.loads(
                subprocess.run(
                    ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                    capture_output=True, check=True, text=True,
                ).stdout
            )  # fmt: skip
            streams = {s["codec_type"]: s for s in probe["streams"]}
            assert set(streams) == {"video", "audio"}
            video, audio = streams["video"], streams["audio"]
            assert (video["codec_name"], video["width"], video["height"], video["pix_fmt"]) == ("h264", 320, 180, "yuv420p")
            assert video["r_frame_rate"] == "10/1"
            assert (audio["codec_name"], int(audio["sample_rate"]), audio["channels"]) == ("aac", 16000, 1)
            assert float(probe["format"]["duration"]) == pytest.approx(SECONDS, abs=0.1)
            assert float(video["duration"]) == pytest.approx(SECONDS, abs=0.1)
            assert float(audio["duration"]) == pytest.approx(SECONDS, abs=0.1)
            assert "synthetic" in path.name and "synthetic" in probe["format"]["tags"]["title"].lower()
            sound = _decoded(path)[1]
            assert 0.02 < np.sqrt(np.mean(sound**2)) < 0.5 and np.max(np.abs(sound)) < 1.0  # audible, no clipping


def test_everything_says_synthetic(tiny):
    info = json.loads((tiny.out_dir / "synth.json").read_text())
    assert info["synthetic"] is True and info["dataset"] == "AVG-Synth" and "never report" in info["notice"]
    assert info["counts"] == {"locations": 4, "videos": 8, "clips": 16}
    assert tiny.to_dict()["synthetic"] is True
    for place in PLACES:
        cues = json.loads((tiny.out_dir / "sources" / place.location_id / "cues.json").read_text())
        assert cues["synthetic"] is True
        assert cues["identity_modality"] == info["identity_modality"][place.location_id]
        assert all("synthetic" in source for source in cues["videos"])
    for paths in _videos(tiny).values():
        for path in paths:
            assert path.name.startswith("synthetic-")
    assert S.find_font() is not None  # run.sh installs fonts-dejavu-core: the label is never left out
    # The label: white text on a dark box in the top-left corner of every frame.
    frames = _frames(_videos(tiny)["L0001"][0])
    white, dark = frames.min(axis=-1) > 200, frames.max(axis=-1) < 70
    assert dark[:, 4:20, 6:80].mean() > 0.3 and white[:, 4:20, 6:80].mean() > 0.1
    assert white[:, 4:20, 200:280].mean() < 0.02 and dark[:, 4:20, 200:280].mean() < 0.02  # elsewhere: no label


# --------------------------------------------------------------------------------------------
# Determinism and resumability


def test_cues_are_pure_functions_of_seed_and_place():
    assignment = S.assign_identity_modalities(PLACES, seed=SEED)
    assert assignment == S.assign_identity_modalities(list(reversed(PLACES)), seed=SEED)
    assert sorted(assignment.values()) == ["audio", "audio", "visual", "visual"]  # balanced halves
    twelve = [LocationRecord(f"L{i:04d}", 1000 + i, f"Place {i}", "", "FR", "EU", 45.0, 2.0 + i / 10, 1000) for i in range(1, 13)]
    for seed in range(10):
        assert sorted(S.assign_identity_modalities(twelve, seed=seed).values()) == ["audio"] * 6 + ["visual"] * 6
    assignments = [S.assign_identity_modalities(twelve, seed=s) for s in range(10)]
    assert len({tuple(a[p.location_id] for p in twelve) for a in assignments}) == 10

    for place in PLACES:
        for modality in S.MODALITIES:
            same = S.location_cues(place, seed=SEED, identity_modality=modality)
            assert same == S.location_cues(place, seed=SEED, identity_modality=modality)
            other = S.location_cues(place, seed=SEED + 1, identity_modality=modality)
            assert other.country_cues != same.country_cues  # texture, colour, band: redrawn per seed
            assert (other.palette, other.chord_hz) != (same.palette, same.chord_hz) and (same.palette or same.chord_hz)
            # The continent cues are fixed tables; the voice follows the country.
            assert (same.continent_hue_deg, same.continent_drone_hz) == (other.continent_hue_deg, other.continent_drone_hz)
    paris = S.location_cues(PLACES[0], seed=SEED, identity_modality="visual")
    assert (paris.country_cues.voice, paris.country_cues.phrase) == ("fr-fr", "France")
    assert paris.palette and paris.sign_text == "Paris" and paris.chord_hz == ()
    lyon = S.location_cues(PLACES[1], seed=SEED, identity_modality="audio")
    assert len(lyon.chord_hz) == 3 and lyon.palette == () and lyon.sign_text == ""
    assert lyon.country_cues == paris.country_cues  # one country, one set of country cues
    assert S.espeak_voice("JP") == "ja" and S.espeak_voice("IN") == "hi" and S.espeak_voice("ZZ") == "en"


def test_a_location_identity_lives_in_one_modality_only():
    """Same country and continent, same per-video nuisances: the modality without the location's
    own cue is identical between two locations, sample for sample and pixel for pixel."""
    plan = S.plan_video("L0001", 0, seed=SEED, video_seconds=12.0, tag="t")
    paris, lyon = PLACES[0], PLACES[1]
    as_audio = [S.location_cues(p, seed=SEED, identity_modality="audio") for p in (paris, lyon)]
    as_video = [S.location_cues(p, seed=SEED, identity_modality="visual") for p in (paris, lyon)]
    # Audio-identity locations: identical frames, different sound.
    assert np.array_equal(S.render_base_frame(as_audio[0], plan), S.render_base_frame(as_audio[1], plan))
    assert not np.allclose(S.render_tonal_audio(as_audio[0], plan), S.render_tonal_audio(as_audio[1], plan))
    # Video-identity locations: identical sound, different frames.
    assert np.array_equal(S.render_tonal_audio(as_video[0], plan), S.render_tonal_audio(as_video[1], plan))
    assert not np.array_equal(S.render_base_frame(as_video[0], plan), S.render_base_frame(as_video[1], plan))


def test_same_seed_same_bytes_and_a_rerun_only_renders_what_is_missing(tiny):
    out = tiny.out_dir
    manifest = tiny.manifest_path.read_bytes()
    sidecars = {p: p.read_bytes() for p in (out / "sources").glob("*/cues.json")}
    media = sorted((out / "sources").glob("*/*.mp4"))
    stamps = {p: p.stat().st_mtime_ns for p in media}
    digests = {p: _sha(p) for p in media}
    removed = media[3]
    removed.unlink()
    stale = removed.parent / f".{removed.stem}.999.abc.tmp.mp4"  # as an interrupted run leaves it
    stale.write_bytes(b"half a video")

    again = _tiny(out)

    assert (again.rendered, again.skipped, again.clips) == (1, 7, 16)
    assert tiny.manifest_path.read_bytes() == manifest
    assert {p: p.read_bytes() for p in sidecars} == sidecars
    assert not stale.exists()
    assert _sha(removed) == digests[removed]  # re-rendered byte for byte
    assert all(p.stat().st_mtime_ns == stamps[p] for p in media if p != removed)  # the others untouched


def test_another_seed_gives_other_clips_and_cues(tiny, tmp_path):
    other = _tiny(tmp_path / "other", seed=SEED + 1, places=PLACES[:2], videos=1)
    old = read_manifest(tiny.manifest_path)
    new = read_manifest(other.manifest_path)
    assert len(new) == 4 and not {r.clip_id for r in new} & {r.clip_id for r in old}
    assert not {r.source_id for r in new} & {r.source_id for r in old}
    assert {r.location_id for r in new} == {"L0001", "L0002"}
    for lid in ("L0001", "L0002"):
        assert other.cues[lid].country_cues != tiny.cues[lid].country_cues


# --------------------------------------------------------------------------------------------
# The cues are measurable


def test_video_colour_follows_the_continent_and_the_palette_marks_video_locations(tiny):
    videos = _videos(tiny)
    frames = {lid: [_decoded(p)[0] for p in paths] for lid, paths in videos.items()}
    continent = {p.location_id: p.continent for p in PLACES}
    mean = {lid: [f.reshape(-1, 3).mean(axis=0) for f in clips] for lid, clips in frames.items()}
    within = max(float(np.linalg.norm(m[0] - m[1])) for m in mean.values())
    across = min(
        float(np.linalg.norm(a - b))
        for la in mean for lb in mean if continent[la] != continent[lb]
        for a in mean[la] for b in mean[lb]
    )  # fmt: skip
    assert 0.5 < within < 25.0 and across > 2 * within, (within, across)  # similar, not identical

    # The sky's hue is the continent's hue family (7 families, 51 degrees apart).
    for lid, clips in frames.items():
        for clip in clips:
            r, g, b = clip[:, 24:52].reshape(-1, 3).mean(axis=0) / 255.0
            hue = colorsys.rgb_to_hsv(r, g, b)[0] * 360.0
            assert _hue_gap(hue, S.CONTINENT_HUE_DEG[continent[lid]]) < 12.0, (lid, hue)

    # Paris and Lyon share continent and country: only the video-identity one has the palette.
    assert (tiny.cues["L0001"].identity_modality, tiny.cues["L0002"].identity_modality) == ("visual", "audio")
    ground = {lid: [c[:, 140:, :].reshape(-1, 3).mean(axis=0) for c in frames[lid]] for lid in ("L0001", "L0002")}
    sky = {lid: [c[:, 24:52].reshape(-1, 3).mean(axis=0) for c in frames[lid]] for lid in ("L0001", "L0002")}
    ground_within = max(float(np.linalg.norm(g[0] - g[1])) for g in ground.values())
    ground_between = min(float(np.linalg.norm(a - b)) for a in ground["L0001"] for b in ground["L0002"])
    assert ground_between > 3 * ground_within, (ground_between, ground_within)
    assert float(np.linalg.norm(np.mean(sky["L0001"], axis=0) - np.mean(sky["L0002"], axis=0))) < 15.0


def test_audio_bands_carry_continent_drone_and_location_chord(tiny):
    videos = _videos(tiny)
    spectra = {lid: [_power_spectrum(_decoded(p)[1]) for p in paths] for lid, paths in videos.items()}
    cues = tiny.cues
    # Drone: the strongest of the 7 continent pitches (+-5 %) is the location's own continent.
    for lid, specs in spectra.items():
        for freqs, power in specs:
            energy = {c: _band(freqs, power, hz, 0.05) for c, hz in S.CONTINENT_DRONE_HZ.items()}
            assert max(energy, key=energy.get) == cues[lid].continent, (lid, energy)
    # Chord: an audio-identity location has far more energy at its tones than any other place.
    audio_ids = [lid for lid, c in cues.items() if c.identity_modality == "audio"]
    assert len(audio_ids) == 2
    for lid in audio_ids:
        for tone in cues[lid].chord_hz:
            own = min(_band(f, p, tone, 0.015) for f, p in spectra[lid])
            others = max(_band(f, p, tone, 0.015) for other, specs in spectra.items() if other != lid for f, p in specs)
            assert own > 10 * others, (lid, tone, own, others)
    # Country: energy around the country's noise band, relative to the same band in other countries.
    for lid, specs in spectra.items():
        band = cues[lid].country_cues.noise_band_hz
        own = min(_band(f, p, band, 0.1) / p.sum() for f, p in specs)
        elsewhere = [
            _band(f, p, band, 0.1) / p.sum()
            for other, other_specs in spectra.items() if cues[other].country != cues[lid].country
            for f, p in other_specs
        ]  # fmt: skip
        assert own > 1.5 * np.median(elsewhere), (lid, band)


def test_nearest_clip_by_simple_features_finds_the_location_in_its_cue_modality(tiny):
    """Clips of video 1 matched to clips of video 0: colour statistics for video-identity places,
    log band energies for audio-identity places."""
    rows = read_manifest(tiny.manifest_path)
    features = {"visual": [], "audio": []}
    keys = []
    for row in rows:
        frames, sound = _clip(resolve_source(row, tiny.manifest_path), row.start_s, row.end_s)
        assert len(frames) == 20 and len(sound) == 10 * S.SAMPLE_RATE
        features["visual"].append(_colour_features(frames))
        features["audio"].append(_log_band_energies(sound))
        keys.append((row.location_id, int(row.source_id.split("-v")[1][:2])))
    location = np.array([k[0] for k in keys])
    video_index = np.array([k[1] for k in keys])
    for modality, values in features.items():
        x = np.array(values)
        x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-9)
        reference, query = video_index == 0, video_index == 1
        distances = ((x[query][:, None] - x[reference][None]) ** 2).sum(axis=-1)
        predicted = location[reference][distances.argmin(axis=1)]
        mine = np.array([tiny.cues[lid].identity_modality == modality for lid in location[query]])
        assert mine.sum() == 4 and (predicted[mine] == location[query][mine]).all(), modality


def test_without_speech_or_a_font_the_set_still_renders(tmp_path, monkeypatch):
    monkeypatch.setattr(S.render, "find_font", lambda: None)  # its home: generate_synth looks it up there
    plain = S.generate_synth(
        tmp_path / "plain", PLACES[:1], videos_per_location=1, clips_per_video=1, video_seconds=10.0, seed=0, workers=1,
        progress=False, speech=False,
    )  # fmt: skip
    info = json.loads((plain.out_dir / "synth.json").read_text())
    assert (info["speech"], info["text"], plain.clips) == (False, False, 1)
    (record,) = read_manifest(plain.manifest_path)
    assert (record.start_s, record.end_s) == (0.0, 10.0)
    frames = _frames(resolve_source(record, plain.manifest_path))
    assert len(frames) == 10 and (frames.min(axis=-1) > 200)[:, 4:20, 6:80].mean() < 0.02  # no label text
    # Another content, another tag: a run with speech and text never reuses these files.
    assert record.source_id != S.plan_video("L0001", 0, seed=0, video_seconds=10.0, tag=S._params_tag(seed=0, video_seconds=10.0, speech=True, text=False)).source_id


# --------------------------------------------------------------------------------------------
# Small pieces


def test_every_mapped_voice_is_spoken_by_espeak_ng():
    for voice in sorted(set(S.ESPEAK_VOICES.values()) | {"en"}):
        done = subprocess.run(["espeak-ng", "-v", voice, "-q", "a"], capture_output=True, timeout=30)
        assert done.returncode == 0, (voice, done.stderr)
    assert len(S.ESPEAK_VOICES) >= 240 and all(re.fullmatch(r"[A-Z]{2}", k) for k in S.ESPEAK_VOICES)


def test_pick_locations_spreads_over_continents():
    table = [
        LocationRecord(f"L{i:04d}", 100 + i, f"P{i}", "", "FR" if c == "EU" else "US", c, 10.0, float(i), 1000)
        for i, c in enumerate(["EU"] * 6 + ["NA"] * 3 + ["AF"] * 1 + ["OC"] * 2, start=1)
    ]
    spread = S.pick_locations(table, 7, seed=0)
    assert len({r.location_id for r in spread}) == 7
    assert {r.continent for r in spread[:4]} == {"EU", "NA", "AF", "OC"}
    assert spread == S.pick_locations(table, 7, seed=0) and spread != S.pick_locations(table, 7, seed=1)
    assert S.pick_locations(table, 3, seed=0, spread=False) == table[:3]
    assert len(S.pick_locations(table, 12, seed=5)) == 12
    with pytest.raises(AvgBenchError, match="has 12"):
        S.pick_locations(table, 13, seed=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(clips_per_video=3, video_seconds=24.0), "do not fit"),
        (dict(videos_per_location=0), "at least 1"),
        (dict(seed=-1), "non-negative"),
        (dict(locations=[]), "at least one location"),
        (dict(locations=[PLACES[0], PLACES[0]]), "listed twice"),
        (dict(workers=0), "at least 1"),
    ],
)
def test_bad_arguments_are_user_errors(tmp_path, kwargs, message):
    arguments = dict(locations=PLACES[:1], videos_per_location=1, clips_per_video=1, video_seconds=10.0, seed=0) | kwargs
    with pytest.raises(AvgBenchError, match=message):
        S.generate_synth(tmp_path / "out", arguments.pop("locations"), **arguments)
    assert not (tmp_path / "out").exists()


def test_cli_writes_a_set_from_a_table(tmp_path):
    from typer.testing import CliRunner

    from avg_bench.cli import app
    from avg_bench.cli import synth as _synth  # noqa: F401  (registers the command until cli/__init__ does)

    table = tmp_path / "places.csv"
    table.write_text(
        "location_id,geonameid,name,admin1,country,continent,lat,lon,population\n"
        "L0007,2988507,Paris,Ile-de-France,FR,EU,48.85341,2.3488,2138551\n"
        "L0009,1850147,Tokyo,Tokyo,JP,AS,35.6895,139.69171,8336599\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    args = ["synth", "--table", str(table), "--locations", "2", "--videos-per-location", "1",
            "--clips-per-video", "1", "--video-seconds", "12", "--out", str(tmp_path / "s"), "--seed", "4"]  # fmt: skip
    done = runner.invoke(app, [*args, "--json"], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout[: done.stdout.rindex("}") + 1])
    assert summary["synthetic"] is True and (summary["clips"], summary["rendered"]) == (2, 2)
    assert {r.location_id for r in read_manifest(tmp_path / "s" / "manifest.jsonl")} == {"L0007", "L0009"}
    again = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert again.exit_code == 0 and "2 clips from 2 synthetic videos (0 rendered, 2 already present)" in " ".join(again.output.split())
    helped = runner.invoke(app, ["synth", "--help"], env={"COLUMNS": "200"})
    assert "avg-bench synth --locations 12 --videos-per-location 5 --out synth/" in helped.output


def test_identity_modalities_use_the_project_vocabulary():
    """cues.json and synth.json store Modality words; the old name "video" is refused with a hint."""
    assert S.MODALITIES == (Modality.AUDIO, Modality.VISUAL)
    cues = S.location_cues(PLACES[0], seed=SEED, identity_modality="visual")
    assert cues.identity_modality is Modality.VISUAL and cues.palette and not cues.chord_hz
    view = json.loads(json.dumps(cues.to_dict()))
    assert view["identity_modality"] == "visual" and view["location"]["modality"] == "visual"
    assert set(view["continent"]) == set(view["country"]) == {"code", "visual", "audio"}
    with pytest.raises(AvgBenchError, match=r"one of audio, visual, found 'video' \(the visual stream is called 'visual'\)"):
        S.location_cues(PLACES[0], seed=SEED, identity_modality="video")
