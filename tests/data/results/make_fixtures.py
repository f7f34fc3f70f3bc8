"""Write one results file per results schema version (run when a new schema version is added).

    python tests/data/results/make_fixtures.py

Existing versions are never regenerated: they pin what older toolkits wrote, and
``tests/test_results.py`` checks that this toolkit still reads them.
"""

from __future__ import annotations

from pathlib import Path

import avg_bench
from avg_bench.results import SCHEMA_VERSION

HERE = Path(__file__).parent
EXAMPLES = HERE.parents[2] / "examples"


def main() -> None:
    target = HERE / f"v{SCHEMA_VERSION}.json"
    if target.exists():
        print(f"{target} exists; past versions are never regenerated")
        return
    results = avg_bench.evaluate(
        EXAMPLES / "predictions.jsonl",
        EXAMPLES / "labels.jsonl",
        baseline=EXAMPLES / "baseline_predictions.jsonl",
        bootstrap=200,
        seed=0,
    )
    data = results.to_dict()
    data["dataset"]["labels"] = "examples/labels.jsonl"  # no machine-specific paths in fixtures
    data["predictions"]["source"] = "examples/predictions.jsonl"
    data["comparison"]["baseline"]["source"] = "examples/baseline_predictions.jsonl"
    target.write_text(avg_bench.Results.from_dict(data).to_json(indent=None), encoding="utf-8")  # one line: a few KB
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
