"""What the leaderboard may publish about a hidden split (DESIGN §9; the attack is in README.md).

On a hidden split every released number must be an aggregate over at least ``k`` distinct
locations, so that no response pins down where one hidden clip was recorded:

* a group (continent, country, map cell) is shown only when it covers at least ``k`` locations;
  when the groups left out together cover fewer than ``k`` (so that "total minus the shown groups"
  would isolate them), the smallest shown groups are left out too, until they cover ``k`` or more;
* order statistics (the median error and its CI) are withheld: for a constant prediction the median
  over clips *is* the exact distance to one location, whatever the group size;
* a confidence interval (and a comparison's p-value) is shown only for a group of at least
  :data:`CI_FACTOR` x k locations: a percentile-bootstrap end comes from the 2.5% tail of the
  resamples, which over-draw the few most extreme locations, so over few locations the ends
  behave like the values of single locations (the attacker test found one 266 km from Paris on
  an 8-location board with k = 5 when CIs were shown at k);
* a board whose whole split covers fewer than ``k`` locations shows no numbers at all (submissions
  to it are refused).

"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from avg_bench.errors import AvgBenchError
from avg_bench.metrics.definitions import metric_table
from avg_bench.spec import AVG_V1

#: Splits whose labels only the server holds (the benchmark spec's).
HIDDEN_SPLITS = AVG_V1.hidden_splits
#: Default k: the fewest distinct locations any released number may rest on (the spec's, DESIGN §9).
DEFAULT_MIN_LOCATIONS = AVG_V1.min_group_locations
#: A CI or p-value on a hidden split needs CI_FACTOR * k locations.
CI_FACTOR = 4
#: Metrics that equal one clip's value (medians): withheld on hidden splits.
WITHHELD_METRICS = tuple(m.name for m in metric_table(AVG_V1) if m.statistic != "mean")
_HIGHER_IS_BETTER = {m.name: m.higher_is_better for m in metric_table(AVG_V1)}

Key = TypeVar("Key")


class TooFewLocations(AvgBenchError):
    """A hidden board covers fewer than k locations: nothing about it can be shown safely."""


def is_hidden(split: str | None) -> bool:
    """Whether a split's labels are the server's secret (its numbers are published only in aggregate)."""
    return split in HIDDEN_SPLITS


def shown_groups(n_locations: Mapping[Key, int], k: int) -> set[Key]:
    """Keys of the groups of one partition that may be shown (primary and complementary suppression).

    >>> sorted(shown_groups({"EU": 9, "AS": 7, "AF": 2}, 5))  # AF alone would be total - EU - AS
    ['EU']
    >>> sorted(shown_groups({"EU": 9, "AS": 7, "AF": 6}, 5))
    ['AF', 'AS', 'EU']
    """
    shown = {key for key, n in n_locations.items() if n >= k}
    left_out = sum(n for key, n in n_locations.items() if key not in shown)
    for key in sorted(shown, key=lambda g: (n_locations[g], str(g))):
        if left_out == 0 or left_out >= k:
            break
        shown.discard(key)
        left_out += n_locations[key]
    return shown


def require_enough_locations(n_locations: int, k: int, split: str | None) -> None:
    """Refuse to score a hidden split that covers fewer than ``k`` locations."""
    if is_hidden(split) and n_locations < k:
        raise TooFewLocations(
            f"this board's hidden {split} split covers {n_locations} locations, fewer than the {k} every published "
            "number must rest on; the operator must add labels (or lower --min-locations) before it can be scored"
        )


def public_summary(summary: dict[str, Any], split: str | None, k: int) -> dict[str, Any]:
    """A table row's numbers as they may be shown.

    On hidden splits medians are withheld, and CIs too unless the board covers CI_FACTOR * k locations (rows scored before the count was stored: no CIs).
    """
    if not is_hidden(split):
        return summary
    with_ci = summary.get("n_locations", 0) >= CI_FACTOR * k
    return {**summary, "metrics": _without_medians(summary["metrics"], with_ci)}


def public_results(data: dict[str, Any], *, k: int) -> dict[str, Any]:
    """A results dict (``Results.to_dict()``, maybe with a comparison) as it may be published.

    Public splits are returned unchanged. On a hidden split: every ``by_*`` breakdown keeps only
    :func:`shown_groups`, medians are withheld (value and CI ``None``), the worst group is chosen
    among the shown ones, and ``settings["disclosure"]`` says what was left out and why.
    """
    if not is_hidden(data.get("split")):
        return data
    require_enough_locations(data["counts"]["locations"], k, data.get("split"))
    out = copy.deepcopy(data)
    with_ci = data["counts"]["locations"] >= CI_FACTOR * k
    out["metrics"] = _without_medians(out["metrics"], with_ci)
    out["macro"] = _without_medians(out["macro"], with_ci, medians=False)  # a mean over locations of their medians
    withheld_groups = {}
    for name, groups in list(out.items()):
        if name.startswith("by_") and isinstance(groups, dict):
            keep = shown_groups({key: group["n_locations"] for key, group in groups.items()}, k)
            out[name] = {
                key: {**group, "metrics": _without_medians(group["metrics"], group["n_locations"] >= CI_FACTOR * k)}
                for key, group in groups.items() if key in keep
            }
            withheld_groups[name] = len(groups) - len(keep)
    if "worst_continent" in out:
        out["worst_continent"] = _worst(out.get("by_continent", {}))
    if out.get("comparison"):
        out["comparison"]["metrics"] = {
            name: {**d, "value": None, "ci_low": None, "ci_high": None, "p_value": None} if name in WITHHELD_METRICS
            else d if with_ci else {**d, "ci_low": None, "ci_high": None, "p_value": None}
            for name, d in out["comparison"]["metrics"].items()
        }
    out["settings"] = {**out["settings"], "disclosure": {
        "hidden_split": True,
        "min_locations": k,
        "min_locations_for_ci": CI_FACTOR * k,
        "groups_withheld": withheld_groups,
        "metrics_withheld": list(WITHHELD_METRICS),
        "rule": f"on a hidden split a group is shown only when it covers at least {k} locations (and the groups left "
                f"out together cover at least {k}); a CI or p-value only over at least {CI_FACTOR * k} locations; "
                "medians are withheld because a median is one clip's error",
    }}
    return out


def _withheld() -> dict[str, None]:
    return {"value": None, "ci_low": None, "ci_high": None}


def _without_medians(metrics: dict[str, Any], with_ci: bool, *, medians: bool = True) -> dict[str, Any]:
    """Medians withheld (when ``medians``), and every CI unless ``with_ci``."""
    out = {}
    for name, m in metrics.items():
        if medians and name in WITHHELD_METRICS:
            out[name] = _withheld()
        else:
            out[name] = m if with_ci else {**m, "ci_low": None, "ci_high": None}
    return out


def _worst(groups: dict[str, Any]) -> dict[str, Any]:
    """The worst shown group per metric (the scorer's rule, over what may be shown)."""
    worst = {}
    for name, higher in _HIGHER_IS_BETTER.items():
        values = [(g["metrics"][name]["value"], code) for code, g in groups.items() if g["metrics"].get(name, {}).get("value") is not None]
        if values:
            value, code = (min if higher else max)(values, key=lambda vc: vc[0])
            worst[name] = {"group": code, "value": value}
    return worst


def location_counts(cells: Iterable[tuple[Key, str]]) -> dict[Key, int]:
    """Distinct locations per group key from ``(key, location_id)`` pairs (one per clip)."""
    seen: dict[Key, set[str]] = {}
    for key, location in cells:
        seen.setdefault(key, set()).add(location)
    return {key: len(locations) for key, locations in seen.items()}
