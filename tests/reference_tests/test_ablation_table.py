"""The ablation script's tables come from the scorer's own results and paired comparison."""

from __future__ import annotations

import json

import avg_bench
from baselines.reference.ablation import END, START, markdown, write_readme

LABELS = avg_bench.labels_from_records([
    {"clip_id": f"c{i}", "location_id": f"L{i % 4}", "lat": 10.0 * (i % 4), "lon": 20.0 * (i % 4)} for i in range(8)])


def _predictions(offset: float) -> list[dict]:
    return [{"clip_id": f"c{i}", "lat": 10.0 * (i % 4) + offset * (i % 2), "lon": 20.0 * (i % 4)} for i in range(8)]


def test_markdown_has_ci_rows_and_paired_differences(tmp_path):
    full, vision = _predictions(0.0), _predictions(30.0)  # the ablation misses half the clips by 30 deg
    results = {"avg-reference": avg_bench.evaluate(full, LABELS, bootstrap=200),
               "avg-reference-vision": avg_bench.evaluate(vision, LABELS, bootstrap=200)}
    (tmp_path / "vision.jsonl").write_text("\n".join(json.dumps(p) for p in vision))
    (tmp_path / "full.jsonl").write_text("\n".join(json.dumps(p) for p in full))
    paired = {"avg-reference-vision": avg_bench.evaluate(tmp_path / "full.jsonl", LABELS, baseline=tmp_path / "vision.jsonl",
                                                         bootstrap=200)}
    table = markdown(results, paired, title="T")
    assert "| `avg-reference` | 100.0 [100.0, 100.0] |" in table
    assert "| `avg-reference-vision` | +50.0 [" in table  # 25 km: every clip vs half of them
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{START}\nold\n{END}\nafter\n")
    write_readme(readme, table)
    assert readme.read_text() == f"before\n{START}\n{table}\n{END}\nafter\n"
