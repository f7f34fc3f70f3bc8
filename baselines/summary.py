"""The baselines' results as one Markdown table, written into ``baselines/README.md`` by a command.

``avg-bench baseline summary DEMO_DIR --readme baselines/README.md`` reads the results JSON files
``avg-bench demo`` wrote (``DEMO_DIR/results/<baseline>.json``) and replaces the text between the
``<!-- baseline-table -->`` markers, so the table is never typed by hand.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from avg_bench.errors import AvgBenchError
from avg_bench.results import Results

START, END = "<!-- baseline-table:start -->", "<!-- baseline-table:end -->"
COLUMNS = (("acc@1km", "1 km"), ("acc@25km", "25 km"), ("acc@200km", "200 km"), ("acc@750km", "750 km"),
           ("acc@2500km", "2500 km"), ("sem_country", "country"))


def _ci(estimate) -> str:
    value = f"{100 * estimate.value:.1f}"
    if estimate.ci_low is None or estimate.ci_high is None:
        return value
    return f"{value} [{100 * estimate.ci_low:.1f}, {100 * estimate.ci_high:.1f}]"


def markdown_table(results: dict[str, Results], notes: dict[str, str] | None = None) -> str:
    """One row per baseline: accuracies (%) with 95% CIs, GeoScore, median km; ``notes`` for rows not run."""
    header = ["baseline", *(label for _, label in COLUMNS), "GeoScore", "median km"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, result in results.items():
        metrics = result.metrics
        cells = [f"`{name}`", *(_ci(metrics[key]) for key, _ in COLUMNS),
                 f"{metrics['geoscore'].value:.0f}", f"{metrics['median_km'].value:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    for name in notes or {}:
        lines.append(f"| `{name}` | " + " | ".join(["–"] * (len(header) - 1)) + " |")
    footnotes = [f"`{name}`: {note}" for name, note in (notes or {}).items()]
    return "\n".join(lines) + "".join(f"\n\n{footnote}" for footnote in footnotes)


def rich_table(results: dict[str, Results]):
    """The same table for a terminal."""
    from rich.table import Table

    # No box: column rules cost 3 characters each, and at 80 columns rich then cuts headers ("med.…").
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold underline")
    for header in ("baseline", *(label.replace(" ", "") for _, label in COLUMNS), "score", "med.km"):
        table.add_column(header, justify="left" if header == "baseline" else "right", no_wrap=True)
    for name, result in results.items():
        metrics = result.metrics
        table.add_row(name, *(f"{100 * metrics[key].value:.1f}" for key, _ in COLUMNS),
                      f"{metrics['geoscore'].value:.0f}", f"{metrics['median_km'].value:.0f}")
    return table


def load_results(folder: Path) -> dict[str, Results]:
    """Results files by baseline name, in the registry's order."""
    from baselines.registry import BASELINES

    order = {name: i for i, name in enumerate(BASELINES)}
    paths = sorted(folder.glob("*.json"), key=lambda path: (order.get(path.stem, len(order)), path.stem))
    return {path.stem: Results.from_json(path) for path in paths}


def update_readme(readme: Path, table: str, *, markers: tuple[str, str] = (START, END)) -> None:
    """Replace the text between the README's table markers, so the table is never typed by hand."""
    start, end = markers
    try:
        text = readme.read_text()
    except OSError as exc:
        raise AvgBenchError(f"{readme}: cannot read the README to update ({exc.strerror or exc})") from None
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise AvgBenchError(f"{readme}: no {start} ... {end} markers to replace")
    readme.write_text(pattern.sub(lambda _: f"{start}\n{table}\n{end}", text))


def summarize(demo_dir: Path, *, readme: Path | None = None) -> str:
    """The captioned table of a demo run; with ``readme``, also written between its markers.

    What ``avg-bench baseline summary`` runs (see :mod:`baselines.cli`).
    """
    info_path = demo_dir / "demo.json"
    if not info_path.is_file():
        raise AvgBenchError(f"{info_path}: not found; give the folder `avg-bench demo --out` wrote")
    info = json.loads(info_path.read_text())
    table = markdown_table(load_results(demo_dir / "results"), info.get("not_run"))
    table = f"{info['caption']}\n\n{table}"
    if readme is not None:
        update_readme(readme, table)
    return table
