"""A finished clip's ``clip.json``: written once its canonical folder is in place, read by every later step.

Local and remote builds save and load clips through these two functions only, so the file's
bytes and the meaning of "this clip is done" (:meth:`avg_bench.data.ledger.Ledger.reconcile`)
are the same whichever path made the clip.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from avg_bench.cache import atomic_write_bytes

if TYPE_CHECKING:  # media pulls in numpy and ffmpeg helpers: not needed to read or write a clip.json
    from avg_bench.data.media import ProcessedClip

CLIP_META = "clip.json"


def save_clip(result: ProcessedClip, *, source_license: str | None = None) -> dict[str, Any]:
    """Write ``clip.json`` into the clip's folder (atomically: its presence means the clip is done); returns it.

    ``source_license`` is the licence the source declares at fetch time (remote sources only).
    """
    meta = result.meta()
    if source_license is not None:
        meta["source_license"] = source_license
    atomic_write_bytes(result.out_dir / CLIP_META, json.dumps(meta).encode())
    return meta


def load_clip(folder: Path) -> dict[str, Any]:
    """A finished clip's metadata, pointing at the folder where it now lives (parts move when merged)."""
    meta = json.loads((folder / CLIP_META).read_text())
    meta["folder"] = str(folder)
    return meta
