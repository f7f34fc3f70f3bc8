"""``avg-bench baseline list|run|summary|ablation`` and ``avg-bench demo``: the commands this package adds.

:func:`register` is the ``avg_bench.commands`` entry point (pyproject.toml): the core CLI calls it
only when a command line asks for one of these commands, so ``avg-bench evaluate`` never loads
this package. Heavy imports stay inside the commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from avg_bench.spec import AVG_V1

_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench baseline list\n"
    "  avg-bench baseline run knn-av --data avg-synth/ --split val --evaluate\n"
    "  avg-bench baseline run knn-visual --data avg-synth/ -o visual_features=hf:google/siglip-base-patch16-224 -o k=20\n"
    "  avg-bench baseline run train-prior --data avg-synth/ --split test --out test_predictions.jsonl\n"
    "  avg-bench baseline run vlm-zero-shot --data avg-synth/ -o model=Qwen/Qwen2.5-VL-3B-Instruct -o device=cuda\n"
    "  avg-bench baseline summary avg-demo --readme baselines/README.md\n"
)

baseline_app = typer.Typer(
    help="Run the reference baselines: fit on train, predict a split, write predictions.jsonl, score.",
    epilog=_EPILOG,
    no_args_is_help=True,
    rich_markup_mode="rich",
)


@baseline_app.command("list", epilog=_EPILOG)
def list_baselines(
    json_out: bool = typer.Option(False, "--json", help="Print the baselines and their options as JSON."),
) -> None:
    """Show every baseline, what it looks at, and its options (-o KEY=VALUE)."""
    from baselines.registry import BASELINES, option_specs

    table = []
    for entry in BASELINES.values():
        options = {name: {"default": spec.default, "help": spec.help} for name, spec in option_specs(entry.load()).items()}
        table.append({"name": entry.name, "summary": entry.summary, "modalities": list(entry.modalities),
                      "extra": entry.extra, "options": options})
    if json_out:
        sys.stdout.write(json.dumps(table, indent=2, default=str) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    view = Table(title="AVG-Bench baselines", show_lines=True)
    for column in ("name", "modalities", "what", "options (-o KEY=VALUE, default)"):
        view.add_column(column)
    for row in table:
        options = "\n".join(f"{name}={option['default']!s}" for name, option in row["options"].items())
        view.add_row(row["name"], ", ".join(row["modalities"]) or "none", row["summary"], options or "-")
    Console().print(view)


@baseline_app.command("run", epilog=_EPILOG)
def run(
    name: str = typer.Argument(..., help="Baseline name (see `avg-bench baseline list`).", show_default=False),
    data: str = typer.Option(None, "--data", help="Dataset folder or Hub repository (owner/name[@revision]); default $AVG_BENCH_DATA or the cache."),
    config: str = typer.Option("seen", "--config", "-c", help="Dataset configuration: seen or geo-holdout."),
    split: str = typer.Option("val", "--split", "-s", help="Split to predict (val; test for the leaderboard)."),
    train_split: str = typer.Option("train", "--train-split", help="Split to fit on."),
    out: Path = typer.Option(None, "--out", help="predictions.jsonl to write (default predictions/NAME-CONFIG-SPLIT.jsonl)."),
    option: list[str] = typer.Option(None, "--option", "-o", help="Baseline option KEY=VALUE (repeat); see `baseline list`."),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same predictions."),
    evaluate: bool = typer.Option(False, "--evaluate", "-e", help="Score the predictions (needs a labelled split)."),
    bootstrap: int = typer.Option(AVG_V1.default_bootstrap, "--bootstrap", min=0, help="Location resamples for CIs with --evaluate."),
    json_out: bool = typer.Option(False, "--json", help="Print the run record (and results) as JSON on stdout."),
    limit: int = typer.Option(None, "--limit", min=1, help="Predict only the first N clips (a quick check; scores them alone)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Fit a baseline on the training split, predict --split, write predictions.jsonl (and score it)."""
    from baselines.registry import parse_options
    from baselines.run import run_baseline

    result = run_baseline(
        name, data=data, config=config, split=split, train_split=train_split, out=out,
        options=parse_options(option), seed=seed, evaluate=evaluate, bootstrap=bootstrap,
        progress=not quiet and not json_out, limit=limit,
    )
    if json_out:
        payload = {"predictions": str(result.predictions_path), "run": result.record}
        if result.results is not None:
            payload["results"] = json.loads(result.results.to_json())
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    typer.echo(f"predictions written to {result.predictions_path} ({result.record['clips']} clips)", err=True)
    if result.results is not None:
        from avg_bench.report import print_results

        print_results(result.results)


