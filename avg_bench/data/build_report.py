"""The end-of-build report: coverage per split, continent and location; failures by class; sizes and speed.

Made from the ledger and the manifest, so ``avg-bench build --report OUT`` can print it any time
(also while other shards are still running). It is saved as ``OUT/.work/report.json``: inside the
work folder, which is never published, because it ties test-split clip ids to their locations.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from avg_bench.cache import atomic_write_bytes
from avg_bench.data.failures import DESCRIPTIONS, is_permanent
from avg_bench.data.ledger import LEDGER_NAME, Ledger, LedgerRow
from avg_bench.data.schema import ManifestRecord
from avg_bench.errors import AvgBenchError

REPORT_NAME = "report.json"


def make_report(records: Sequence[ManifestRecord], rows: Sequence[LedgerRow], hierarchy, *, elapsed_s: float | None = None,
                attempted: int | None = None, breaker: str | None = None, shard: tuple[int, int] | None = None,
                published: Mapping[str, Mapping[str, str]] | None = None) -> dict:
    """The report of ``rows`` (the ledger rows of this build or shard) over their manifest ``records``.

    Coverage by split is by the ``seen`` protocol's split, drawn over the whole manifest without the
    key, or, for a public manifest, its ``published`` splits (config -> clip_id -> split).
    """
    split_of = _seen_split_of(records, published)
    continent_of = {r.clip_id: c for r, c in zip(records, hierarchy.continent)}
    location_of = {r.clip_id: r.location_id for r in records}
    coverage: dict[str, dict[str, dict[str, int]]] = {"split": {}, "continent": {}, "location": {}}
    states: dict[str, int] = defaultdict(int)
    failures: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        states[row.state] += 1
        for level, key in (("split", split_of[row.clip_id]), ("continent", continent_of[row.clip_id]),
                           ("location", location_of[row.clip_id])):
            cell = coverage[level].setdefault(key, {"ok": 0, "total": 0})
            cell["total"] += 1
            cell["ok"] += row.state == "ok"
        if row.error_class and row.state != "ok":
            failures[row.error_class].append(row.clip_id)
    ok_rows = [r for r in rows if r.state == "ok"]
    started = [r.started_at for r in rows if r.started_at]
    finished = [r.finished_at for r in ok_rows if r.finished_at]
    span = (max(finished) - min(started)) if started and finished else None
    seconds = elapsed_s if elapsed_s is not None else span
    report: dict[str, Any] = {
        "clips": len(rows),
        "shard": f"{shard[0]}/{shard[1]}" if shard else None,
        "states": {s: states.get(s, 0) for s in ("ok", "pending", "retryable", "permanent")},
        "complete": len(ok_rows) == len(rows),
        "coverage": {level: dict(sorted(cells.items())) for level, cells in coverage.items()},
        "failures": {c: {"permanent": is_permanent(c), "meaning": DESCRIPTIONS[c], "clip_ids": sorted(ids)}
                     for c, ids in sorted(failures.items())},
        "sizes": {
            "download_bytes": sum(r.download_bytes or 0 for r in ok_rows),
            "output_bytes": sum(r.output_bytes or 0 for r in ok_rows),
        },
        "throughput": {
            "seconds": round(seconds, 3) if seconds is not None else None,
            "clips_attempted": attempted,
            "fetch_s_mean": _mean([r.fetch_s for r in ok_rows]),
            "process_s_mean": _mean([r.process_s for r in ok_rows]),
        },
        "breaker": breaker,
    }
    done_now = attempted if attempted is not None else len(ok_rows)
    if seconds:
        report["throughput"]["clips_attempted_per_minute"] = round(60.0 * done_now / seconds, 2) if done_now else 0.0
    return report


def _seen_split_of(records: Sequence[ManifestRecord], published: Mapping[str, Mapping[str, str]] | None) -> dict[str, str]:
    """clip_id -> its split for the report: the seen protocol's (or, a clip absent from a published seen, another config's)."""
    if published is None:
        from avg_bench.data.splits import seen_splits

        return seen_splits(records)  # over the whole manifest: the split a clip will have in the dataset
    split_of: dict[str, str] = {}
    for by_clip in published.values():  # configs in spec order: seen first
        for clip_id, split in by_clip.items():
            split_of.setdefault(clip_id, split)
    return split_of


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(sum(kept) / len(kept), 3) if kept else None


def save_report(out_dir: Path, report: dict) -> Path:
    """Write the build report under ``.work/`` atomically; returns its path."""
    path = Path(out_dir) / ".work" / REPORT_NAME
    atomic_write_bytes(path, (json.dumps(report, indent=2) + "\n").encode())
    return path


def report_of(out_dir: str | Path) -> dict:
    """The report of a build folder, made afresh from its ledger and the manifest copy beside it."""
    from avg_bench.data.manifest import read_manifest
    from avg_bench.data.public import read_stated_splits
    from avg_bench.geo.gazetteer import default_gazetteer

    work = Path(out_dir) / ".work"
    if not (work / LEDGER_NAME).is_file():
        raise AvgBenchError(f"{out_dir}: no build ledger ({work / LEDGER_NAME}); is it a build folder (made by avg-bench build)?")
    records = read_manifest(work / "manifest.jsonl")
    with Ledger(work / LEDGER_NAME) as ledger:
        rows = ledger.rows()
    known = {r.clip_id for r in rows}
    records = [r for r in records if r.clip_id in known] or records
    hierarchy = default_gazetteer().reverse([r.lat for r in records], [r.lon for r in records])
    saved = work / REPORT_NAME
    shard = json.loads(saved.read_text()).get("shard") if saved.is_file() else None
    stated = read_stated_splits(work / "manifest.jsonl")
    report = make_report(records, rows, hierarchy, published=stated.by_config if stated and stated.every_row else None)
    report["shard"] = shard
    return report


def render_report(report: dict) -> str:
    """The report as plain text for the terminal."""
    states = report["states"]
    lines = [
        f"clips: {report['clips']}" + (f" (shard {report['shard']})" if report.get("shard") else "")
        + f"  ok {states['ok']}, pending {states['pending']}, retryable {states['retryable']}, permanent {states['permanent']}",
    ]
    for level in ("split", "continent"):
        cells = report["coverage"][level]
        lines.append(f"coverage by {level}: " + ", ".join(f"{k} {v['ok']}/{v['total']}" for k, v in cells.items()))
    short = [k for k, v in report["coverage"]["location"].items() if v["ok"] < v["total"]]
    lines.append(f"locations with missing clips: {len(short)} of {len(report['coverage']['location'])}"
                 + (f" ({', '.join(short[:10])}{', ...' if len(short) > 10 else ''})" if short else ""))
    for error_class, entry in report["failures"].items():
        ids = entry["clip_ids"]
        kind = "permanent" if entry["permanent"] else "retryable"
        lines.append(f"failed {error_class} ({kind}, {entry['meaning']}): {len(ids)}: "
                     + ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else ""))
    sizes, speed = report["sizes"], report["throughput"]
    lines.append(f"downloaded {sizes['download_bytes'] / 2**20:.1f} MiB, canonical media {sizes['output_bytes'] / 2**20:.1f} MiB")
    if speed.get("clips_attempted_per_minute") is not None:
        lines.append(f"throughput: {speed['clips_attempted_per_minute']:.1f} clips attempted/min over {speed['seconds']:.1f} s")
    return "\n".join(lines)
