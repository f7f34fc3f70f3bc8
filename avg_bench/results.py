"""Typed results with provenance, and their JSON form (DESIGN §3).

``schema_version`` grows with every incompatible change; :meth:`Results.from_dict` keeps reading
every past version (a fixture per version lives in ``tests/data/results/``).

Version 2 separates *what was scored* (``dataset``: name, version, revision, ``synthetic``) from
*how it was scored* (``protocol``: the conventions' version, e.g. ``AVG-v1``), so AVG-Synth
results never read as AVG; and adds the accuracy curve, the per-country breakdown and the
error map's cells.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from avg_bench.errors import AvgBenchError

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Estimate:
    """A metric value with its 95% cluster-bootstrap interval (``None`` without bootstrap)."""

    value: float
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class Difference:
    """``predictions - baseline`` for one metric, from the paired cluster bootstrap."""

    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None


@dataclass(frozen=True)
class GroupResult:
    """Metrics over a subgroup of clips (one continent or country), with its counts."""

    name: str
    n_clips: int
    n_locations: int
    metrics: dict[str, Estimate]


@dataclass(frozen=True)
class Extreme:
    """The group with the worst value of one metric."""

    group: str
    value: float


@dataclass(frozen=True)
class Comparison:
    """Paired comparison of the scored predictions against a baseline file."""

    baseline: dict[str, Any]  # path, sha256, counts of the baseline file
    metrics: dict[str, Difference]


@dataclass(frozen=True)
class Counts:
    """Clip and location counts behind a score: what was labelled, predicted, abstained or missing."""
    labelled: int  # clips in the labels (the original n)
    predicted: int  # clips with coordinates (the scored n)
    abstained: int
    missing: int
    locations: int


@dataclass(frozen=True)
class Results:
    """Everything one evaluation reports; ``results.metrics["acc@25km"].value`` etc."""

    protocol: str  # the scoring conventions' version (AVG-v1), not the dataset's
    split: str | None
    config: str | None
    dataset: dict[str, Any]  # name, version, revision, synthetic, labels source, sha256
    predictions: dict[str, Any]  # source, sha256
    toolkit_version: str
    counts: Counts
    coverage: float
    metrics: dict[str, Estimate]
    macro: dict[str, Estimate]  # location-balanced
    by_continent: dict[str, GroupResult]
    worst_continent: dict[str, Extreme]
    settings: dict[str, Any]
    timestamp: str
    comparison: Comparison | None = None
    #: Accuracy at log-spaced radii: ``thresholds_km, accuracy, ci_low, ci_high`` (lists).
    curve: dict[str, list] | None = None
    #: Per ground-truth country (ISO2); on hidden splits only countries with enough locations.
    by_country: dict[str, GroupResult] = field(default_factory=dict)
    #: Mean/median error per grid cell of the true location (the world map), same rule as countries.
    error_cells: list[dict[str, Any]] = field(default_factory=list)
    schema_version: int = field(default=SCHEMA_VERSION)

    @property
    def dataset_label(self) -> str:
        """How tables name the data: ``AVG-Synth-v1@rev (synthetic)``; the labels file's name when unnamed."""
        name = self.dataset.get("revision") or self.dataset.get("version") or self.dataset.get("name")
        name = name or f"{Path(str(self.dataset.get('labels') or '?')).name} (unnamed dataset)"
        return f"{name} (synthetic)" if self.dataset.get("synthetic") else name

    def to_dict(self) -> dict[str, Any]:
        """The results as JSON-ready data (non-finite numbers as null), schema version first."""
        data = asdict(self)
        return _finite({"schema_version": data.pop("schema_version"), **data})

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """The results as JSON text, also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, ensure_ascii=False) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Results:
        """Results from their JSON form; older schema versions are upgraded, unknown ones refused."""
        version = data.get("schema_version")
        if version == 1:
            data = _upgrade_v1(data)
        elif version != SCHEMA_VERSION:
            raise AvgBenchError(
                f"results schema_version {version!r} is not supported (this toolkit reads 1 to {SCHEMA_VERSION})"
            )
        estimates = lambda d: {k: Estimate(**v) for k, v in d.items()}  # noqa: E731
        groups = lambda d: {k: GroupResult(**{**g, "metrics": estimates(g["metrics"])}) for k, g in d.items()}  # noqa: E731
        comparison = data.get("comparison")
        return cls(
            **{
                **data,
                "counts": Counts(**data["counts"]),
                "metrics": estimates(data["metrics"]),
                "macro": estimates(data["macro"]),
                "by_continent": groups(data["by_continent"]),
                "by_country": groups(data.get("by_country", {})),
                "worst_continent": {k: Extreme(**v) for k, v in data["worst_continent"].items()},
                "comparison": None
                if comparison is None
                else Comparison(comparison["baseline"], {k: Difference(**v) for k, v in comparison["metrics"].items()}),
            }
        )

    @classmethod
    def from_json(cls, path: str | Path) -> Results:
        """Results from a JSON file written by ``avg-bench evaluate --json``."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def dataset_identity(revision: str | None, synthetic: bool | None) -> dict[str, Any]:
    """Name, version and synthetic flag of a dataset from its revision (``AVG-Synth-v1@<hash>``)."""
    from avg_bench.spec import SYNTHETIC_DATASETS

    version = revision.split("@", 1)[0] if revision else None
    name = version.rsplit("-v", 1)[0] if version and "-v" in version else version
    if synthetic is None and name is not None:
        synthetic = name in SYNTHETIC_DATASETS
    return {"name": name, "version": version, "revision": revision, "synthetic": synthetic}


def _upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 named only the benchmark (``benchmark_version``, even for AVG-Synth): map it to 2."""
    data = dict(data)
    data.pop("benchmark", None)
    data["protocol"] = data.pop("benchmark_version")
    old = data["dataset"]
    data["dataset"] = {**dataset_identity(old.get("revision"), None), "labels": old.get("labels"), "sha256": old.get("sha256")}
    data["schema_version"] = SCHEMA_VERSION
    return data


def _finite(value: Any) -> Any:
    """NaN/inf (an undefined CI) become ``null``: strict JSON parsers reject NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
