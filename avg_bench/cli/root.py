"""The ``avg-bench`` typer app: the core's own commands, and the client packages' commands on demand.

The core never imports ``baselines`` or ``leaderboard``. Those packages register their own
sub-commands through the ``avg_bench.commands`` entry-point group (a ``register(app)`` function
each); :func:`load_plugins` runs them only when a command line asks for a command the core does not
have, or for the full ``--help``.
"""

from __future__ import annotations

import importlib

import typer

from avg_bench._version import __version__
from avg_bench.cli.declare import typer_command
from avg_bench.cli.evaluate import EPILOG as EVALUATE_EPILOG
from avg_bench.cli.evaluate import evaluate
from avg_bench.errors import AvgBenchError
from avg_bench.predictions import PREDICTION_FORMAT

#: Entry-point group through which client packages add sub-commands (see pyproject.toml).
GROUP = "avg_bench.commands"
#: Commands the project's own client packages provide: the package and the install hint when absent.
PLUGIN_COMMANDS = {
    "baseline": ("baselines", "pip install 'avg-bench[baselines]'"),
    "demo": ("baselines", "pip install 'avg-bench[baselines]'"),
    "leaderboard": ("leaderboard", "pip install 'avg-bench[leaderboard]'"),
}

_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench evaluate predictions.jsonl --split val\n"
    "  avg-bench evaluate predictions.jsonl --labels examples/labels.jsonl --json results.json\n"
    "  avg-bench compare a.jsonl b.jsonl --split val --format md\n"
    "  avg-bench report results/*.json --out report/\n"
    "  avg-bench validate avg-synth/\n"
    "  avg-bench demo\n"
    "  avg-bench baseline run knn-av --data avg-demo/avg-synth --split val --evaluate\n"
    "  avg-bench baseline summary avg-demo --readme baselines/README.md\n"
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


#: The core's command modules, in the order --help lists them (evaluate first); importing one
#: registers its commands, and each keeps its heavy imports inside the command.
CORE_MODULES = ("compare", "report", "submit", "download", "validate", "curate", "build", "synth", "locations", "doctor")

app.command(name="evaluate", epilog=EVALUATE_EPILOG)(typer_command(evaluate))
for _module in CORE_MODULES:
    importlib.import_module(f"avg_bench.cli.{_module}")

_loaded = False
_missing: dict[str, str] = {}


def registered_names() -> set[str]:
    """Names of the commands and command groups the app has now (the core's own until plugins load)."""
    names = {command.name or command.callback.__name__ for command in app.registered_commands if command.callback}
    groups = {group.name or (group.typer_instance.info.name if group.typer_instance else None) for group in app.registered_groups}
    return names | {name for name in groups if isinstance(name, str)}


def load_plugins() -> typer.Typer:
    """Add every ``avg_bench.commands`` entry point's commands to :data:`app` (once), sorted by name."""
    global _loaded
    if _loaded:
        return app
    _loaded = True
    from importlib.metadata import entry_points

    for point in sorted(entry_points(group=GROUP), key=lambda point: point.name):
        try:
            register = point.load()
        except ImportError as exc:
            # A broken or partial install: keep the rest of the CLI usable; the command reports it.
            _missing[point.name] = exc.name or str(exc)
            continue
        register(app)
    return app


def check_command(name: str) -> None:
    """Raise a clear user error when ``name`` belongs to a client package that is not installed."""
    if name not in PLUGIN_COMMANDS or name in registered_names():
        return
    package, hint = PLUGIN_COMMANDS[name]
    detail = f" ({_missing[package]} could not be imported)" if package in _missing else ""
    raise AvgBenchError(f"'avg-bench {name}' comes from the {package} package, which is not installed{detail}: {hint}")


def app_for(argv: list[str]) -> typer.Typer:
    """The app a command line needs: the core alone, or with the client packages' commands."""
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if command is None or command not in registered_names():
        load_plugins()
        if command is not None:
            check_command(command)
    return app
