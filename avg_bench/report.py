"""Rich terminal rendering of :class:`~avg_bench.results.Results`."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from avg_bench.metrics.definitions import Metric, metric_table
from avg_bench.results import Results
from avg_bench.spec import AVG_V1, BenchmarkSpec

#: Per-continent columns and their short headers (the table must fit 80 columns).
_CONTINENT_COLUMNS = {
    "acc@1km": "1km",
    "acc@25km": "25km",
    "acc@200km": "200km",
    "acc@750km": "750km",
    "acc@2500km": "2500km",
    "geoscore": "Score",
    "median_km": "Med.km",
    "sem_country": "Ctry",
}


def _value(metric: Metric, value: float | None, *, signed: bool = False, digits: int = 2) -> str:
    if value is None:
        return "-"
    sign = "+" if signed else ""
    if metric.is_fraction:
        return f"{value * 100:{sign}.{digits}f}"
    return f"{value:{sign}.{max(digits - 1, 0)}f}"


def _interval(metric: Metric, low: float | None, high: float | None, *, signed: bool = False) -> str:
    if low is None or high is None:
        return ""
    return f"{_value(metric, low, signed=signed)}–{_value(metric, high, signed=signed)}"


def _table() -> Table:
    return Table(header_style="bold underline", box=None, padding=(0, 1), pad_edge=False)


def results_renderable(results: Results, spec: BenchmarkSpec = AVG_V1) -> Group:
    """The terminal report of one results file: header, metric table with CIs, per-continent table."""
    metrics = {m.name: m for m in metric_table(spec)}
    counts = results.counts
    where = " · ".join(
        part
        for part in (
            results.dataset_label,
            f"{results.config}/{results.split}" if results.split else None,
            f"{counts.labelled:,} clips",
            f"{counts.locations:,} locations",
        )
        if part
    )
    main = _table()
    comparison = results.comparison
    main.add_column("Metric", no_wrap=True)
    main.add_column("Value", justify="right", no_wrap=True)
    main.add_column("95% CI", justify="right", no_wrap=True)
    if comparison:
        main.add_column("Δ vs base", justify="right", no_wrap=True)
        main.add_column("95% CI of Δ", justify="right", no_wrap=True)
        main.add_column("p", justify="right", no_wrap=True)
    else:
        main.add_column("Macro", justify="right", no_wrap=True)
    for name, estimate in results.metrics.items():
        metric = metrics[name]
        row: list[str | Text] = [metric.label, _value(metric, estimate.value), _interval(metric, estimate.ci_low, estimate.ci_high)]
        if not comparison:
            row.append(_value(metric, results.macro[name].value))
        if comparison:
            diff = comparison.metrics[name]
            better = (diff.value > 0) == metric.higher_is_better
            style = "green" if better and diff.value != 0 else ("red" if diff.value != 0 else "")
            row += [
                Text(_value(metric, diff.value, signed=True), style=style),
                _interval(metric, diff.ci_low, diff.ci_high, signed=True),
                "-" if diff.p_value is None else f"{diff.p_value:.3f}",
            ]
        main.add_row(*row)

    continents = _table()
    continents.add_column("", no_wrap=True)
    continents.add_column("Clips", justify="right", no_wrap=True)
    continents.add_column("Locs", justify="right", no_wrap=True)
    for header in _CONTINENT_COLUMNS.values():
        continents.add_column(header, justify="right", no_wrap=True)
    for code, group in results.by_continent.items():
        continents.add_row(
            code,
            f"{group.n_clips}",
            f"{group.n_locations}",
            *(_value(metrics[n], group.metrics[n].value, digits=1) for n in _CONTINENT_COLUMNS),
        )

    notes = []
    worst = results.worst_continent.get("geoscore")
    if worst:
        notes.append(f"Worst continent by GeoScore: {results.by_continent[worst.group].name} ({worst.value:,.1f}).")
    if counts.predicted < counts.labelled:
        notes.append(
            f"Coverage {results.coverage * 100:.2f} %: {counts.missing:,} missing and {counts.abstained:,} abstained "
            "clips scored as the worst case."
        )
    notes.append(f"Scored with the {results.protocol} protocol.")
    if results.dataset.get("synthetic"):
        notes.append("Synthetic data (AVG-Synth): never report these numbers as AVG.")
    boot = results.settings["bootstrap"]
    if boot["resamples"]:
        notes.append(
            f"CIs: cluster bootstrap over locations, {boot['resamples']:,} resamples, seed {boot['seed']}. "
            "Accuracies in %. Macro: mean over locations. Ctry: country (semantic)."
        )
    return Group(
        Text(f"AVG-Bench results · {where}", style="bold"),
        main,
        Text(""),
        Text("Per continent (of the ground truth)", style="bold"),
        continents,
        Text(""),
        *(Text(note, style="dim") for note in notes),
    )


def print_results(results: Results, console: Console | None = None) -> None:
    """Print the terminal report of one results file."""
    (console or Console()).print(results_renderable(results))
