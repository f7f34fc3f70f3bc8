"""``avg-bench evaluate``: score a predictions file.

Registered by :mod:`avg_bench.cli.root`, not here: the fast start (:mod:`avg_bench.cli.fast`)
imports this module alone, without the app and the other commands, and without typer: the
parameters are declared with :mod:`avg_bench.cli.declare`, which records typer's arguments.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from avg_bench.cli.declare import Argument, Option
from avg_bench.errors import AvgBenchError
from avg_bench.predictions import PREDICTION_FORMAT
from avg_bench.spec import AVG_V1

if TYPE_CHECKING:
    from avg_bench.labels import Labels

EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench evaluate predictions.jsonl --split val\n"
    "  avg-bench evaluate predictions.jsonl --labels examples/labels.jsonl --json results.json\n"
    "  avg-bench evaluate mine.jsonl --labels labels.parquet --baseline theirs.jsonl --bootstrap 2000\n"
    "  avg-bench evaluate predictions.jsonl --split val --format md --per-clip clips.jsonl\n\n"
    "[bold]Prediction format[/]\n\n" + PREDICTION_FORMAT.replace("[", "\\[")
)


def evaluate(
    predictions: Path = Argument(..., help="predictions.jsonl to score.", show_default=False),
    labels: list[Path] = Option(None, "--labels", "-l", help="Labels: a .jsonl or .parquet file (repeat for several shards)."),
    split: str = Option(None, "--split", "-s", help="Score against a split of the local dataset instead (val, train)."),
    config: str = Option("seen", "--config", "-c", help="Dataset configuration with --split: seen or geo-holdout."),
    data: Path = Option(None, "--data", help="Dataset root with --split (default: $AVG_BENCH_DATA or the cache)."),
    baseline: Path = Option(None, "--baseline", "-b", help="Second predictions file: paired comparison with CIs and p-values."),
    allow_missing: bool = Option(False, "--allow-missing", help="Score missing/abstained clips as the worst case instead of failing."),
    json_out: str = Option(None, "--json", help="Write the results JSON to this file ('-' for stdout, no table)."),
    bootstrap: int = Option(AVG_V1.default_bootstrap, "--bootstrap", min=0, help="Location resamples for 95% CIs (0: none)."),
    seed: int = Option(AVG_V1.default_seed, "--seed", help="Seed of the bootstrap."),
    label_hierarchy: str = Option(
        "check", "--label-hierarchy",
        help="Hierarchy fields in the labels: 'check' them against the gazetteer (a mismatch is an error) or 'ignore' them.",
    ),
    table_format: str = Option(None, "--format", "-f", help="Print the table as md, latex or csv instead of the terminal table.", show_default=False),
    per_clip: Path = Option(
        None, "--per-clip", help="Write each clip's distance, hits and true/predicted hierarchy as JSON Lines (val-type splits only).", show_default=False,
    ),
) -> None:
    """Score a predictions file with the AVG metrics.

    Accuracy within 1/25/200/750/2500 km, GeoScore, errors in km, Chain-of-Region accuracy,
    95% cluster-bootstrap CIs and per-continent breakdowns.
    """
    from avg_bench.evaluation import evaluate as run_evaluation  # keep `--help` instant

    if label_hierarchy not in ("check", "ignore"):
        raise AvgBenchError(f"--label-hierarchy must be 'check' or 'ignore', found {label_hierarchy!r}")
    if bool(labels) == bool(split):
        raise AvgBenchError("give exactly one of --labels FILE or --split NAME")
    if table_format is not None:
        from avg_bench.tables import FORMATS

        if table_format not in FORMATS:
            raise AvgBenchError(f"--format {table_format!r}: expected one of {', '.join(FORMATS)}")
        if json_out == "-":
            raise AvgBenchError("--json - writes the JSON to stdout: give --json a file name to use it with --format")
    label_source: Labels | Path | list[Path]
    if split:
        from avg_bench.data.layout import split_shards

        label_source = split_shards(split, config=config, root=data)
    else:
        label_source = labels[0] if len(labels) == 1 else labels
    if per_clip is not None:  # load once: the per-clip log and the scorer read the same labels
        from avg_bench.clip_log import refuse_hidden
        from avg_bench.labels import load_labels

        loaded = load_labels(label_source)
        refuse_hidden(split, loaded)
        label_source = loaded
    results = run_evaluation(
        predictions,
        label_source,
        baseline=baseline,
        allow_missing=allow_missing,
        bootstrap=bootstrap,
        seed=seed,
        split=split,
        config=config if split else None,
        label_hierarchy="ignore" if label_hierarchy == "ignore" else "check",
    )
    if per_clip is not None:
        from avg_bench.clip_log import write_clip_log

        count = write_clip_log(per_clip, predictions, loaded, split=split)
        sys.stderr.write(f"per-clip log of {count:,} clips written to {per_clip}\n")
    if json_out == "-":
        sys.stdout.write(results.to_json())
        return
    if table_format is not None:
        from avg_bench.tables import render

        sys.stdout.write(render([(predictions.stem, results)], table_format))
    else:
        from avg_bench.report import print_results

        print_results(results)
    if json_out:
        from avg_bench.cache import atomic_write_bytes

        atomic_write_bytes(Path(json_out), results.to_json().encode("utf-8"))
        sys.stderr.write(f"results written to {json_out}\n")
