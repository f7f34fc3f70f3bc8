"""User errors of the reference model: wrong shapes, missing or foreign checkpoints."""

from __future__ import annotations

from avg_bench.errors import AvgBenchError


class ReferenceModelError(AvgBenchError, ValueError):
    """Input or configuration that the reference model cannot use; the message names the problem."""


class CheckpointError(ReferenceModelError):
    """A checkpoint folder that is missing, incomplete or written by another model."""
