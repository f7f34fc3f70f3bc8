"""The demo's local leaderboard: an SQLite board in the demo folder, its entries submitted in-process.

The same service a real board runs (:class:`~leaderboard.service.Leaderboard`): uploads are checked
and scored by the one scorer against the labels the board holds, so each entry's numbers equal the
local results file of the same predictions. Re-running submits only what the board does not have.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from avg_bench.data.layout import split_shards
from leaderboard import store
from leaderboard.config import Settings
from leaderboard.service import Leaderboard
from leaderboard.submissions import SubmissionMeta

TEAM = "AVG-Bench demo"


@dataclass(frozen=True)
class DemoBoard:
    """A demo board: its settings, the entry id of each demo model, and how many entries this run added."""
    settings: Settings
    entries: dict[str, int]  # model name -> entry id
    submitted: int  # new entries this run


def board_labels(dataset: Path, hidden_labels: Path, folder: Path) -> Path:
    """The labels a board holds: ``val`` from the public shards, ``test`` from the build's hidden labels."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for config in ("seen", "geo-holdout"):
        target = folder / config
        target.mkdir(parents=True, exist_ok=True)
        val = target / "val.parquet"
        if not val.is_file():
            columns = ["clip_id", "location_id", "lat", "lon", "continent", "country", "admin1", "city"]
            tables = [pq.read_table(p, columns=columns) for p in split_shards("val", config=config, root=dataset)]
            temporary = target / ".val.parquet.tmp"
            pq.write_table(pa.concat_tables(tables), temporary)
            temporary.replace(val)
        test = hidden_labels / config / "test.parquet"
        if test.is_file() and not (target / "test.parquet").is_file():
            shutil.copyfile(test, target / "test.parquet")
    return folder


def submit_demo(folder: Path, dataset: Path, hidden_labels: Path, predictions: dict[str, Path], *,
                revision: str, modalities: dict[str, str], bootstrap: int, seed: int) -> DemoBoard:
    """Submit every predictions file to the board in ``folder`` (val, config seen) and score them."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = Settings(db_url=f"sqlite:///{folder / 'leaderboard.sqlite3'}",
                        labels_dir=board_labels(dataset, hidden_labels, folder / "labels"),
                        workers=0, bootstrap=bootstrap, seed=seed, title="AVG-Bench demo leaderboard (AVG-Synth)")
    board = Leaderboard(settings)
    try:
        import hashlib

        have = {(e["model_name"], e["predictions_sha256"]): e["id"]
                for e in store.entries(board.engine, split="val", config="seen", statuses=None, include_private=True)
                if e["status"] != "failed"}
        team = store.authenticate(board.engine, store.create_token(board.engine, TEAM))
        entries, submitted = {}, 0
        for name, path in predictions.items():
            data = path.read_bytes()
            key = (name, hashlib.sha256(data).hexdigest())
            if key not in have:
                meta = SubmissionMeta(model_name=name, split="val", config="seen", modalities=modalities.get(name, "audio+visual"),
                                      link="https://github.com/avg-bench/avg-bench/tree/main/baselines",
                                      dataset_version=revision)
                with path.open("rb") as upload:
                    have[key] = board.submit(team, meta, upload, path.name)["id"]
                submitted += 1
            entries[name] = have[key]
        board.score_pending()
    finally:
        board.stop()
    return DemoBoard(settings, entries, submitted)


def serve(settings: Settings, *, port: int = 8000, on_ready=None) -> None:
    """Serve the board on 127.0.0.1 until interrupted (``avg-bench demo --serve``)."""
    import uvicorn

    from leaderboard.app import create_app

    if on_ready is not None:
        on_ready(f"http://127.0.0.1:{port}")
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
