"""Small clip splits with generated media (tones as FLAC, solid colours as JPEG) for feature tests."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from baselines.dataset import ClipSplit

RATE = 16_000


def tone_flac(frequency: float, seconds: float = 10.0, amplitude: float = 0.3) -> bytes:
    import soundfile

    t = np.arange(int(seconds * RATE)) / RATE
    buffer = io.BytesIO()
    soundfile.write(buffer, (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32), RATE, format="FLAC")
    return buffer.getvalue()


def solid_jpeg(rgb: tuple[int, int, int], size: tuple[int, int] = (384, 216)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, rgb).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def media_split(folder: Path, tones: list[float], colours: list[tuple[int, int, int]], *, revision: str = "test@1") -> ClipSplit:
    """One clip per (tone, colour): its audio a pure tone, its 4 keyframes one solid colour."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"m-{i:010x}" for i in range(len(tones))]
    table = pa.table({
        "clip_id": ids,
        "audio": [{"bytes": tone_flac(f), "path": "audio.flac"} for f in tones],
        "keyframes": [[{"bytes": solid_jpeg(c), "path": f"k{k}.jpg"} for k in range(4)] for c in colours],
    })
    path = folder / "val-00000-of-00001.parquet"
    pq.write_table(table, path, row_group_size=2)
    return ClipSplit("seen", "val", [path], revision, ids, np.zeros(len(ids)), np.zeros(len(ids)))
