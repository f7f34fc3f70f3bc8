"""Per-continent accuracy: grouped bars (one colour per model) with their 95% intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from avg_bench.figures.style import colour, legend, new_figure
from avg_bench.results import Results


def continent_figure(runs: Sequence[tuple[str, Results]], metric: str = "acc@750km"):
    """Bars of ``metric`` (an accuracy) per ground-truth continent; the labels carry location counts."""
    codes = sorted({code for _, results in runs for code in results.by_continent})
    fig = new_figure(8.0, 4.2)
    ax = fig.add_axes((0.09, 0.2, 0.88, 0.68))
    width = 0.8 / max(1, len(runs))
    x = np.arange(len(codes))
    for i, (name, results) in enumerate(runs):
        values, low, high = [], [], []
        for code in codes:
            group = results.by_continent.get(code)
            e = group.metrics[metric] if group else None
            v = 100 * e.value if e else np.nan
            values.append(v)
            low.append(v - 100 * e.ci_low if e and e.ci_low is not None else 0.0)
            high.append(100 * e.ci_high - v if e and e.ci_high is not None else 0.0)
        ax.bar(x - 0.4 + width * (i + 0.5), values, width, yerr=[low, high], color=colour(i), label=name,
               error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#333333"}, gid=f"bars-{i}")
    first = runs[0][1].by_continent
    ax.set_xticks(x, [f"{first[c].name if c in first else c}\n({first[c].n_locations if c in first else '?'} loc.)" for c in codes],
                  fontsize=8)
    radius = metric.removeprefix("acc@").removesuffix("km")
    ax.set_ylabel(f"accuracy within {radius} km (%)")
    ax.set_ylim(0, 105)
    ax.grid(axis="y", color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    legend(ax, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(4, len(runs)), fontsize=8, frameon=False)
    return fig
