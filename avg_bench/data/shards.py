"""Parquet shards with media embedded, readable by ``datasets.load_dataset`` without a script.

Layout: ``DIR/data/<config>/<split>-<i>-of-<n>.parquet`` (see :mod:`avg_bench.data.layout`).
Each file's schema metadata carries the Hugging Face features (``Video``, ``Audio``, a list of
``Image``), so ``datasets`` decodes the media columns, plus the dataset revision, which the scorer
records in results. Rows of hidden splits have every answer-revealing column set to null.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from avg_bench.data.schema import MEDIA_COLUMNS, arrow_schema

#: Shards are cut when they reach this many bytes of row data (Hub-friendly, <= ~500 MB files).
MAX_SHARD_BYTES = 450 * 2**20
ROW_GROUP_ROWS = 64

def media_value(path: Path | None) -> dict | None:
    """A media cell: the file's bytes and its name (``datasets`` decodes from the bytes)."""
    if path is None:
        return None
    return {"bytes": Path(path).read_bytes(), "path": Path(path).name}


def write_split(
    rows: Iterable[dict],
    folder: Path,
    split: str,
    *,
    metadata: dict[str, str],
    max_shard_bytes: int = MAX_SHARD_BYTES,
) -> list[Path]:
    """Write ``rows`` (dicts with every column) as ``<split>-<i>-of-<n>.parquet`` shards.

    Shards are written under temporary names and renamed only once all are complete, so an
    interrupted run never leaves files that look like a finished split.
    """
    schema = arrow_schema(metadata)
    names = schema.names
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f"{split}-*.parquet"):
        stale.unlink()
    temporary: list[Path] = []
    for batch in _batches(rows, max_shard_bytes):
        table = pa.Table.from_pylist([{name: row.get(name) for name in names} for row in batch], schema=schema)
        path = folder / f".{split}-{len(temporary):05d}.parquet.tmp"
        pq.write_table(table, path, row_group_size=ROW_GROUP_ROWS, compression="zstd")
        temporary.append(path)
    if not temporary:  # an empty split still gets a (schema-only) shard, so every config has every split
        path = folder / f".{split}-00000.parquet.tmp"
        pq.write_table(schema.empty_table(), path)
        temporary.append(path)
    final = []
    for i, path in enumerate(temporary):
        target = folder / f"{split}-{i:05d}-of-{len(temporary):05d}.parquet"
        path.replace(target)
        final.append(target)
    return final


def _batches(rows: Iterable[dict], max_bytes: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    size = 0
    for row in rows:
        row_bytes = sum(_cell_bytes(row.get(name)) for name in MEDIA_COLUMNS)
        if batch and size + row_bytes > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(row)
        size += row_bytes
    if batch:
        yield batch


def _cell_bytes(value) -> int:
    if value is None:
        return 0
    if isinstance(value, list):
        return sum(_cell_bytes(v) for v in value)
    return len(value.get("bytes") or b"")
