"""Ground-truth labels for scoring: clip ids, locations, coordinates and the Chain of Region.

Read from JSON Lines or parquet (``clip_id, location_id, lat, lon`` and optionally
``continent, country, admin1, city``). The hierarchy of every row comes from the label's
coordinates through the gazetteer that maps predictions, so truth and prediction are always
compared like for like. Hierarchy fields in the file are never preferred: by default they are
checked against the gazetteer, and a disagreement (labels geocoded by another tool) is an error
naming the line or row; ``label_hierarchy="ignore"`` drops them instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from avg_bench.errors import LabelFileError
from avg_bench.geo.gazetteer import Gazetteer, Hierarchy, default_gazetteer
from avg_bench.jsonl import FieldProblem, JsonLinesReader, coordinate, identifier, optional_string, required

LABEL_COLUMNS = ("clip_id", "location_id", "lat", "lon")
HIERARCHY_COLUMNS = Hierarchy.LEVELS
#: What to do with hierarchy fields in a labels file: check them against the gazetteer, or ignore them.
LabelHierarchy = Literal["check", "ignore"]
LABEL_HIERARCHY_MODES = ("check", "ignore")


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
    #: Whether the rows are AVG-Synth's procedurally generated clips (their ``synthetic`` column).
    synthetic: bool | None = None
    #: Split named in the file's metadata (hidden-label files of the operator say ``test``).
    split: str | None = None
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
        """Distinct locations among the labelled clips (the bootstrap's clusters)."""
        return len(self.locations)


def load_labels(
    source: str | Path | Sequence[str | Path], *, gazetteer: Gazetteer | None = None, label_hierarchy: LabelHierarchy = "check"
) -> Labels:
    """Labels from a ``.jsonl`` file, or from one or more ``.parquet`` files (e.g. dataset shards).

    Args:
        source: one label file, or several parquet files read as one table.
        gazetteer: the gazetteer that gives each clip's hierarchy (default: the shipped one).
        label_hierarchy: ``"check"`` (default): hierarchy fields in the file must equal what the
            gazetteer gives for the row's coordinates, else :class:`LabelFileError` names the row;
            ``"ignore"``: the file's hierarchy fields are dropped. Either way the gazetteer's is used.
    """
    _check_mode(label_hierarchy)
    paths = [Path(source)] if isinstance(source, (str, Path)) else [Path(p) for p in source]
    if not paths:
        raise LabelFileError("<labels>", None, "no label files given")
    if all(p.suffix == ".parquet" for p in paths):
        return _from_parquet(paths, gazetteer, label_hierarchy)
    if len(paths) == 1:
        reader = JsonLinesReader(paths[0], error=LabelFileError, watched_keys=LABEL_COLUMNS + HIERARCHY_COLUMNS)
        columns = _Columns(str(paths[0]))
        for lines, records in reader.blocks():
            columns.add_block(lines, records)
        return columns.labels(reader.sha256, None, gazetteer, label_hierarchy)
    raise LabelFileError(", ".join(map(str, paths)), None, "several label files must all be .parquet")


def labels_from_records(
    records: Iterable[dict], *, source: str = "<labels>", gazetteer: Gazetteer | None = None, label_hierarchy: LabelHierarchy = "check"
) -> Labels:
    """Labels from in-memory dicts (the Python API); same checks as a JSON Lines file."""
    _check_mode(label_hierarchy)
    columns = _Columns(source)
    for number, record in enumerate(records, start=1):
        columns.add_record(number, dict(record))
    if not columns.lines:
        raise LabelFileError(source, None, "no labels")
    return columns.labels(None, None, gazetteer, label_hierarchy)


def _check_mode(label_hierarchy: str) -> None:
    if label_hierarchy not in LABEL_HIERARCHY_MODES:
        raise ValueError(f"label_hierarchy must be one of {', '.join(LABEL_HIERARCHY_MODES)}, found {label_hierarchy!r}")


class _Columns:
    """Label columns accumulated block by block; ``rows`` marks parquet rows in messages."""

    def __init__(self, source: str, *, rows: bool = False) -> None:
        self.source = source
        self.rows = rows
        self.values: dict[str, list] = {name: [] for name in LABEL_COLUMNS + HIERARCHY_COLUMNS}
        self.lines: list[int] = []
        #: The file of each row, once parts of several files are merged.
        self.origins: list[str] = []

    def error(self, line: int, problem: str, *, origin: str | None = None) -> LabelFileError:
        if self.rows:
            return LabelFileError(origin or self.source, None, f"row {line}: {problem}")
        return LabelFileError(origin or self.source, line, problem)

    def where(self, line: int) -> str:
        return f"row {line}" if self.rows else f"line {line}"

    def add_block(self, lines: list[int], records: list[dict[str, Any]]) -> None:
        """Records of one block: bulk-checked by column when they share the usual keys."""
        widths = set(map(len, records))
        names = LABEL_COLUMNS if widths == {len(LABEL_COLUMNS)} else LABEL_COLUMNS + HIERARCHY_COLUMNS
        try:
            columns = {name: [r[name] for r in records] for name in names}
        except KeyError:
            columns = None
        if columns is None or widths != {len(names)} or not self.add_columns(lines, columns):
            for line, record in zip(lines, records):
                self.add_record(line, record)

    def add_columns(self, lines: list[int], columns: dict[str, list]) -> bool:
        """Append whole columns if every value is of the common, valid kind; else change nothing."""
        ids, locations = columns["clip_id"], columns["location_id"]
        if set(map(type, ids)) != {str} or set(map(type, locations)) != {str}:
            return False
        if not (all(map(str.strip, ids)) and all(map(str.strip, locations))):
            return False
        if not set(map(type, columns["lat"])) | set(map(type, columns["lon"])) <= {float, int}:
            return False
        try:
            lat = np.array(columns["lat"], dtype=np.float64)
            lon = np.array(columns["lon"], dtype=np.float64)
        except OverflowError:  # an integer beyond the float range: the per-record check words it
            return False
        if not ((np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0)).all():
            return False
        given = [name for name in HIERARCHY_COLUMNS if name in columns]
        if given and (len(given) < len(HIERARCHY_COLUMNS) or any(set(map(type, columns[n])) != {str} for n in given)):
            return False
        for name in LABEL_COLUMNS:
            self.values[name].extend(columns[name])
        for name in HIERARCHY_COLUMNS:
            self.values[name].extend(columns[name] if given else [None] * len(ids))
        self.lines.extend(lines)
        return True

    def add_record(self, line: int, record: dict[str, Any]) -> None:
        try:
            parsed = {
                "clip_id": identifier(required(record, "clip_id"), "clip_id"),
                "location_id": identifier(required(record, "location_id"), "location_id"),
                "lat": coordinate(required(record, "lat"), "lat", latitude=True),
                "lon": coordinate(required(record, "lon"), "lon", latitude=False),
            }
            levels = {key: optional_string(record, key) for key in HIERARCHY_COLUMNS}
            present = [v is not None for v in levels.values()]
            if any(present) and not all(present):
                missing = ", ".join(k for k, ok in zip(HIERARCHY_COLUMNS, present) if not ok)
                raise FieldProblem(f"hierarchy is incomplete: give all of {', '.join(HIERARCHY_COLUMNS)} or none (missing {missing})")
        except FieldProblem as exc:
            raise self.error(line, str(exc)) from None
        for name, value in {**parsed, **levels}.items():
            self.values[name].append(value)
        self.lines.append(line)

    def hierarchy(self, lat: NDArray[np.float64], lon: NDArray[np.float64], gazetteer: Gazetteer, mode: LabelHierarchy) -> Hierarchy:
        """The gazetteer's hierarchy of every row; in ``check`` mode, the file's must agree with it."""
        derived = gazetteer.reverse(lat, lon)
        if mode == "ignore":
            return derived
        given = np.array(self.values["country"], dtype=object) != None  # noqa: E711  (elementwise)
        for name in HIERARCHY_COLUMNS:
            column = np.array(self.values[name], dtype=object)
            differs = np.flatnonzero(given & (column != derived.level(name)))
            if differs.size:
                i = int(differs[0])
                more = f" (and {differs.size - 1} more rows)" if differs.size > 1 else ""
                raise self.error(
                    self.lines[i], origin=self.origins[i] if self.origins else None, problem=
                    f"field {name!r} is {column[i]!r}, but the gazetteer gives {derived.level(name)[i]!r} for "
                    f"({lat[i]:.6f}, {lon[i]:.6f}){more}. The scorer derives the hierarchy from the coordinates with the "
                    "same gazetteer as the predictions; drop the hierarchy fields, or pass --label-hierarchy ignore "
                    "(label_hierarchy='ignore') to score with the gazetteer's",
                )
        return derived

    def extend(self, other: _Columns) -> None:
        for name, values in other.values.items():
            self.values[name].extend(values)
        self.lines.extend(other.lines)
        self.origins.extend(other.origins or [other.source] * len(other.lines))

    def labels(self, sha256: str | None, revision: str | None, gazetteer: Gazetteer | None, label_hierarchy: LabelHierarchy,
               **provenance: Any) -> Labels:
        ids = self.values["clip_id"]
        if len(set(ids)) != len(ids):
            seen: dict[str, int] = {}
            for line, clip_id in zip(self.lines, ids):
                if clip_id in seen:
                    raise self.error(line, f"duplicate clip_id {clip_id!r} (first on {self.where(seen[clip_id])})")
                seen[clip_id] = line
        lat = np.array(self.values["lat"], dtype=np.float64)
        lon = np.array(self.values["lon"], dtype=np.float64)
        return Labels(
            np.array(ids, dtype=object),
            np.array(self.values["location_id"], dtype=object),
            lat,
            lon,
            self.hierarchy(lat, lon, gazetteer or default_gazetteer(), label_hierarchy),
            source=self.source,
            sha256=sha256,
            revision=revision,
            **provenance,
        )


def _from_parquet(paths: list[Path], gazetteer: Gazetteer | None, label_hierarchy: LabelHierarchy) -> Labels:
    import pyarrow.parquet as pq  # only parquet label files pay for pyarrow

    digest = hashlib.sha256()
    revisions: set[str] = set()
    splits: set[str] = set()
    synthetic: set[bool] = set()
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
        metadata = parquet.schema_arrow.metadata or {}
        if revision := metadata.get(b"avg_bench.revision"):
            revisions.add(revision.decode())
        if split := metadata.get(b"avg_bench.split"):
            splits.add(split.decode())
        if "synthetic" in names:
            synthetic.update(v is True for v in parquet.read(columns=["synthetic"]).column("synthetic").to_pylist())
        wanted = list(LABEL_COLUMNS) + [c for c in HIERARCHY_COLUMNS if c in names]
        arrow = parquet.read(columns=wanted)
        if arrow.num_rows and arrow.column("lat").null_count == arrow.num_rows:
            raise LabelFileError(path, None, "every lat is null: this is a hidden split, whose labels are held by the leaderboard")
        table = arrow.to_pydict()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        columns = _Columns(str(path), rows=True)
        rows = list(range(1, parquet.metadata.num_rows + 1))
        if not columns.add_columns(rows, table):
            for row, values in zip(rows, zip(*(table[c] for c in wanted))):
                columns.add_record(row, dict(zip(wanted, values)))
        parts.append(columns)
    merged = parts[0] if len(parts) == 1 else _merge(parts, f"{paths[0].parent} ({len(paths)} parquet files)")
    revision = revisions.pop() if len(revisions) == 1 else None
    return merged.labels(
        digest.hexdigest(),
        revision,
        gazetteer,
        label_hierarchy,
        synthetic=(True in synthetic) if synthetic else None,  # one synthetic clip makes it synthetic
        split=splits.pop() if len(splits) == 1 else None,
    )


def _merge(parts: list[_Columns], source: str) -> _Columns:
    merged = _Columns(source, rows=True)
    for part in parts:
        merged.extend(part)
    return merged
