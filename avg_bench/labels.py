"""Ground-truth labels for scoring: clip ids, locations, coordinates and the Chain of Region.

Read from JSON Lines or parquet (``clip_id, location_id, lat, lon`` and optionally
``continent, country, admin1, city``). Rows without a hierarchy get one from the gazetteer, the
same one that maps predictions, so truth and prediction are always compared like for like.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

from avg_bench.errors import LabelFileError
from avg_bench.geo.gazetteer import Gazetteer, Hierarchy, default_gazetteer
from avg_bench.jsonl import FieldProblem, JsonLinesReader, coordinate, identifier, optional_string, required

LABEL_COLUMNS = ("clip_id", "location_id", "lat", "lon")
HIERARCHY_COLUMNS = Hierarchy.LEVELS


@dataclass(frozen=True, eq=False)
class Labels:
    """One row per labelled clip, in file order."""

    clip_id: NDArray[np.object_]
    location_id: NDArray[np.object_]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    hierarchy: Hierarchy
    source: str = "<labels>"
    sha256: str | None = None
    #: Dataset revision recorded in the file's metadata, when it has one.
    revision: str | None = None
    index: dict[str, int] = field(init=False, repr=False)
    #: Location of each clip as an integer in ``[0, n_locations)``, the bootstrap's clusters.
    location_index: NDArray[np.intp] = field(init=False, repr=False)
    locations: NDArray[np.object_] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {cid: i for i, cid in enumerate(self.clip_id)})
        # Locations numbered in sorted order, so the bootstrap does not depend on row order.
        first_seen: dict[str, int] = {}
        codes = np.fromiter((first_seen.setdefault(loc, len(first_seen)) for loc in self.location_id), np.intp, len(self))
        names = np.array(list(first_seen), dtype=object)
        order = np.argsort(names.astype(str), kind="stable")
        rank = np.empty(len(order), dtype=np.intp)
        rank[order] = np.arange(len(order))
        object.__setattr__(self, "locations", names[order])
        object.__setattr__(self, "location_index", rank[codes])

    def __len__(self) -> int:
        return len(self.clip_id)

    @property
    def n_locations(self) -> int:
        return len(self.locations)


def load_labels(source: str | Path | Sequence[str | Path], *, gazetteer: Gazetteer | None = None) -> Labels:
    """Labels from a ``.jsonl`` file, or from one or more ``.parquet`` files (e.g. dataset shards)."""
    paths = [Path(source)] if isinstance(source, (str, Path)) else [Path(p) for p in source]
    if not paths:
        raise LabelFileError("<labels>", None, "no label files given")
    if all(p.suffix == ".parquet" for p in paths):
        return _from_parquet(paths, gazetteer)
    if len(paths) == 1:
        reader = JsonLinesReader(paths[0], error=LabelFileError, watched_keys=LABEL_COLUMNS + HIERARCHY_COLUMNS)
        columns = _Columns(str(paths[0]))
        for lines, records in reader.blocks():
            columns.add_block(lines, records)
        return columns.labels(reader.sha256, None, gazetteer)
    raise LabelFileError(", ".join(map(str, paths)), None, "several label files must all be .parquet")


def labels_from_records(records: Iterable[dict], *, source: str = "<labels>", gazetteer: Gazetteer | None = None) -> Labels:
    """Labels from in-memory dicts (the Python API); same checks as a JSON Lines file."""
    columns = _Columns(source)
    for number, record in enumerate(records, start=1):
        columns.add_record(number, dict(record))
    if not columns.lines:
        raise LabelFileError(source, None, "no labels")
    return columns.labels(None, None, gazetteer)


class _Columns:
    """Label columns accumulated block by block; ``row_prefix`` marks parquet rows in messages."""

    def __init__(self, source: str, *, rows: bool = False) -> None:
        self.source = source
        self.rows = rows
        self.clip_id: list[str] = []
        self.location_id: list[str] = []
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.hierarchy: list[tuple[str, ...] | None] = []
        self.lines: list[int] = []

    def error(self, line: int, problem: str) -> LabelFileError:
        if self.rows:
            return LabelFileError(self.source, None, f"row {line}: {problem}")
        return LabelFileError(self.source, line, problem)

    def where(self, line: int) -> str:
        return f"row {line}" if self.rows else f"line {line}"

    def add_block(self, lines: list[int], records: list[dict[str, Any]]) -> None:
        """Vectorised check of the common case; anything unusual goes record by record."""
        try:
            ids = [r["clip_id"] for r in records]
            locations = [r["location_id"] for r in records]
            lats = [r["lat"] for r in records]
            lons = [r["lon"] for r in records]
        except (KeyError, TypeError):
            ids = None
        fast = (
            ids is not None
            and set(map(type, ids)) == {str}
            and set(map(type, locations)) == {str}
            and set(map(type, lats)) | set(map(type, lons)) <= {float, int}
            and all(map(str.strip, ids))
            and all(map(str.strip, locations))
            and not any(len(r) > 4 for r in records)  # hierarchy or extra keys: per record
        )
        if fast:
            lat, lon = np.array(lats, dtype=np.float64), np.array(lons, dtype=np.float64)
            fast = bool(((np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0)).all())
        if not fast:
            for line, record in zip(lines, records):
                self.add_record(line, record)
            return
        self.clip_id += ids
        self.location_id += locations
        self.lat += lats
        self.lon += lons
        self.hierarchy += [None] * len(records)
        self.lines += lines

    def add_record(self, line: int, record: dict[str, Any]) -> None:
        try:
            clip_id = identifier(required(record, "clip_id"), "clip_id")
            location_id = identifier(required(record, "location_id"), "location_id")
            lat = coordinate(required(record, "lat"), "lat", latitude=True)
            lon = coordinate(required(record, "lon"), "lon", latitude=False)
            levels = tuple(optional_string(record, key) for key in HIERARCHY_COLUMNS)
            present = [v is not None for v in levels]
            if any(present) and not all(present):
                missing = ", ".join(k for k, ok in zip(HIERARCHY_COLUMNS, present) if not ok)
                raise FieldProblem(f"hierarchy is incomplete: give all of {', '.join(HIERARCHY_COLUMNS)} or none (missing {missing})")
        except FieldProblem as exc:
            raise self.error(line, str(exc)) from None
        self.clip_id.append(clip_id)
        self.location_id.append(location_id)
        self.lat.append(lat)
        self.lon.append(lon)
        self.hierarchy.append(levels if all(present) else None)
        self.lines.append(line)

    def labels(self, sha256: str | None, revision: str | None, gazetteer: Gazetteer | None) -> Labels:
        clip_id = np.array(self.clip_id, dtype=object)
        if len(set(self.clip_id)) != len(self.clip_id):
            seen: dict[str, int] = {}
            for line, cid in zip(self.lines, self.clip_id):
                if cid in seen:
                    raise self.error(line, f"duplicate clip_id {cid!r} (first on {self.where(seen[cid])})")
                seen[cid] = line
        lat = np.array(self.lat, dtype=np.float64)
        lon = np.array(self.lon, dtype=np.float64)
        return Labels(
            clip_id,
            np.array(self.location_id, dtype=object),
            lat,
            lon,
            _complete_hierarchy(self.hierarchy, lat, lon, gazetteer),
            source=self.source,
            sha256=sha256,
            revision=revision,
        )


def _complete_hierarchy(given: list[tuple | None], lat, lon, gazetteer: Gazetteer | None) -> Hierarchy:
    """Given hierarchy where present; the gazetteer's for the rest."""
    missing = np.fromiter((g is None for g in given), dtype=bool, count=len(given))
    columns = [np.empty(len(given), dtype=object) for _ in HIERARCHY_COLUMNS]
    if missing.any():
        computed = (gazetteer or default_gazetteer()).reverse(lat[missing], lon[missing])
        for column, name in zip(columns, HIERARCHY_COLUMNS):
            column[missing] = computed.level(name)
    for i in np.flatnonzero(~missing):
        for column, value in zip(columns, given[i]):
            column[i] = value
    return Hierarchy(*columns)


