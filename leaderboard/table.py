"""The leaderboard table: ranking, sorting and filtering of scored entries, and their public form."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from avg_bench.metrics.definitions import metric_table
from avg_bench.spec import AVG_V1
from leaderboard.disclosure import DEFAULT_MIN_LOCATIONS, public_summary
from leaderboard.scoring import TABLE_METRICS

#: The ranking metric: GeoScore, the one number that uses every error (higher is better).
RANK_METRIC = "geoscore"
_METRICS = {m.name: m for m in metric_table(AVG_V1)}
SORT_KEYS = ("rank", "model", "team", "date", "modalities") + TABLE_METRICS

#: Entry fields anyone may read; the error message and private flags are for the owning team.
PUBLIC_FIELDS = (
    "id", "model_name", "team", "link", "modalities", "external_data", "toolkit_version", "dataset_version",
    "split", "config", "status", "n_predictions", "summary",
)
OWNER_FIELDS = ("hidden", "withdrawn", "error")


def iso_date(ts: float | None) -> str | None:
    """A UNIX time as an ISO 8601 UTC string."""
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def public(row: dict[str, Any], *, owner: bool = False, k: int = DEFAULT_MIN_LOCATIONS) -> dict[str, Any]:
    """A table row as the API may publish it: public fields only, numbers as disclosure allows."""
    data = {k_: row[k_] for k_ in PUBLIC_FIELDS}
    if data["summary"] is not None:
        data["summary"] = public_summary(data["summary"], row["split"], k)
    data["created_at"] = iso_date(row["created_at"])
    data["scored_at"] = iso_date(row["scored_at"])
    if "rank" in row:
        data["rank"] = row["rank"]
    if owner:
        data.update({k: row[k] for k in OWNER_FIELDS})
    return data


def metric_value(row: dict[str, Any], name: str) -> float:
    """A metric's point value from a row's summary."""
    return row["summary"]["metrics"][name]["value"]


def ranked(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with ``rank`` by GeoScore (ties share a rank: 1, 2, 2, 4), best first."""
    ordered = sorted(rows, key=lambda r: (-metric_value(r, RANK_METRIC), r["created_at"]))
    previous, rank = None, 0
    out = []
    for position, row in enumerate(ordered, start=1):
        value = round(metric_value(row, RANK_METRIC), 9)
        if value != previous:
            rank, previous = position, value
        out.append({**row, "rank": rank})
    return out


def board(rows: Iterable[dict[str, Any]], *, modalities: str | None = None, sort: str = "rank", order: str | None = None,
          k: int = DEFAULT_MIN_LOCATIONS) -> list[dict[str, Any]]:
    """Rank every scored row, then filter by modalities and sort by ``sort``.

    Numbers are as they may be published (``k``: see :mod:`leaderboard.disclosure`).

    ``order`` defaults to the metric's own "best first" (descending accuracy, ascending km).
    """
    rows = ranked({**r, "summary": public_summary(r["summary"], r["split"], k)} for r in rows)
    if modalities:
        rows = [r for r in rows if r["modalities"] == modalities]
    if sort not in SORT_KEYS:
        raise ValueError(f"sort must be one of {', '.join(SORT_KEYS)}")
    if sort in _METRICS:
        best_first_desc = _METRICS[sort].higher_is_better
        descending = best_first_desc if order is None else order == "desc"
        def key(r: dict[str, Any]) -> tuple:
            # A withheld value (None, a median on a hidden split) sorts last in either direction.
            return (metric_value(r, sort) is None) != descending, metric_value(r, sort) or 0.0
    else:
        field = {"model": "model_name", "date": "created_at"}.get(sort, sort)

        def key(r: dict[str, Any]) -> tuple:
            return (r[field].casefold() if isinstance(r[field], str) else r[field],)
        descending = (sort == "date") if order is None else order == "desc"  # newest first
    return sorted(rows, key=key, reverse=descending)


def default_order(sort: str) -> str:
    """A metric's "best first" order: ``desc`` for accuracies, ``asc`` for errors in km."""
    if sort in _METRICS:
        return "desc" if _METRICS[sort].higher_is_better else "asc"
    return "desc" if sort == "date" else "asc"


def metric_label(name: str) -> str:
    """The metric's label for table headers."""
    return _METRICS[name].label


def is_fraction(name: str) -> bool:
    """Whether the metric is a fraction shown as a percentage."""
    return _METRICS[name].is_fraction
