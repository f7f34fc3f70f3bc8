"""Reading a predictions file against the labels it will be scored on (DESIGN §4).

The format, one JSON object per line::

    {"clip_id": "avg1-000123", "lat": 48.8566, "lon": 2.3522}

Optional keys: ``samples`` (a list of ``[lat, lon]`` pairs, a probabilistic prediction),
``country`` (ISO 3166-1 alpha-2), ``reasoning`` (text). ``"lat": null, "lon": null`` abstains.
Unknown keys are ignored. Only ``lat``/``lon`` are kept in memory, as arrays aligned with the
labels, so memory grows with the number of labelled clips, never with the file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from avg_bench.errors import MissingPredictionsError, PredictionFileError
from avg_bench.jsonl import FieldProblem, JsonLinesReader, coordinate, identifier, json_type, optional_string, required, shown
from avg_bench.labels import Labels

#: Per-clip state of a :class:`PredictionSet`.
MISSING, PREDICTED, ABSTAINED = 0, 1, 2

_ISO2 = re.compile(r"[A-Z]{2}")

PREDICTION_FORMAT = """\
predictions.jsonl: UTF-8 JSON Lines, one object per clip:
  {"clip_id": "avg1-000123", "lat": 48.8566, "lon": 2.3522}
required: clip_id (string), lat in [-90, 90], lon in [-180, 180] (WGS84 degrees, finite)
optional: samples [[lat, lon], ...], country ("FR"), reasoning (text);
          "lat": null, "lon": null abstains; unknown keys are ignored
