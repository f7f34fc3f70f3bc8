"""publish refuses media whose source licence does not allow redistribution; --dry-run lists each and why."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from avg_bench.data.licences import source_licence, verdict
from avg_bench.data.publish import PublishError, plan, publish

CLI = Path(sys.executable).parent / "avg-bench"


@pytest.mark.parametrize("licence, allowed", [
    ("CC0-1.0 (synthetic)", True),
    ("Creative Commons Attribution license (reuse allowed)", True),  # YouTube's CC BY label
    ("https://creativecommons.org/licenses/by-sa/4.0/", True),
    ("CC BY-NC 4.0", False),
    ("https://creativecommons.org/licenses/by-nd/3.0/", False),
    ("Standard YouTube License", False),
    (None, False),
    ("MIT", False),
])
def test_licence_verdicts(licence, allowed):
    assert verdict(licence).redistributable is allowed


def test_source_licence_comes_from_the_info_json():
    assert source_licence({"license": " CC BY 4.0 "}) == "CC BY 4.0"
    assert source_licence({"license": None}) is None and source_licence({}) is None


def _relicense(shard: Path, licences: dict[int, str]) -> list[str]:
    table = pq.read_table(shard)
    values = table.column("license").to_pylist()
    for row, licence in licences.items():
        values[row] = licence
    pq.write_table(table.set_column(table.column_names.index("license"), "license", pa.array(values, pa.string())), shard)
    return [table.column("clip_id")[row].as_py() for row in licences]


def test_publish_dry_run_on_mixed_licences_lists_what_it_would_refuse_and_why(local_build, tmp_path):
    folder = tmp_path / "ds"
    shutil.copytree(local_build.out_dir, folder)
    info = (folder / "build_info.json").read_text()
    assert '"licenses": {\n    "CC0-1.0 (synthetic)"' in info  # recorded through the build
    assert "| CC0-1.0 (synthetic) |" in (folder / "README.md").read_text()
    val = next(folder.glob("data/seen/val-*.parquet"))
    test = next(folder.glob("data/geo-holdout/test-*.parquet"))
    nc, yt = _relicense(val, {0: "CC BY-NC 4.0", 1: "Standard YouTube License"})
    (hidden,) = _relicense(test, {2: "https://creativecommons.org/licenses/by-nd/4.0/"})
    _relicense(next(folder.glob("data/seen/train-*.parquet")), {0: "CC BY 4.0"})  # allowed: not listed

    where = lambda shard: shard.relative_to(folder).as_posix()  # noqa: E731
    refused = {(r.shard, r.clip_id): r for r in plan(folder).refused}  # a clip sits in one shard per config
    assert set(refused) == {(where(val), nc), (where(val), yt), (where(test), hidden)}
    assert refused[where(val), nc].reason.startswith("NonCommercial")
    assert refused[where(test), hidden].reason.startswith("NoDerivatives")

    done = subprocess.run([str(CLI), "publish", str(folder), "--repo", "me/AVG-Synth", "--dry-run"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "would refuse 3 clip(s): their source licence does not allow redistribution" in done.stdout
    assert f"  {yt}  {where(val)}  licence 'Standard YouTube License': 'Standard YouTube License' reserves all rights" in done.stdout
    assert done.stderr.startswith("error: ") and "3 clip(s) carry media" in done.stderr

    class Hub:  # never reached: the refusal comes first
        def create_repo(self, *a, **k):
            raise AssertionError("nothing may be sent")

    with pytest.raises(PublishError, match=r"3 clip\(s\) carry media whose source licence does not allow redistribution"):
        publish(folder, "me/AVG-Synth", api=Hub())
