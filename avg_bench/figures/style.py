"""What every figure shares: the colour-blind-safe palette, user text kept literal, deterministic files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from avg_bench.errors import AvgBenchError

#: Okabe & Ito (2008), safe for the common colour-vision deficiencies; black last (it is the text colour).
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


def colour(i: int) -> str:
    """The i-th colour of the colour-blind-safe Okabe-Ito palette (cycling)."""
    return OKABE_ITO[i % len(OKABE_ITO)]


def new_figure(width: float, height: float):
    """A pyplot-free figure (no global state, no GUI backend), or a clear error without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise AvgBenchError("drawing figures needs matplotlib: pip install 'avg-bench[maps]'") from None
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def literal(*texts: Any) -> None:
    r"""Model names are user text: ``$\frac{$`` must print as typed, not crash mathtext (TRAPS.md)."""
    for text in texts:
        text.set_parse_math(False)


def legend(ax, **kwargs) -> None:
    """A legend whose labels print as typed (model names are user text)."""
    handle = ax.legend(**kwargs)
    literal(*handle.get_texts())


def save(fig, out_dir: Path, stem: str) -> list[Path]:
    """``stem.svg`` and ``stem.png`` in ``out_dir``; same input, same bytes (no dates, fixed SVG ids)."""
    from matplotlib import rc_context

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.svg", out_dir / f"{stem}.png"]
    with rc_context({"svg.hashsalt": "avg-bench", "svg.fonttype": "none"}):
        fig.savefig(paths[0], format="svg", metadata={"Date": None, "Creator": None})
    fig.savefig(paths[1], format="png", metadata={"Software": None}, dpi=110)
    return paths
