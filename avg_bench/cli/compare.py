"""``avg-bench compare``: several prediction files side by side, each tested against the first."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from avg_bench.cli.root import app
from avg_bench.spec import AVG_V1

_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench compare knn-visual.jsonl knn-av.jsonl flow-av.jsonl --split val --data avg-demo/avg-synth\n"
    "  avg-bench compare a.jsonl b.jsonl --labels labels.jsonl --format latex > table.tex\n"
    "  avg-bench compare a.jsonl b.jsonl --labels labels.jsonl --json-dir results/ --format csv\n\n"
    "The first file is the reference: every other file gets its paired cluster-bootstrap difference "
    "and p-value against it. Compare takes prediction files (not results JSON): a paired test needs "
    "each clip's prediction from both models."
)


@app.command(epilog=_EPILOG)
def compare(
    predictions: list[Path] = typer.Argument(..., help="Two or more predictions.jsonl; the first is the reference.", show_default=False),
    labels: list[Path] = typer.Option(None, "--labels", "-l", help="Labels: a .jsonl or .parquet file (repeat for several shards)."),
    split: str = typer.Option(None, "--split", "-s", help="Score against a split of the local dataset instead (val, train)."),
    config: str = typer.Option("seen", "--config", "-c", help="Dataset configuration with --split: seen or geo-holdout."),
    data: Path = typer.Option(None, "--data", help="Dataset root with --split (default: $AVG_BENCH_DATA or the cache)."),
    table_format: str = typer.Option("md", "--format", "-f", help="md, latex or csv."),
    json_dir: Path = typer.Option(None, "--json-dir", help="Also write each file's results JSON here (NAME.json), e.g. for `avg-bench report`.",
                                  show_default=False),
    allow_missing: bool = typer.Option(False, "--allow-missing", help="Score missing/abstained clips as the worst case instead of failing."),
    bootstrap: int = typer.Option(AVG_V1.default_bootstrap, "--bootstrap", min=0, help="Location resamples for 95% CIs (0: none)."),
    seed: int = typer.Option(AVG_V1.default_seed, "--seed", help="Seed of the bootstrap (the same resamples for every file)."),
) -> None:
    """Score several prediction files on the same labels and print one table, paired tests against the first."""
    from avg_bench.errors import AvgBenchError
    from avg_bench.evaluation import evaluate
    from avg_bench.labels import load_labels
    from avg_bench.tables import FORMATS, render

    if len(predictions) < 2:
        raise AvgBenchError("compare needs at least two prediction files (the first is the reference)")
    if table_format not in FORMATS:
        raise AvgBenchError(f"--format {table_format!r}: expected one of {', '.join(FORMATS)}")
    if bool(labels) == bool(split):
        raise AvgBenchError("give exactly one of --labels FILE or --split NAME")
    names = [p.stem for p in predictions]
    if len(set(names)) != len(names):
        names = [str(p) for p in predictions]  # same file names in different folders: show the paths
    source: Path | list[Path]
    if split:
        from avg_bench.data.layout import split_shards

        source = split_shards(split, config=config, root=data)
    else:
        source = labels[0] if len(labels) == 1 else labels
    loaded = load_labels(source)
    runs = []
    for i, path in enumerate(predictions):
        results = evaluate(path, loaded, baseline=predictions[0] if i else None, allow_missing=allow_missing,
                           bootstrap=bootstrap, seed=seed, split=split, config=config if split else None)
        runs.append((names[i], results))
        if json_dir is not None:
            from avg_bench.cache import atomic_write_bytes

            atomic_write_bytes(json_dir / f"{path.stem}.json", results.to_json().encode("utf-8"))
    sys.stdout.write(render(runs, table_format))
