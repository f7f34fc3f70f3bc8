"""One progress bar for every training loop of the reference model (rich), silent when asked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


@contextmanager
def training_progress(description: str, total: int, *, enabled: bool = True) -> Iterator[Callable[..., None]]:
    """Yield ``advance(**fields)``; fields (e.g. ``loss=0.12``) are shown beside the bar."""
    if not enabled:
        yield lambda **_: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task(description, total=total, status="")

        def advance(**fields: float) -> None:
            status = "  ".join(f"{k} {v:.4g}" for k, v in fields.items())
            progress.update(task, advance=1, status=status)

        yield advance
