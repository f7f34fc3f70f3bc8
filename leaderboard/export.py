"""Static copies of the table: Markdown (README) and a standalone HTML page (dataset card)."""

from __future__ import annotations

import html
import time

from sqlalchemy.engine import Engine

from avg_bench.errors import AvgBenchError
from avg_bench.spec import AVG_V1
from leaderboard import store
from leaderboard.disclosure import DEFAULT_MIN_LOCATIONS
from leaderboard.table import board, is_fraction, metric_label

COLUMNS = ("acc@1km", "acc@25km", "acc@200km", "acc@750km", "acc@2500km", "geoscore", "median_km")


def _number(value: float | None, name: str) -> str:
    if value is None:
        return "–"
    if is_fraction(name):
        return f"{value * 100:.1f}"
    return f"{value:.0f}" if name == "geoscore" else f"{value:.1f}"


def _cell(row: dict, name: str) -> str:
    m = row["summary"]["metrics"][name]
    ci = f" ({_number(m['ci_low'], name)}–{_number(m['ci_high'], name)})" if m["ci_low"] is not None else ""
    return _number(m["value"], name) + ci


def _rows(engine: Engine, split: str, config: str, k: int) -> list[list[str]]:
    out = []
    for row in board(store.entries(engine, split=split, config=config), k=k):
        date = time.strftime("%Y-%m-%d", time.gmtime(row["created_at"]))
        out.append([str(row["rank"]), row["model_name"], row["team"], row["modalities"], *(_cell(row, n) for n in COLUMNS), date, row["link"]])
    return out


def _headers() -> list[str]:
    return ["Rank", "Model", "Team", "Modalities", *(metric_label(n) + (" %" if is_fraction(n) else "") for n in COLUMNS), "Date"]


def export_table(engine: Engine, *, fmt: str, split: str = "test", config: str = "seen", k: int = DEFAULT_MIN_LOCATIONS) -> str:
    """The table as Markdown or HTML, with exactly what the server may publish.

    ``k`` is the server's ``min_locations``; see :mod:`leaderboard.disclosure`.
    """
    if split not in ("val", "test") or config not in AVG_V1.configs:
        raise AvgBenchError(f"no such board: split {split!r}, config {config!r}")
    rows = _rows(engine, split, config, k)
    caption = f"AVG leaderboard, {split} split ({config}): value (95% cluster-bootstrap CI); ranked by GeoScore."
    return _markdown(rows, caption) if fmt == "md" else _html(rows, caption)


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _markdown(rows: list[list[str]], caption: str) -> str:
    lines = [caption, "", "| " + " | ".join(_headers()) + " |", "|" + "---|" * len(_headers())]
    for row in rows:
        *cells, link = row
        model = f"[{_md_escape(cells[1])}]({link.replace(')', '%29').replace(' ', '%20')})" if link else _md_escape(cells[1])
        lines.append("| " + " | ".join([cells[0], model, *map(_md_escape, cells[2:])]) + " |")
    if not rows:
        lines.append("| " + " | ".join(["–"] * len(_headers())) + " |")
    return "\n".join(lines) + "\n"


def _html(rows: list[list[str]], caption: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _headers())
    body = []
    for *cells, link in rows:
        model = html.escape(cells[1])
        if link:
            model = f'<a href="{html.escape(link, quote=True)}" rel="nofollow noopener">{model}</a>'
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in [html.escape(cells[0]), model, *map(html.escape, cells[2:])]) + "</tr>")
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>AVG leaderboard</title></head><body>\n"
        f"<table>\n<caption>{html.escape(caption)}</caption>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(body) + "\n</tbody>\n</table>\n</body></html>\n"
    )
