"""Planting faults in a copy of the built AVG-Synth dataset, and reading what validate found."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

from avg_bench.data.validate import validate


def copy_dataset(dataset, tmp_path: Path) -> Path:
    """A copy of the dataset and, beside it, of its hidden labels (so validate finds both)."""
    root = tmp_path / "dataset"
    shutil.copytree(dataset.root, root, ignore=shutil.ignore_patterns(".work"))
    shutil.copytree(dataset.labels_dir, tmp_path / "dataset-hidden-labels")
    return root


def rewrite(root: Path, config: str, split: str, change) -> list[dict]:
    """Apply ``change`` to the rows of the split's first shard, in place; returns the new rows."""
    shard = next((root / "data" / config).glob(f"{split}-*.parquet"))
    table = pq.read_table(shard)
    rows = table.to_pylist()
    change(rows)
    pq.write_table(table.from_pylist(rows, schema=table.schema), shard)
    return rows


def violations(root: Path, **kwargs) -> dict[str, set[str]]:
    """check -> subjects of every violation validate reports."""
    found = defaultdict(set)
    for v in validate(root, **kwargs).violations:
        found[v.check].add(v.subject)
    return found
