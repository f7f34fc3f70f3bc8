"""clip.json: the body comes from ProcessedClip.meta(), one writer and one reader for local and remote builds."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

from avg_bench.data.clip_store import CLIP_META, load_clip, save_clip
from avg_bench.data.media import ProcessedClip
from avg_bench.data.media_info import MediaInfo


def _clip(folder: Path, *, audio: bool = True) -> ProcessedClip:
    folder.mkdir(parents=True)
    info = MediaInfo(path=folder / "clip.mp4", format_name="mov,mp4", duration_s=10.0, has_video=True,
                     has_audio=audio, sample_aspect_ratio=Fraction(1))
    return ProcessedClip(
        out_dir=folder, video_path=folder / "clip.mp4", audio_path=folder / "audio.flac" if audio else None,
        keyframe_paths=(folder / "keyframe_0.jpg", folder / "keyframe_1.jpg"), video_sha256="v" * 64,
        audio_sha256="a" * 64 if audio else "", keyframe_sha256=("k0", "k1"), duration_s=10.000000001, info=info,
        keyframe_phash=("p0", "p1"), audio_fingerprint="fp" if audio else "", failed_checks=() if audio else ("no_audio",))


def test_clip_json_has_the_fixed_keys_in_order_and_relative_paths(tmp_path):
    folder = tmp_path / "clips" / "c1"
    meta = save_clip(_clip(folder), source_license="CC BY 4.0")
    written = (folder / CLIP_META).read_text()
    assert json.loads(written) == meta
    # The byte layout of clip.json is part of the on-disk format: key order as before the refactor.
    assert list(meta) == ["video", "audio", "keyframes", "video_sha256", "audio_sha256", "keyframe_sha256",
                          "keyframe_phash", "audio_fingerprint", "duration_s", "checks_failed", "folder", "source_license"]
    assert meta["video"] == "clip.mp4" and meta["audio"] == "audio.flac"
    assert meta["keyframes"] == ["keyframe_0.jpg", "keyframe_1.jpg"]
    assert meta["folder"] == str(folder) and meta["source_license"] == "CC BY 4.0"


def test_a_local_clip_has_no_licence_key_and_no_audio_is_empty_strings(tmp_path):
    meta = save_clip(_clip(tmp_path / "c2", audio=False))
    assert "source_license" not in meta
    assert meta["audio"] is None and meta["audio_sha256"] == "" and meta["audio_fingerprint"] == ""
    assert meta["checks_failed"] == ["no_audio"]


def test_a_moved_clip_folder_loads_pointing_at_its_new_place(tmp_path):
    """--merge copies part folders: the loaded clip must point where it lives now, not where it was made."""
    old = tmp_path / "part0" / "c3"
    save_clip(_clip(old))
    new = tmp_path / "merged" / "c3"
    new.parent.mkdir()
    shutil.move(str(old), str(new))
    loaded = load_clip(new)
    assert loaded["folder"] == str(new)
    assert (Path(loaded["folder"]) / loaded["video"]) == new / "clip.mp4"
