"""What may leave the operator: the public manifest, and the guard every public artefact passes.

A built dataset folder is public: its shards, ``build_info.json``, the card and the **public
manifest** (``manifest.jsonl``: the manifest rows of the labelled clips, each with the split it has
in each configuration). Hidden clips have no row there: their location, coordinates and source
live only in the operator's ``manifest-hidden.jsonl`` (see :mod:`avg_bench.data.holdout`).

:func:`labels_in_public` is the one guard: ``build`` runs it on what it wrote and ``publish`` before
anything is sent; either refuses a folder where a hidden clip carries a label, a hidden split has a
column outside its allow-list, or the public manifest names a hidden clip.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from avg_bench.cache import atomic_write_bytes
from avg_bench.data.manifest import ManifestFileError
from avg_bench.data.schema import ClipRecord, ManifestRecord, arrow_schema
from avg_bench.jsonl import JsonLinesReader, described
from avg_bench.spec import AVG_V1

PUBLIC_MANIFEST = "manifest.jsonl"


def allowed_columns(split: str) -> tuple[str, ...]:
    """Every shard has the one schema ``datasets`` needs; on a hidden split the label columns stay null."""
    del split  # same names for every split; what differs is which may hold values (see label_columns)
    return tuple(arrow_schema({}).names)


def label_columns(split: str) -> tuple[str, ...]:
    """Columns that must be entirely null in ``split``."""
    return ClipRecord.HIDDEN_COLUMNS if split in AVG_V1.hidden_splits else ()


def write_public_manifest(path: Path, records: Iterable[ManifestRecord], splits: dict[str, dict[str, str]],
                          hidden: set[str]) -> int:
    """The manifest rows of labelled clips, with ``splits`` (config -> split); returns the row count."""
    lines = []
    for record in sorted(records, key=lambda r: r.clip_id):
        if record.clip_id in hidden:
            continue
        placed = {config: by_clip[record.clip_id] for config, by_clip in splits.items() if record.clip_id in by_clip}
        lines.append(json.dumps({**record.to_dict(), "splits": placed}, ensure_ascii=False) + "\n")
    atomic_write_bytes(path, "".join(lines).encode("utf-8"))
    return len(lines)


@dataclass(frozen=True)
class StatedSplits:
    """The ``splits`` fields of a manifest: ``config -> clip_id -> split``, and the line of each clip."""

    by_config: dict[str, dict[str, str]]
    line_of: dict[str, int]
    #: True for a public manifest (every row states its splits); False for the operator's full
    #: manifest (``manifest.jsonl`` + ``manifest-hidden.jsonl``: the hidden rows state none).
    every_row: bool


def read_stated_splits(path: Path) -> StatedSplits | None:
    """The splits a manifest states, if any row does (None for a manifest as ``curate`` writes it).

    A rebuild from the public manifest must keep the published splits: drawing them again over the
    labelled clips alone would move clips between train, val and test. A row may only name a
    labelled split of a known configuration: a public manifest lists no hidden clip.
    """
    by_config: dict[str, dict[str, str]] = {config: {} for config in AVG_V1.configs}
    labelled = [s for s in AVG_V1.splits if s not in AVG_V1.hidden_splits]
    line_of: dict[str, int] = {}
    rows = 0
    for line, row in JsonLinesReader(path, error=ManifestFileError):
        rows += 1
        splits = row.get("splits")
        if splits is None:
            continue
        if not isinstance(splits, dict) or not splits:
            raise ManifestFileError(path, line, f"field 'splits' must map a configuration to its split, found {described(splits)}")
        for config, split in splits.items():
            if config not in by_config:
                raise ManifestFileError(path, line, f"field 'splits' names configuration {config!r}; "
                                                    f"known: {', '.join(AVG_V1.configs)}")
            if split not in labelled:
                raise ManifestFileError(path, line, f"field 'splits' puts the clip in {config} split {split!r}; a public "
                                                    f"manifest lists labelled clips only ({', '.join(labelled)})")
            by_config[config][str(row.get("clip_id"))] = split
        line_of[str(row.get("clip_id"))] = line
    return StatedSplits(by_config, line_of, every_row=len(line_of) == rows) if line_of else None


def stated_split_conflicts(stated: StatedSplits, drawn: dict[str, dict[str, str]]) -> list[tuple[int, str]]:
    """(line, problem) for every stated split the draw does not give, in line order."""
    found = []
    for config, by_clip in stated.by_config.items():
        for clip_id, split in by_clip.items():
            got = drawn.get(config, {}).get(clip_id)
            if got != split:
                found.append((stated.line_of[clip_id], f"clip {clip_id} states {config} {split}, the draw gives {got or 'no split'}"))
    return sorted(found)


def shard_problems(shard: Path, split: str) -> list[tuple[str, str]]:
    """(check, detail) for a shard of ``split``: unknown columns, labels in a hidden split."""
    schema = pq.read_schema(shard)
    allowed = set(allowed_columns(split))
    problems = [("unknown_column", f"column {name!r} is not allowed in a {split} shard")
                for name in schema.names if name not in allowed]
    hidden = [c for c in label_columns(split) if c in schema.names]
    if hidden:
        table = pq.read_table(shard, columns=hidden)
        leaking = [c for c in hidden if table[c].null_count != len(table)]
        if leaking:
            problems.append(("label_leak", f"the hidden {split} split carries {', '.join(leaking)}"))
    return problems


def hidden_ids(folder: Path) -> set[str]:
    """Clip ids of every hidden split of every configuration in a dataset folder."""
    found: set[str] = set()
    for split in AVG_V1.hidden_splits:
        for shard in folder.glob(f"data/*/{split}-*.parquet"):
            found.update(pq.read_table(shard, columns=["clip_id"])["clip_id"].to_pylist())
    return found


def manifest_problems(path: Path, hidden: set[str]) -> list[tuple[str, str, str]]:
    """(check, clip_id or file:line, detail) for public-manifest rows that name a hidden clip."""
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(("manifest_malformed", f"{path.name}:{number}", f"not JSON ({exc.msg})"))
            continue
        if not isinstance(row, dict):
            problems.append(("manifest_malformed", f"{path.name}:{number}", "not a JSON object"))
        elif row.get("clip_id") in hidden:
            labels = [k for k in ("location_id", "lat", "lon", "source_id", "source_uri") if row.get(k) is not None]
            problems.append(("manifest_label_leak", row["clip_id"],
                             f"{path.name}:{number} lists a hidden clip" + (f" with {', '.join(labels)}" if labels else "")))
    return problems


def labels_in_public(folder: Path) -> list[str]:
    """Every reason ``folder`` must not be published (empty when it is fit)."""
    reasons = []
    for shard in sorted(folder.glob("data/*/*.parquet")):
        split = shard.name.split("-")[0]
        reasons += [f"{shard.relative_to(folder).as_posix()}: {detail}" for _, detail in shard_problems(shard, split)]
    manifest = folder / PUBLIC_MANIFEST
    if manifest.is_file():
        reasons += [f"{where}: {detail}" for _, where, detail in manifest_problems(manifest, hidden_ids(folder))]
    return reasons
