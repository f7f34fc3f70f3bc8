"""Results as Markdown, LaTeX or CSV tables, for one file or several side by side.

For papers and READMEs, where the rich terminal table cannot go. Several results are columns;
a result scored with a ``comparison`` against the first (``avg-bench compare``) adds its paired
difference and p-value. CSV is long-form and unrounded (one row per model and metric), for
spreadsheets and plotting; Markdown and LaTeX are rounded like the terminal table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from avg_bench.metrics.definitions import Metric, metric_table
from avg_bench.results import Results
from avg_bench.spec import AVG_V1

FORMATS = ("md", "latex", "csv")


def _number(metric: Metric, value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "–"
    sign = "+" if signed else ""
    return f"{value * 100:{sign}.1f}" if metric.is_fraction else f"{value:{sign},.1f}"


def _cell(metric: Metric, value, low, high, *, signed: bool = False) -> str:
    text = _number(metric, value, signed=signed)
    if low is not None and high is not None:
        text += f" [{_number(metric, low, signed=signed)}, {_number(metric, high, signed=signed)}]"
    return text


def _grid(runs: Sequence[tuple[str, Results]]) -> tuple[list[str], list[list[str]]]:
    metrics = metric_table(AVG_V1)
    header = ["Metric"]
    for i, (name, results) in enumerate(runs):
        header.append(name)
        if i and results.comparison is not None:
            header.append(f"Δ {name} − {runs[0][0]} (p)")
    rows = []
    for metric in metrics:
        row = [metric.label + (" (%)" if metric.is_fraction else "")]
        for i, (_, results) in enumerate(runs):
            e = results.metrics[metric.name]
            row.append(_cell(metric, e.value, e.ci_low, e.ci_high))
            if i and results.comparison is not None:
                d = results.comparison.metrics[metric.name]
                p = "" if d.p_value is None else f" (p={d.p_value:.3f})"
                row.append(_cell(metric, d.value, d.ci_low, d.ci_high, signed=True) + p)
        rows.append(row)
    return header, rows


def caption(runs: Sequence[tuple[str, Results]]) -> str:
    """What the numbers are: the data (synthetic said so), split, clips, protocol and intervals."""
    first = runs[0][1]
    boot = first.settings.get("bootstrap", {})
    where = f"{first.config}/{first.split}" if first.split else "labels file"
    text = (f"{first.dataset_label}, {where}, {first.counts.labelled:,} clips at {first.counts.locations:,} locations; "
            f"{first.protocol} protocol; accuracies in %")
    if boot.get("resamples"):
        text += f"; [95% CI], cluster bootstrap over locations ({boot['resamples']:,} resamples)"
    if len(runs) > 1 and any(r.comparison for _, r in runs[1:]):
        text += f"; Δ: paired difference with {runs[0][0]}, two-sided bootstrap p"
    return text + "."


def markdown(runs: Sequence[tuple[str, Results]]) -> str:
    """A Markdown table of the runs, with the caption under it."""
    header, rows = _grid(runs)
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731  (model names are user text)
    lines = ["| " + " | ".join(map(esc, header)) + " |", "|" + "|".join(["---"] + ["--:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(map(esc, row)) + " |" for row in rows]
    return "\n".join(lines) + f"\n\n{caption(runs)}\n"


_LATEX_SPECIAL = {c: "\\" + c for c in "&%$#_{}"} | {"~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                                                      "\\": r"\textbackslash{}", "Δ": r"$\Delta$", "−": "$-$", "–": "--"}


def latex_escape(text: str) -> str:
    r"""Escape user text for LaTeX.

    >>> latex_escape("knn_av 50% $x$")
    'knn\\_av 50\\% \\$x\\$'
    """
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


def latex(runs: Sequence[tuple[str, Results]]) -> str:
    """A LaTeX ``table`` (booktabs) of the runs, with the caption."""
    header, rows = _grid(runs)
    lines = [r"\begin{table}[t]", r"\centering", r"\begin{tabular}{l" + "r" * (len(header) - 1) + "}", r"\toprule",
             " & ".join(map(latex_escape, header)) + r" \\", r"\midrule"]
    lines += [" & ".join(map(latex_escape, row)) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{latex_escape(caption(runs))}}}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def csv_long(runs: Sequence[tuple[str, Results]]) -> str:
    """Every number of every run as long-form CSV: one row per (model, metric)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["model", "dataset", "split", "protocol", "metric", "value", "ci_low", "ci_high",
                     "delta", "delta_ci_low", "delta_ci_high", "p_value"])
    for name, results in runs:
        for metric, e in results.metrics.items():
            d = results.comparison.metrics[metric] if results.comparison is not None else None
            extra = [d.value, d.ci_low, d.ci_high, d.p_value] if d is not None else [None] * 4
            writer.writerow([name, results.dataset_label, results.split, results.protocol, metric, e.value, e.ci_low,
                             e.ci_high, *extra])
    return buffer.getvalue()


def render(runs: Sequence[tuple[str, Results]], fmt: str) -> str:
    """The table of ``runs`` (``(model name, results)``, the first is the reference) in ``fmt``."""
    if fmt not in FORMATS:
        from avg_bench.errors import AvgBenchError

        raise AvgBenchError(f"unknown table format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return {"md": markdown, "latex": latex, "csv": csv_long}[fmt](runs)