every labelled clip needs exactly one line (or pass --allow-missing)"""


@dataclass(frozen=True)
class PredictionSet:
    """Predictions aligned with :class:`~avg_bench.labels.Labels` rows."""

    lat: NDArray[np.float64]  # NaN unless PREDICTED
    lon: NDArray[np.float64]
    state: NDArray[np.int8]  # MISSING, PREDICTED or ABSTAINED per labelled clip
    source: str
    sha256: str | None = None

    @property
    def predicted(self) -> NDArray[np.bool_]:
        """Which rows carry coordinates (not abstained, not missing)."""
        return self.state == PREDICTED

    def count(self, state: int) -> int:
        """How many rows are in ``state`` (PREDICTED, ABSTAINED or MISSING)."""
        return int(np.count_nonzero(self.state == state))

    def ensure_complete(self, labels: Labels) -> None:
        """Raise :class:`MissingPredictionsError` unless every labelled clip has a prediction."""
        if (self.state != PREDICTED).any():
            raise MissingPredictionsError(
                self.source,
                labels.clip_id[self.state == MISSING].tolist(),
                labels.clip_id[self.state == ABSTAINED].tolist(),
            )


def read_predictions(source: str | Path | Iterable[Mapping[str, Any]], labels: Labels) -> PredictionSet:
    """Validate and align predictions (a file path, or dicts from the Python API) with ``labels``."""
    if isinstance(source, (str, Path)):
        reader = JsonLinesReader(source, error=PredictionFileError, watched_keys=WATCHED_KEYS)
        aligned = _Aligner(str(source), labels).run(reader.blocks())
        return PredictionSet(*aligned, source=str(source), sha256=reader.sha256)
    name = "<predictions>"
    return PredictionSet(*_Aligner(name, labels).run(_record_blocks(source, name)), source=name)


WATCHED_KEYS = ("clip_id", "lat", "lon", "samples", "country", "reasoning")


def _record_blocks(records: Iterable[Any], name: str) -> Iterator[tuple[list[int], list[dict]]]:
    found = False
    for number, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            raise PredictionFileError(name, number, f"expected a mapping, found {json_type(record)}")
        found = True
        yield [number], [dict(record)]
    if not found:
        raise PredictionFileError(name, None, "no predictions")


class _Aligner:
    """Fills label-aligned arrays from blocks of records.

    Each block first tries a vectorised check of the common case (known string ids, numeric or
    null coordinates in range, nothing else). Anything unusual sends the whole block, unchanged,
    through the per-record checks, which produce the exact message for the first bad line; so the
    fast path decides nothing on its own except "all fine".
    """

    def __init__(self, name: str, labels: Labels) -> None:
        n = len(labels)
        self.name = name
        self.labels = labels
        self.lat = np.full(n, np.nan)
        self.lon = np.full(n, np.nan)
        self.state = np.zeros(n, dtype=np.int8)
        self.first_line = np.zeros(n, dtype=np.int64)

    def run(self, blocks: Iterable[tuple[list[int], list[dict]]]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int8]]:
        for lines, records in blocks:
            if not self._block(lines, records):
                for line, record in zip(lines, records):
                    try:
                        self._record(line, record)
                    except FieldProblem as exc:
                        raise PredictionFileError(self.name, line, str(exc)) from None
        return self.lat, self.lon, self.state

    def _block(self, lines: list[int], records: list[dict]) -> bool:
        index = self.labels.index
        try:
            rows = [index[r["clip_id"]] for r in records]
            lat_values = [r["lat"] for r in records]
            lon_values = [r["lon"] for r in records]
        except (KeyError, TypeError):
            return False
        kinds = set(map(type, lat_values)) | set(map(type, lon_values))
        if not kinds <= {float, int, type(None)}:
            return False
        rows_array = np.array(rows, dtype=np.intp)
        if self.first_line[rows_array].any() or np.bincount(rows_array).max() > 1:
            return False
        try:
            lat = np.array(lat_values, dtype=np.float64)  # None becomes NaN; JSON has no other NaN
            lon = np.array(lon_values, dtype=np.float64)
        except OverflowError:  # an integer beyond the float range: the per-record check words it
            return False
        abstained = np.isnan(lat)
        if (abstained != np.isnan(lon)).any():
            return False
        with np.errstate(invalid="ignore"):
            if not (abstained | ((np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0))).all():
                return False
        try:
            for record in records:
                if len(record) > 3:
                    _check_optional(record)
        except FieldProblem:
            return False
        self.lat[rows_array], self.lon[rows_array] = lat, lon
        self.state[rows_array] = np.where(abstained, ABSTAINED, PREDICTED)
        self.first_line[rows_array] = lines
        return True

    def _record(self, line: int, record: dict) -> None:
        clip_id = identifier(required(record, "clip_id"), "clip_id")
        row = self.labels.index.get(clip_id)
        if row is None:
            raise FieldProblem(_unknown_id_message(clip_id, self.labels))
        if self.first_line[row]:
            raise FieldProblem(f"duplicate clip_id {clip_id!r} (first on line {self.first_line[row]})")
        raw_lat, raw_lon = required(record, "lat"), required(record, "lon")
        if raw_lat is None and raw_lon is None:
            state = ABSTAINED
        elif raw_lat is None or raw_lon is None:
            raise FieldProblem("only one of 'lat' and 'lon' is null; to abstain set both to null")
        else:
            lat = coordinate(raw_lat, "lat", latitude=True)
            lon = coordinate(raw_lon, "lon", latitude=False)
            state = PREDICTED
        _check_optional(record)
        self.first_line[row] = line
        if state == PREDICTED:
            self.lat[row], self.lon[row] = lat, lon
        self.state[row] = state


def _check_optional(record: dict) -> None:
    samples = record.get("samples")
    if samples is not None:
        if not isinstance(samples, list):
            raise FieldProblem(f"field 'samples' must be a list of [lat, lon] pairs, found {json_type(samples)}")
        for i, pair in enumerate(samples):
            if not isinstance(pair, list) or len(pair) != 2:
                raise FieldProblem(f"field 'samples[{i}]' must be a [lat, lon] pair, found {shown(pair)}")
            coordinate(pair[0], f"samples[{i}] lat", latitude=True)
            coordinate(pair[1], f"samples[{i}] lon", latitude=False)
    country = optional_string(record, "country")
    if country is not None and not _ISO2.fullmatch(country):
        raise FieldProblem(f"field 'country' must be an ISO 3166-1 alpha-2 code such as \"FR\", found {shown(country)}")
    optional_string(record, "reasoning")


def _unknown_id_message(clip_id: str, labels: Labels) -> str:
    message = f"unknown clip_id {clip_id!r}: not in the labels ({labels.source})"
    close = difflib.get_close_matches(clip_id, labels.index.keys(), n=1, cutoff=0.8) if len(labels) <= 50_000 else []
    return message + (f"; did you mean {close[0]!r}?" if close else "")
