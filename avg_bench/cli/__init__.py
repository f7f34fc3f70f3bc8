"""The ``avg-bench`` command line: one typer app; each subcommand lives in its own module.

User errors (:class:`~avg_bench.errors.AvgBenchError`) print one ``error: ...`` line to stderr
and exit with code 2; a traceback means a bug in AVG-Bench. ``evaluate`` starts fast: its plain
options are parsed from the same declarations without typer's runtime (:mod:`avg_bench.cli.fast`).
"""

from __future__ import annotations

import sys

import typer

from avg_bench._version import __version__
from avg_bench.errors import AvgBenchError
from avg_bench.predictions import PREDICTION_FORMAT

_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench evaluate predictions.jsonl --split val\n"
    "  avg-bench evaluate predictions.jsonl --labels examples/labels.jsonl --json results.json\n"
    "  avg-bench compare a.jsonl b.jsonl --split val --format md\n"
    "  avg-bench report results/*.json --out report/\n"
    "  avg-bench validate avg-synth/\n"
    "  avg-bench demo\n"
    "  avg-bench baseline run knn-av --data avg-demo/avg-synth --split val --evaluate\n"
    "  avg-bench doctor\n"
    "  avg-bench build manifest.jsonl --out avg/ --workers 4 --rate 30\n"
    "  avg-bench submit predictions.jsonl --server URL --token TOKEN --model-name my-model\n"
    "  avg-bench leaderboard serve --labels avg-hidden-labels/\n\n"
    "[bold]Prediction format[/]\n\n" + PREDICTION_FORMAT.replace("[", "\\[") + "\n\n"
    "Run avg-bench COMMAND --help for a command's options and examples."
)

app = typer.Typer(
    name="avg-bench",
    help="AVG-Bench: the audiovisual geolocation benchmark toolkit. Score predictions, build and get the dataset, run baselines, submit to the leaderboard.",
    epilog=_EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"avg-bench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """AVG-Bench command line."""


# Importing a command module registers its command; each keeps its heavy imports inside the command.
from avg_bench.cli import baseline as _baseline  # noqa: E402,F401
from avg_bench.cli import build as _build  # noqa: E402,F401
from avg_bench.cli import demo as _demo  # noqa: E402,F401
from avg_bench.cli import synth as _synth  # noqa: E402,F401
from avg_bench.cli import evaluate as _evaluate  # noqa: E402,F401
from avg_bench.cli import compare as _compare  # noqa: E402,F401
from avg_bench.cli import report as _report  # noqa: E402,F401
from avg_bench.cli import validate as _validate  # noqa: E402,F401
from avg_bench.cli import download as _download  # noqa: E402,F401  (download, publish)
from avg_bench.cli import doctor as _doctor  # noqa: E402,F401
from avg_bench.cli import curate as _curate  # noqa: E402,F401
from avg_bench.cli import submit as _submit  # noqa: E402,F401
from avg_bench.cli import leaderboard as _leaderboard  # noqa: E402,F401


def main() -> None:
    """Console-script entry point: run the app, turning user errors into one clean line."""
    from avg_bench.cli.fast import run_fast

    try:
        if run_fast(sys.argv[1:]):  # plain options: skip typer's pydantic-based parsing (~0.2 s)
            return
        app()
    except AvgBenchError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
