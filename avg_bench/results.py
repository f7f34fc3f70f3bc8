"""Typed results with provenance, and their JSON form (DESIGN §3).

``schema_version`` grows with every incompatible change; :meth:`Results.from_dict` keeps reading
every past version (a fixture per version lives in ``tests/data/results/``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from avg_bench.errors import AvgBenchError

SCHEMA_VERSION = 1


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
    """Metrics over a subgroup of clips (one continent), with its counts."""

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
    labelled: int  # clips in the labels (the original n)
    predicted: int  # clips with coordinates (the scored n)
    abstained: int
    missing: int
    locations: int


@dataclass(frozen=True)
class Results:
    """Everything one evaluation reports; ``results.metrics["acc@25km"].value`` etc."""

    benchmark: str
    benchmark_version: str
    split: str | None
    config: str | None
    dataset: dict[str, Any]  # labels source, sha256, revision
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
    schema_version: int = field(default=SCHEMA_VERSION)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return _finite({"schema_version": data.pop("schema_version"), **data})

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        text = json.dumps(self.to_dict(), indent=indent, ensure_ascii=False) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Results":
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise AvgBenchError(f"results schema_version {version!r} is not supported (this toolkit reads {SCHEMA_VERSION})")
        estimates = lambda d: {k: Estimate(**v) for k, v in d.items()}  # noqa: E731
        comparison = data.get("comparison")
        return cls(
            **{
                **data,
                "counts": Counts(**data["counts"]),
                "metrics": estimates(data["metrics"]),
                "macro": estimates(data["macro"]),
                "by_continent": {
                    k: GroupResult(**{**g, "metrics": estimates(g["metrics"])}) for k, g in data["by_continent"].items()
                },
                "worst_continent": {k: Extreme(**v) for k, v in data["worst_continent"].items()},
                "comparison": None
                if comparison is None
                else Comparison(comparison["baseline"], {k: Difference(**v) for k, v in comparison["metrics"].items()}),
            }
        )

    @classmethod
    def from_json(cls, path: str | Path) -> "Results":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _finite(value: Any) -> Any:
    """NaN/inf (an undefined CI) become ``null``: strict JSON parsers reject NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
