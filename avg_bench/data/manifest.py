"""Reading and writing build manifests: JSON Lines of :class:`~avg_bench.data.schema.ManifestRecord`.

A manifest is what ``curate`` proposes, a human reviews, and ``build`` materialises. Every row is
validated; a bad row is an error naming ``file:line``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from avg_bench.cache import atomic_write_bytes
from avg_bench.data.schema import ManifestRecord
from avg_bench.errors import InputFileError
from avg_bench.jsonl import FieldProblem, JsonLinesReader


class ManifestFileError(InputFileError):
    """A malformed manifest."""


def read_manifest(path: str | Path) -> list[ManifestRecord]:
    """All rows of a manifest, validated; duplicate clip ids are an error."""
    path = Path(path)
    records: list[ManifestRecord] = []
    first_line: dict[str, int] = {}
    for line, row in JsonLinesReader(path, error=ManifestFileError, watched_keys=("clip_id",)):
        try:
            record = ManifestRecord.from_dict(row)
        except FieldProblem as exc:
            raise ManifestFileError(path, line, str(exc)) from None
        if record.clip_id in first_line:
            raise ManifestFileError(path, line, f"duplicate clip_id {record.clip_id!r} (first on line {first_line[record.clip_id]})")
        first_line[record.clip_id] = line
        records.append(record)
    return records


def write_manifest(records: Iterable[ManifestRecord], path: str | Path) -> None:
    """Write a manifest atomically, one JSON object per line, in the given order."""
    text = "".join(json.dumps(record.to_dict(), ensure_ascii=False) + "\n" for record in records)
    atomic_write_bytes(Path(path), text.encode("utf-8"))


def resolve_source(record: ManifestRecord, manifest_path: Path) -> Path:
    """The local file of a ``file``/``synthetic`` source (paths are relative to the manifest)."""
    source = Path(record.source_uri)
    return source if source.is_absolute() else manifest_path.parent / source
