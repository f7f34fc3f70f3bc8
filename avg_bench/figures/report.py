"""``write_report``: every figure (SVG + PNG) and the HTML page for one or several results."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from avg_bench.errors import AvgBenchError
from avg_bench.results import Results

FIGURES = (("accuracy_curve", "Accuracy against distance threshold"),
           ("continents", "Country-level accuracy (750 km) per continent"),
           ("error_map", "World map of errors"))


def check_comparable(runs: Sequence[tuple[str, Results]]) -> None:
    """Models on one figure must be scored on the same labels, or the comparison means nothing."""
    first_name, first = runs[0]
    for name, results in runs[1:]:
        if (results.dataset.get("sha256"), results.split, results.config) != (first.dataset.get("sha256"), first.split, first.config):
            raise AvgBenchError(f"{name} was scored on other labels than {first_name} "
                                f"({results.dataset_label} {results.split} vs {first.dataset_label} {first.split}): "
                                "figures compare models on the same labels only")


def write_report(runs: Sequence[tuple[str, Results]], out_dir: str | Path) -> Path:
    """Draw the figures into ``out_dir`` and write ``index.html``; returns the page's path."""
    from avg_bench.figures.continents import continent_figure
    from avg_bench.figures.curve import curve_figure
    from avg_bench.figures.page import write_page
    from avg_bench.figures.style import save
    from avg_bench.figures.worldmap import error_map_figure

    if not runs:
        raise AvgBenchError("no results to report")
    check_comparable(runs)
    out_dir = Path(out_dir)
    draw = {"accuracy_curve": curve_figure, "continents": continent_figure, "error_map": error_map_figure}
    for stem, _ in FIGURES:
        save(draw[stem](runs), out_dir, stem)
    return write_page(runs, out_dir, FIGURES)
