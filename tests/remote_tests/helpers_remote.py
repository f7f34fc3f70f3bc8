"""Comparing builds: what must be identical between a local, a remote, a resumed and a merged build."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

#: Columns compared row by row (everything but the media bytes, compared by their checksums).
_SKIP = {"video", "audio", "keyframes"}


def clip_checksums(out: Path) -> dict[str, tuple]:
    """clip_id -> checksums and fingerprints of its canonical outputs (from the work folder)."""
    found = {}
    for meta_file in sorted((out / ".work" / "clips").glob("*/clip.json")):
        meta = json.loads(meta_file.read_text())
        found[meta_file.parent.name] = (meta["video_sha256"], meta["audio_sha256"], tuple(meta["keyframe_sha256"]),
                                        tuple(meta["keyframe_phash"]), meta["audio_fingerprint"], meta["duration_s"])
    return found


def shard_rows(out: Path) -> dict[tuple[str, str], list[dict]]:
    """(config, split) -> rows (sorted by clip id) with media replaced by their byte lengths and sha256."""
    import hashlib

    tables = {}
    for shard in sorted((out / "data").glob("*/*.parquet")):
        config, split = shard.parent.name, shard.name.split("-")[0]
        rows = pq.read_table(shard).to_pylist()
        for row in rows:
            for column in _SKIP:
                value = row.pop(column)
                cells = value if isinstance(value, list) else [value]
                row[column] = [hashlib.sha256(c["bytes"]).hexdigest() if c else None for c in cells]
        tables.setdefault((config, split), []).extend(rows)
    return {key: sorted(rows, key=lambda r: r["clip_id"]) for key, rows in tables.items()}


def hidden_labels(labels_dir: Path) -> dict[str, list[dict]]:
    return {p.parent.name: sorted(pq.read_table(p).to_pylist(), key=lambda r: r["clip_id"])
            for p in sorted(labels_dir.glob("*/*.parquet"))}
