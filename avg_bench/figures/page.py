"""The HTML report: the figures and the tables on one self-contained page (no scripts, no network)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from avg_bench.cache import atomic_write_bytes
from avg_bench.results import Results
from avg_bench.tables import _grid, caption

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;padding:1rem 1.5rem;max-width:1100px;color:#222}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}
img{max-width:100%;height:auto;display:block}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:.2rem .5rem;border-bottom:1px solid #ddd;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}
th{overflow-wrap:anywhere;max-width:14rem}
.note{color:#555;font-size:13px}.synthetic{background:#fff3cd;padding:.4rem .6rem;border-radius:4px}
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _groups(runs: Sequence[tuple[str, Results]], attribute: str, metric: str) -> str:
    first = getattr(runs[0][1], attribute)
    header = ["Group", "Clips", "Locations", *(f"{name} {metric.removeprefix('acc@')} (%)" for name, _ in runs)]
    rows = []
    for code, group in first.items():
        cells = []
        for _, results in runs:
            other = getattr(results, attribute).get(code)
            e = other.metrics[metric] if other else None
            text = "–" if e is None else f"{100 * e.value:.1f}"
            if e is not None and e.ci_low is not None:
                text += f" [{100 * e.ci_low:.1f}, {100 * e.ci_high:.1f}]"
            cells.append(text)
        rows.append([f"{group.name} ({code})", f"{group.n_clips:,}", f"{group.n_locations:,}", *cells])
    return _table(header, rows)


def write_page(runs: Sequence[tuple[str, Results]], out_dir: Path, figures: Sequence[tuple[str, str]]) -> Path:
    """``index.html`` in ``out_dir``; ``figures`` are ``(stem, title)`` of files saved beside it."""
    first = runs[0][1]
    parts = [f"<h1>AVG-Bench results: {html.escape(first.dataset_label)}</h1>",
             f'<p class="note">{html.escape(caption(runs))}</p>']
    if first.dataset.get("synthetic"):
        parts.append('<p class="synthetic">Synthetic data (AVG-Synth): these numbers are not AVG results and must '
                     "never be reported as such.</p>")
    missing = [name for name, results in runs if not results.curve]
    if missing:
        parts.append(f'<p class="note">No accuracy curve in the (older) results of {html.escape(", ".join(missing))}: '
                     "re-score them with this toolkit.</p>")
    for stem, title in figures:
        parts.append(f'<h2>{html.escape(title)}</h2><img src="{stem}.svg" alt="{html.escape(title)}">'
                     f'<p class="note"><a href="{stem}.png">PNG</a> · <a href="{stem}.svg">SVG</a></p>')
    parts.append("<h2>Metrics</h2>" + _table(*_grid(runs)))
    parts.append("<h2>Per continent (of the ground truth)</h2>" + _groups(runs, "by_continent", "acc@750km"))
    if first.by_country:
        parts.append("<h2>Per country (of the ground truth)</h2>"
                     '<p class="note">Small groups are noisy: read each number with its location count.</p>'
                     + _groups(runs, "by_country", "acc@750km"))
    page = ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            '<meta name=viewport content="width=device-width,initial-scale=1"><link rel=icon href="data:,">'
            f"<title>AVG-Bench report</title><style>{_CSS}</style></head><body>{''.join(parts)}</body></html>\n")
    path = out_dir / "index.html"
    atomic_write_bytes(path, page.encode("utf-8"))
    return path
