"""The ablation table: ``avg-reference`` vs ``-vision`` vs ``-audio`` and the ``knn-*`` baselines.

``avg-bench baseline ablation --data DATASET [--config seen] [--split val]
[--readme baselines/reference/README.md] [-o key=value ...]`` (:mod:`baselines.cli`) fits and predicts every row with
:func:`baselines.run.run_baseline`, scores it with ``avg_bench.evaluate`` (95% cluster-bootstrap
intervals), runs the scorer's paired cluster bootstrap of the full model against each ablation, and
writes both tables between the ``<!-- ablation-table -->`` markers of the README. ``-o`` options go
to the three ``avg-reference`` rows (for example ``-o preset=qwen2.5-vl-3b-1gpu`` on a GPU).

The dataset is an argument: the fusion variant of AVG-Synth (issue 12, item 6) where it is built,
standard AVG-Synth otherwise, AVG itself at real size.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from avg_bench.results import Results

REFERENCE_ROWS = ("avg-reference", "avg-reference-vision", "avg-reference-audio")
KNN_ROWS = ("knn-audio", "knn-visual", "knn-av")
START, END = "<!-- ablation-table:start -->", "<!-- ablation-table:end -->"
PAIRED = (("acc@25km", "25 km"), ("acc@750km", "750 km"), ("acc@2500km", "2500 km"), ("geoscore", "GeoScore"))


def run_ablation(data: str, *, config: str, split: str, out_dir: Path, options: dict[str, str], bootstrap: int,
                 seed: int, progress: bool = True) -> tuple[dict[str, Results], dict[str, Results], dict[str, float]]:
    """Every row scored, the full model compared with each ablation, and each row's wall time."""
    from avg_bench.evaluation import evaluate
    from baselines.run import run_baseline

    out_dir.mkdir(parents=True, exist_ok=True)
    results, paths, seconds = {}, {}, {}
    for name in REFERENCE_ROWS + KNN_ROWS:
        start = time.perf_counter()
        run = run_baseline(name, data=data, config=config, split=split, out=out_dir / f"{name}.jsonl",
                           options=options if name in REFERENCE_ROWS else None, seed=seed, evaluate=True,
                           bootstrap=bootstrap, progress=progress)
        seconds[name] = time.perf_counter() - start
        results[name], paths[name] = run.results, run.predictions_path
        run.results.to_json(out_dir / f"{name}.json")
    labels = _labels(data, config, split)
    paired = {name: evaluate(paths["avg-reference"], labels, baseline=paths[name], allow_missing=True,
                             bootstrap=bootstrap, seed=seed, split=split, config=config)
              for name in REFERENCE_ROWS[1:] + KNN_ROWS}
    return results, paired, seconds


def _labels(data: str, config: str, split: str):
    from baselines.dataset import load_split

    return load_split(data, split, config=config).shards


def markdown(results: dict[str, Results], paired: dict[str, Results], *, title: str) -> str:
    """The accuracy table with 95% CIs, then the paired differences (full minus row) with p-values."""
    from baselines.summary import markdown_table

    caption = ("Paired cluster bootstrap, `avg-reference` minus each row "
               "(difference in percentage points, GeoScore in points; 95% CI; two-sided p):")
    lines = [title, "", markdown_table(results), "", caption, ""]
    header = ["`avg-reference` vs", *(label for _, label in PAIRED)]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, result in paired.items():
        cells = [f"`{name}`"]
        for key, _ in PAIRED:
            d = result.comparison.metrics[key]
            scale = 1 if key == "geoscore" else 100
            ci = "" if d.ci_low is None else f" [{scale * d.ci_low:+.1f}, {scale * d.ci_high:+.1f}]"
            p = "" if d.p_value is None else f", p={d.p_value:.3f}"
            cells.append(f"{scale * d.value:+.1f}{ci}{p}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_readme(readme: Path, table: str) -> None:
    """Replace the table between the README's ablation markers."""
    from baselines.summary import update_readme

    update_readme(readme, table, markers=(START, END))


def ablation_table(data: str, *, config: str, split: str, out_dir: Path, options: dict[str, str], bootstrap: int,
                   seed: int, progress: bool = True) -> str:
    """Run :func:`run_ablation` and return its captioned Markdown table (what the command prints)."""
    results, paired, seconds = run_ablation(data, config=config, split=split, out_dir=out_dir, options=options,
                                            bootstrap=bootstrap, seed=seed, progress=progress)
    any_result = next(iter(results.values()))
    title = (f"Dataset `{any_result.dataset.get('revision') or '?'}`, config `{config}`, split `{split}` "
             f"({any_result.counts.labelled} clips, {any_result.counts.locations} locations); seed {seed}, "
             f"{bootstrap} bootstrap resamples; avg-reference options: {json.dumps(options) or '{}'}; "
             f"wall time per row (s): " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()) + ".")
    return markdown(results, paired, title=title)
