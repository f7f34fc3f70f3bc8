"""The records of the AVG dataset, their validation, and their parquet schema.

Three records, used by every part (curate, build, validate, the leaderboard):

* :class:`LocationRecord`: one of the benchmark's places (the shipped locations table);
* :class:`ManifestRecord`: one clip to build: which source, which seconds, which location;
* :class:`ClipRecord`: one built clip: the manifest fields plus split, hierarchy, checksums and
  fingerprints (the media bytes travel beside it, in the shards);

and the parquet schema of the shards (:func:`arrow_schema`), with the Hugging Face features that
let ``datasets`` decode the media columns.

Validation raises :class:`~avg_bench.jsonl.FieldProblem` naming the field; file readers add the
file and line.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import pyarrow as pa

from avg_bench.jsonl import FieldProblem, coordinate, described, identifier, required

#: ``L0001`` .. ``L9999``: location ids of the shipped table.
LOCATION_ID = re.compile(r"L\d{4}")
#: Opaque clip ids: a short prefix, a dash, 10 lower-case hex digits (a hash, never a position).
CLIP_ID = re.compile(r"[a-z][a-z0-9]{1,15}-[0-9a-f]{10}")
COORD_SOURCES = ("centroid", "geotag", "manual")
CONTINENTS = ("AF", "AN", "AS", "EU", "NA", "OC", "SA")
#: Where a source video lives: a platform fetched with yt-dlp, a URL, or a local file.
PLATFORMS = ("youtube", "vimeo", "http", "file", "synthetic")


def _string(record: dict, key: str, *, pattern: re.Pattern | None = None, choices: tuple | None = None) -> str:
    value = required(record, key)
    if not isinstance(value, str) or not value:
        raise FieldProblem(f"field {key!r} must be a non-empty string, found {described(value)}")
    if pattern is not None and not pattern.fullmatch(value):
        raise FieldProblem(f"field {key!r} = {value!r} does not match the expected format {pattern.pattern}")
    if choices is not None and value not in choices:
        raise FieldProblem(f"field {key!r} = {value!r} is not one of {', '.join(choices)}")
    return value


def _number(record: dict, key: str, *, minimum: float | None = None, integer: bool = False) -> float:
    value = required(record, key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        kind = "an integer" if integer else "a number"
        raise FieldProblem(f"field {key!r} must be {kind}, found {described(value)}")
    if not math.isfinite(value):
        raise FieldProblem(f"field {key!r} must be finite, found {value}")
    if minimum is not None and value < minimum:
        raise FieldProblem(f"field {key!r} must be >= {minimum:g}, found {value!r}")
    return float(value)


def _integer(record: dict, key: str, *, minimum: int | None = None) -> int:
    return int(_number(record, key, minimum=minimum, integer=True))


@dataclass(frozen=True)
class LocationRecord:
    """One benchmark location: a GeoNames populated place."""

    location_id: str
    geonameid: int
    name: str
    admin1: str
    country: str
    continent: str
    lat: float
    lon: float
    population: int

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> LocationRecord:
        """A location from one row of the locations table; a bad field raises FieldProblem naming it."""
        return cls(
            location_id=_string(record, "location_id", pattern=LOCATION_ID),
            geonameid=_integer(record, "geonameid", minimum=1),
            name=_string(record, "name"),
            admin1=record.get("admin1") or "",
            country=_string(record, "country", pattern=re.compile(r"[A-Z]{2}")),
            continent=_string(record, "continent", choices=CONTINENTS),
            lat=coordinate(required(record, "lat"), "lat", latitude=True),
            lon=coordinate(required(record, "lon"), "lon", latitude=False),
            population=_integer(record, "population", minimum=0),
        )


@dataclass(frozen=True)
class ManifestRecord:
    """One clip to build: ``end_s - start_s`` seconds of one source video, at one location."""

    clip_id: str
    location_id: str
    source_platform: str
    source_id: str
    #: Where to fetch it: a URL, a yt-dlp target, or a local path (relative to the manifest).
    source_uri: str
    start_s: float
    end_s: float
    lat: float
    lon: float
    coord_source: str
    license: str
    synthetic: bool = False

    @property
    def source_key(self) -> str:
        """The source video's identity: splits keep every source in one split."""
        return f"{self.source_platform}:{self.source_id}"

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> ManifestRecord:
        """A clip from one manifest line; a bad field raises FieldProblem naming it."""
        start = _number(record, "start_s", minimum=0.0)
        end = _number(record, "end_s", minimum=0.0)
        if end <= start:
            raise FieldProblem(f"field 'end_s' ({end:g}) must be greater than 'start_s' ({start:g})")
        synthetic = record.get("synthetic", False)
        if not isinstance(synthetic, bool):
            raise FieldProblem(f"field 'synthetic' must be true or false, found {described(synthetic)}")
        return cls(
            clip_id=_string(record, "clip_id", pattern=CLIP_ID),
            location_id=_string(record, "location_id", pattern=LOCATION_ID),
            source_platform=_string(record, "source_platform", choices=PLATFORMS),
            source_id=identifier(required(record, "source_id"), "source_id"),
            source_uri=_string(record, "source_uri"),
            start_s=start,
            end_s=end,
            lat=coordinate(required(record, "lat"), "lat", latitude=True),
            lon=coordinate(required(record, "lon"), "lon", latitude=False),
            coord_source=_string(record, "coord_source", choices=COORD_SOURCES),
            license=_string(record, "license"),
            synthetic=synthetic,
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as a plain dict (the manifest's JSON Lines form)."""
        return asdict(self)


@dataclass(frozen=True)
class ClipRecord:
    """One built clip's metadata (its media bytes live in the shard row beside it)."""

    clip_id: str
    location_id: str
    split: str
    lat: float
    lon: float
    coord_source: str
    continent: str
    country: str
    admin1: str
    city: str
    license: str
    duration_s: float
    source_platform: str
    source_id: str
    source_start_s: float
    source_end_s: float
    video_sha256: str
    audio_sha256: str
    keyframe_sha256: list[str] = field(default_factory=list)
    #: 64-bit perceptual hashes (16 hex digits) of the keyframes, for near-duplicate search.
    keyframe_phash: list[str] = field(default_factory=list)
    #: Compact audio fingerprint (hex), for near-duplicate search.
    audio_fingerprint: str = ""
    #: Content checks this clip failed (no_audio, silent_audio, black_video, frozen_video, wrong_duration).
    checks_failed: list[str] = field(default_factory=list)
    synthetic: bool = False

    #: Columns withheld from hidden splits (they would give the answer away).
    HIDDEN_COLUMNS: ClassVar[tuple[str, ...]] = (
        "location_id", "lat", "lon", "coord_source", "continent", "country", "admin1", "city",
        "source_platform", "source_id", "source_start_s", "source_end_s",
    )

    def to_dict(self) -> dict[str, Any]:
        """The record as a plain dict (one row of a shard, before media columns are added)."""
        return asdict(self)


# The parquet schema of dataset shards: (column, arrow type, Hugging Face feature) in file order.
_MEDIA = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
_COLUMNS: list[tuple[str, pa.DataType, dict]] = [
    ("clip_id", pa.string(), {"dtype": "string", "_type": "Value"}),
    ("split", pa.string(), {"dtype": "string", "_type": "Value"}),
    ("location_id", pa.string(), {"dtype": "string", "_type": "Value"}),
    ("lat", pa.float64(), {"dtype": "float64", "_type": "Value"}),
    ("lon", pa.float64(), {"dtype": "float64", "_type": "Value"}),
    ("coord_source", pa.string(), {"dtype": "string", "_type": "Value"}),
    ("continent", pa.string(), {"dtype": "string", "_type": "Value"}),
    ("country", pa.string(), {"dtype": "string", "_type": "Value"}),
    ("admin1", pa.string(), {"dtype": "string", "_type": "Value"}),
    ("city", pa.string(), {"dtype": "string", "_type": "Value"}),
    ("license", pa.string(), {"dtype": "string", "_type": "Value"}),
    ("duration_s", pa.float64(), {"dtype": "float64", "_type": "Value"}),
    ("source_platform", pa.string(), {"dtype": "string", "_type": "Value"}),
    ("source_id", pa.string(), {"dtype": "string", "_type": "Value"}),
    ("source_start_s", pa.float64(), {"dtype": "float64", "_type": "Value"}),
    ("source_end_s", pa.float64(), {"dtype": "float64", "_type": "Value"}),
    ("synthetic", pa.bool_(), {"dtype": "bool", "_type": "Value"}),
    ("video", _MEDIA, {"_type": "Video"}),
    ("audio", _MEDIA, {"_type": "Audio"}),
    ("keyframes", pa.list_(_MEDIA), {"feature": {"_type": "Image"}, "_type": "List"}),
    ("video_sha256", pa.string(), {"dtype": "string", "_type": "Value"}),
    ("audio_sha256", pa.string(), {"dtype": "string", "_type": "Value"}),
    ("keyframe_sha256", pa.list_(pa.string()), {"feature": {"dtype": "string", "_type": "Value"}, "_type": "List"}),
    ("keyframe_phash", pa.list_(pa.string()), {"feature": {"dtype": "string", "_type": "Value"}, "_type": "List"}),
    ("audio_fingerprint", pa.string(), {"dtype": "string", "_type": "Value"}),
    ("checks_failed", pa.list_(pa.string()), {"feature": {"dtype": "string", "_type": "Value"}, "_type": "List"}),
]
MEDIA_COLUMNS = ("video", "audio", "keyframes")


def features() -> dict:
    """Hugging Face ``Features.to_dict()`` of the shard columns."""
    return {name: feature for name, _, feature in _COLUMNS}


def arrow_schema(metadata: dict[str, str]) -> pa.Schema:
    """The arrow schema of every shard, with the features metadata ``datasets`` reads.

    One schema for every split: ``datasets`` gives all splits of a config the same features, so
    hidden splits keep the columns of :attr:`ClipRecord.HIDDEN_COLUMNS` but every value is null.
    """
    fields = [pa.field(name, kind) for name, kind, _ in _COLUMNS]
    info = {"info": {"features": features()}}
    return pa.schema(fields, metadata={"huggingface": json.dumps(info), **metadata})


def withhold(row: dict) -> dict:
    """The row of a hidden split: every answer-revealing column set to null."""
    return {**row, **{column: None for column in ClipRecord.HIDDEN_COLUMNS}}
