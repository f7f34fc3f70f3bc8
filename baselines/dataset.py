"""One split of a built AVG dataset, as predictors see it: ids, labels when public, media on demand.

The shards are read with pyarrow, column by column: the label columns once (small), the media
columns (keyframes, audio) in record batches when a feature extractor asks for them, so a split of
20,000 clips never sits in memory as decoded media. Hidden splits (``test``) load with their labels
left out: a predictor can write leaderboard predictions for them, never score or train on them.

``--data`` is a local dataset folder (``DATA/data/<config>/<split>-*.parquet``) or a Hugging Face
Hub dataset repository (``owner/name``, optionally ``owner/name@revision``), fetched once with
``huggingface_hub.snapshot_download`` into its cache.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from numpy.typing import NDArray

from avg_bench.data.layout import data_dir, split_shards
from avg_bench.errors import AvgBenchError, DatasetNotFoundError
from avg_bench.spec import AVG_V1
from baselines.errors import BaselineInputError

#: ``owner/name`` or ``owner/name@revision``: a Hub dataset repository rather than a folder.
HUB_REPO = re.compile(r"(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?:@(?P<revision>[\w./-]+))?")
_LABEL_COLUMNS = ("lat", "lon", "location_id", "continent", "country", "admin1", "city")
MEDIA_BATCH_ROWS = 64


@dataclass
class ClipSplit:
    """The clips of one split: ids and (for public splits) labels, with media streamed on demand."""

    config: str
    split: str
    shards: list[Path]
    revision: str
    clip_ids: list[str]
    #: Coordinates and hierarchy of every clip; ``None`` on a hidden split.
    lat: NDArray[np.float64] | None
    lon: NDArray[np.float64] | None
    labels: dict[str, list[str | None]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.clip_ids)

    @property
    def labelled(self) -> bool:
        """Whether the split carries coordinates (train and labelled eval splits do)."""
        return self.lat is not None

    @property
    def key(self) -> str:
        """What identifies this split's content in caches: revision, config and split."""
        return f"{self.revision}/{self.config}/{self.split}"

    def require_labels(self, why: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The split's coordinates, or a user error naming ``why`` they are needed."""
        if self.lat is None or self.lon is None:
            raise AvgBenchError(f"the {self.split!r} split has no labels, but {why} needs them")
        return self.lat, self.lon

    def head(self, n: int) -> ClipSplit:
        """The first ``n`` clips only (``--limit``: a quick look before a full run)."""
        if n < 1:
            raise AvgBenchError(f"--limit must be >= 1, found {n}")
        return replace(
            self,
            clip_ids=self.clip_ids[:n],
            lat=None if self.lat is None else self.lat[:n],
            lon=None if self.lon is None else self.lon[:n],
            labels={key: values[:n] for key, values in self.labels.items()},
        )

    def iter_media(self, column: str, *, batch_rows: int = MEDIA_BATCH_ROWS) -> Iterator[list]:
        """Batches of one media column in clip order: ``bytes`` per clip (``keyframes``: a list)."""
        if column not in ("audio", "video", "keyframes"):
            raise BaselineInputError(f"unknown media column {column!r}")
        left = len(self.clip_ids)
        for shard in self.shards:
            for batch in pq.ParquetFile(shard).iter_batches(batch_size=batch_rows, columns=[column]):
                cells = batch.column(0).to_pylist()[:left]
                left -= len(cells)
                if column == "keyframes":
                    yield [[frame["bytes"] for frame in cell or []] for cell in cells]
                else:
                    yield [cell["bytes"] if cell else None for cell in cells]
                if left == 0:
                    return


def resolve_data(data: str | Path | None, *, config: str) -> Path:
    """A local dataset root for ``--data``: a folder as is, a Hub repository fetched to the cache."""
    if data is None or Path(data).exists():
        return data_dir(data)
    match = HUB_REPO.fullmatch(str(data))
    if not match:
        raise DatasetNotFoundError(f"--data {data}: no such folder (and not a Hub repository name owner/name)")
    return _from_hub(match["repo"], match["revision"], config)


def _from_hub(repo: str, revision: str | None, config: str) -> Path:
    """Fetch one configuration's shards from the Hub (cached by huggingface_hub, resumable)."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - huggingface_hub comes with the hf extra
        raise AvgBenchError("reading a Hub dataset needs huggingface_hub: pip install 'avg-bench[hf]'") from exc
    try:
        path = snapshot_download(
            repo, repo_type="dataset", revision=revision, allow_patterns=[f"data/{config}/*", "*.md", "*.json"]
        )
    except Exception as exc:  # network, auth or missing repo: one clear line, not a traceback
        raise DatasetNotFoundError(
            f"could not fetch {repo}{'@' + revision if revision else ''} from the Hugging Face Hub "
            f"({type(exc).__name__}: {exc}); download it with `avg-bench download` or pass a local --data folder"
        ) from exc
    return Path(path)


def load_split(data: str | Path | None, split: str, *, config: str = "seen") -> ClipSplit:
    """Read a split's ids and labels (hidden splits: ids only)."""
    root = resolve_data(data, config=config)
    shards = split_shards(split, config=config, root=root, allow_hidden=True)
    hidden = split in AVG_V1.hidden_splits
    columns = ["clip_id"] if hidden else ["clip_id", *_LABEL_COLUMNS]
    tables = [pq.read_table(shard, columns=columns) for shard in shards]
    revisions = {(pq.read_schema(shard).metadata or {}).get(b"avg_bench.revision", b"").decode() for shard in shards}
    if len(revisions) != 1:
        raise AvgBenchError(f"the {config}/{split} shards mix dataset revisions {sorted(revisions)}: rebuild or re-download")
    values = {name: [v for t in tables for v in t.column(name).to_pylist()] for name in columns}
    lat = lon = None
    if not hidden:
        lat = np.asarray(values.pop("lat"), dtype=np.float64)
        lon = np.asarray(values.pop("lon"), dtype=np.float64)
    return ClipSplit(
        config=config,
        split=split,
        shards=shards,
        revision=revisions.pop() or "unknown",
        clip_ids=values.pop("clip_id"),
        lat=lat,
        lon=lon,
        labels=values,
    )
