"""Accuracy against the distance threshold: one line per model, its bootstrap band, the five AVG radii."""

from __future__ import annotations

from collections.abc import Sequence

from avg_bench.figures.style import colour, legend, literal, new_figure
from avg_bench.results import Results
from avg_bench.spec import AVG_V1


def curve_figure(runs: Sequence[tuple[str, Results]]):
    """The figure; line ``i`` has gid ``curve-i`` and its data are the results' curve in %."""
    fig = new_figure(8.0, 4.6)
    ax = fig.add_axes((0.09, 0.13, 0.88, 0.74))
    for i, (name, results) in enumerate(runs):
        curve = results.curve
        if not curve:
            continue  # a schema-1 file: no curve recorded (the page says so)
        x = curve["thresholds_km"]
        (line,) = ax.plot(x, [100 * a for a in curve["accuracy"]], color=colour(i), linewidth=1.8, label=name, gid=f"curve-{i}")
        if curve["ci_low"] and curve["ci_low"][0] is not None:
            ax.fill_between(x, [100 * a for a in curve["ci_low"]], [100 * a for a in curve["ci_high"]], color=colour(i),
                            alpha=0.18, linewidth=0)
    for level, radius in AVG_V1.thresholds_km.items():
        ax.axvline(radius, color="#888888", linewidth=0.8, linestyle=":", zorder=0)
        ax.text(radius, 101.5, f"{level}\n{radius:g} km", ha="center", va="bottom", fontsize=7, color="#555555")
    ax.set_xscale("log")
    ax.set_xlim(*AVG_V1.curve_range_km)
    ax.set_ylim(0, 100)
    ax.set_xlabel("distance threshold r (km, log scale): a hit when d ≤ r")
    ax.set_ylabel("accuracy (%)")
    ax.grid(color="#eeeeee", linewidth=0.6)
    legend(ax, loc="upper left", fontsize=8, frameon=True, framealpha=0.9)
    literal(*ax.texts)
    return fig
