"""The benchmark's conventions in one frozen, versioned object.

Every scorer, reward and leaderboard reads its thresholds, radius and score scale from a
:class:`BenchmarkSpec`; new conventions mean a new spec version, never an edit in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from avg_bench.geo.sphere import EARTH_RADIUS_KM


@dataclass(frozen=True)
class BenchmarkSpec:
    """Name, version and scoring conventions of one benchmark release."""

    name: str
    version: str
    radius_km: float = EARTH_RADIUS_KM
    #: Distance thresholds by level, in km; a prediction hits a level when ``d <= r``.
    thresholds_km: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {"street": 1.0, "city": 25.0, "region": 200.0, "country": 750.0, "continent": 2500.0}
        )
    )
    hit_rule: str = "d <= r"
    #: GeoScore = 5000 * exp(-d / geoscore_scale_km), the GeoGuessr-style score of OSV-5M.
    geoscore_max: float = 5000.0
    geoscore_scale_km: float = 1492.7
    #: Semantic (Chain-of-Region) levels, coarse to fine.
    semantic_levels: tuple[str, ...] = ("continent", "country", "admin1", "city")
    default_bootstrap: int = 1000
    default_seed: int = 0
    confidence: float = 0.95
    splits: tuple[str, ...] = ("train", "val", "test")
    configs: tuple[str, ...] = ("seen", "geo-holdout")
    hidden_splits: tuple[str, ...] = ("test",)
    #: On a hidden split, a subgroup (country, map cell) is reported only when it covers at least
    #: this many distinct locations: a smaller group would describe a few hidden locations.
    min_group_locations: int = 5
    #: Accuracy-vs-threshold curve: ``curve_points_per_decade`` log-spaced radii (at powers of ten) from
    #: ``curve_range_km[0]`` to ``curve_range_km[1]``, plus both ends and the five thresholds.
    curve_range_km: tuple[float, float] = (0.1, 20000.0)
    curve_points_per_decade: int = 8

    def curve_thresholds_km(self) -> tuple[float, ...]:
        """The radii of the accuracy curve, ascending; the five AVG thresholds are among them.

        >>> grid = AVG_V1.curve_thresholds_km()
        >>> grid[0], grid[-1], all(r in grid for r in AVG_V1.thresholds_km.values())
        (0.1, 20000.0, True)
        """
        import math

        low, high = self.curve_range_km
        per = self.curve_points_per_decade
        first, last = math.floor(math.log10(low) * per), math.floor(math.log10(high) * per)
        grid = {float(f"{10 ** (i / per):.6g}") for i in range(first, last + 1)} | {low, high}
        grid = {r for r in grid if low <= r <= high}
        return tuple(sorted(grid | {float(r) for r in self.thresholds_km.values()}))

    def settings(self) -> dict:
        """The conventions as a plain dict, written into every results file."""
        return {
            "radius_km": self.radius_km,
            "hit_rule": self.hit_rule,
            "thresholds_km": dict(self.thresholds_km),
            "geoscore": f"{self.geoscore_max:g} * exp(-d / {self.geoscore_scale_km})",
            "semantic_levels": list(self.semantic_levels),
            "semantic_rule": "a level is correct when it and every coarser level match",
            "min_group_locations_hidden": self.min_group_locations,
        }


#: Datasets that are procedurally generated stand-ins: their numbers are never AVG's.
SYNTHETIC_DATASETS: frozenset[str] = frozenset({"AVG-Synth"})

#: AVG version 1: 1,000 locations x 20 clips.
AVG_V1 = BenchmarkSpec(name="AVG", version="AVG-v1")
