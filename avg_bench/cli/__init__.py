"""The ``avg-bench`` command line: one typer app; each subcommand lives in its own module.

User errors (:class:`~avg_bench.errors.AvgBenchError`) print one ``error: ...`` line to stderr
and exit with code 2; a traceback means a bug in AVG-Bench. This module stays light: ``main``
first tries ``evaluate``'s fast start (:mod:`avg_bench.cli.fast`), and only then builds the typer
app (:mod:`avg_bench.cli.root`), with the client packages' commands only when they are asked for.
"""

from __future__ import annotations

import sys
from typing import Any


def __getattr__(name: str) -> Any:
    """``avg_bench.cli.app``: the full app (core and client commands), built on first use."""
    if name == "app":
        from avg_bench.cli.root import load_plugins

        return load_plugins()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point: run the app, turning user errors into one clean line."""
    from avg_bench.errors import AvgBenchError

    argv = sys.argv[1:]
    try:
        from avg_bench.cli.fast import run_fast

        if run_fast(argv):  # plain options: parsed from the declarations, no app built, no typer parsing
            return
        from avg_bench.cli.root import app_for

        app_for(argv)()
    except AvgBenchError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