def _from_parquet(paths: list[Path], gazetteer: Gazetteer | None) -> Labels:
    import pyarrow.parquet as pq  # only parquet label files pay for pyarrow

    digest = hashlib.sha256()
    revisions: set[str] = set()
    parts: list[_Columns] = []
    for path in paths:
        try:
            parquet = pq.ParquetFile(path)
        except FileNotFoundError:
            raise LabelFileError(path, None, "file not found") from None
        except Exception as exc:  # pyarrow raises several types for a corrupt file
            raise LabelFileError(path, None, f"not a readable parquet file ({exc})") from None
        names = set(parquet.schema_arrow.names)
        absent = [c for c in LABEL_COLUMNS if c not in names]
        if absent:
            hint = " (the labels of hidden splits are held by the leaderboard)" if {"lat", "lon"} & set(absent) else ""
            raise LabelFileError(path, None, f"missing column(s) {', '.join(absent)}{hint}")
        if revision := (parquet.schema_arrow.metadata or {}).get(b"avg_bench.revision"):
            revisions.add(revision.decode())
        wanted = list(LABEL_COLUMNS) + [c for c in HIERARCHY_COLUMNS if c in names]
        table = parquet.read(columns=wanted).to_pydict()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        columns = _Columns(str(path), rows=True)
        records = [dict(zip(wanted, values)) for values in zip(*(table[c] for c in wanted))]
        columns.add_block(list(range(1, len(records) + 1)), records)
        parts.append(columns)
    merged = parts[0] if len(parts) == 1 else _merge(parts, f"{paths[0].parent} ({len(paths)} parquet files)")
    revision = revisions.pop() if len(revisions) == 1 else None
    return merged.labels(digest.hexdigest(), revision, gazetteer)


def _merge(parts: list[_Columns], source: str) -> _Columns:
    merged = _Columns(source, rows=True)
    for part in parts:
        for name in ("clip_id", "location_id", "lat", "lon", "hierarchy", "lines"):
            getattr(merged, name).extend(getattr(part, name))
    return merged