@baseline_app.command("summary", epilog=(
    "[bold]Examples[/]\n\n"
    "  avg-bench baseline summary avg-demo\n"
    "  avg-bench baseline summary avg-demo --readme baselines/README.md\n\n"
    "Reads DEMO_DIR/demo.json and DEMO_DIR/results/*.json, prints the table, and with --readme replaces the\n"
    "text between the <!-- baseline-table --> markers, so the README's table is never typed by hand."
))
def summary(
    demo_dir: Path = typer.Argument(..., help="The folder `avg-bench demo` wrote.", show_default=False),
    readme: Path = typer.Option(None, "--readme", help="README to update between the table markers.", show_default=False),
) -> None:
    """Print the baselines' results from a demo run as one Markdown table (and write it into a README)."""
    from baselines.summary import summarize

    sys.stdout.write(summarize(demo_dir, readme=readme) + "\n")


@baseline_app.command("ablation", epilog=(
    "[bold]Examples[/]\n\n"
    "  avg-bench baseline ablation --data avg-synth-fusion/ --split val\n"
    "  avg-bench baseline ablation --data avg-synth-fusion/ --readme baselines/reference/README.md -o preset=tiny-cpu\n"
    "  avg-bench baseline ablation --data owner/AVG -o preset=qwen2.5-vl-3b-1gpu --out-dir ablation-3b\n\n"
    "Fits and scores avg-reference, -vision, -audio and the knn-* rows, runs the paired cluster bootstrap of\n"
    "avg-reference against each, prints both tables, and with --readme replaces the text between the\n"
    "<!-- ablation-table --> markers."
))
def ablation(
    data: str = typer.Option(..., "--data", help="Dataset folder or Hub repository (owner/name[@revision]).", show_default=False),
    config: str = typer.Option("seen", "--config", "-c", help="Dataset configuration: seen or geo-holdout."),
    split: str = typer.Option("val", "--split", "-s", help="Labelled split to score (val)."),
    out_dir: Path = typer.Option(Path("ablation"), "--out-dir", help="Folder for each row's predictions and results."),
    bootstrap: int = typer.Option(AVG_V1.default_bootstrap, "--bootstrap", min=0, help="Location resamples for the CIs and the paired test."),
    seed: int = typer.Option(0, "--seed", help="Seed of every row and of the bootstrap."),
    readme: Path = typer.Option(None, "--readme", help="README to update between the ablation-table markers.", show_default=False),
    option: list[str] = typer.Option(None, "--option", "-o", help="avg-reference option KEY=VALUE (repeat)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """The reference model against its ablations and the knn-* rows, with 95% CIs and paired p-values."""
    from baselines.reference.ablation import ablation_table, write_readme
    from baselines.registry import parse_options

    if readme is not None and not readme.is_file():  # before hours of training, not after
        from avg_bench.errors import AvgBenchError

        raise AvgBenchError(f"--readme {readme}: no such file")
    table = ablation_table(data, config=config, split=split, out_dir=out_dir, options=parse_options(option),
                           bootstrap=bootstrap, seed=seed, progress=not quiet)
    sys.stdout.write(table + "\n")
    if readme is not None:
        write_readme(readme, table)


def register(app: typer.Typer) -> None:
    """Add ``baseline`` and ``demo`` to the ``avg-bench`` app (the ``avg_bench.commands`` entry point)."""
    from baselines.demo_cli import DEMO_EPILOG, demo

    app.add_typer(baseline_app, name="baseline")
    app.command(epilog=DEMO_EPILOG)(demo)
