"""One exception hierarchy for the whole toolkit.

Every error a user can cause derives from :class:`AvgBenchError`; the CLI prints its message
and exits with code 2, so no traceback reaches the user. Anything else is a bug.
"""

from __future__ import annotations

from pathlib import Path


class AvgBenchError(Exception):
    """Base class of every error caused by input, configuration or environment."""

    exit_code = 2


class InputFileError(AvgBenchError, ValueError):
    """A problem at a precise place in an input file: ``file:line: problem``."""

    def __init__(self, source: str | Path, line: int | None, problem: str) -> None:
        self.source = str(source)
        self.line = line
        self.problem = problem
        where = self.source if line is None else f"{self.source}:{line}"
        super().__init__(f"{where}: {problem}")


class PredictionFileError(InputFileError):
    """A malformed predictions file (DESIGN §4)."""


class LabelFileError(InputFileError):
    """A malformed labels file."""


class MissingPredictionsError(AvgBenchError):
    """Some labelled clips have no prediction (or abstained) and ``allow_missing`` is off."""

    def __init__(self, source: str | Path, missing: list[str], abstained: list[str]) -> None:
        self.source = str(source)
        self.missing = missing
        self.abstained = abstained
        parts = []
        if missing:
            parts.append(f"{len(missing)} labelled clip(s) have no prediction: {_preview(missing)}")
        if abstained:
            parts.append(f"{len(abstained)} clip(s) abstained (lat/lon null): {_preview(abstained)}")
        super().__init__(
            f"{self.source}: " + "; ".join(parts) + ". Add the missing predictions, or pass "
            "--allow-missing (allow_missing=True) to score them as the worst case "
            "(d = pi*R, GeoScore 0, every level missed) and report coverage."
        )


class DatasetNotFoundError(AvgBenchError):
    """A dataset split was asked for but is not on disk."""


def _preview(ids: list[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown if len(ids) <= limit else f"{shown}, ... ({len(ids) - limit} more)"
