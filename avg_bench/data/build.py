"""``avg-bench build``: materialise a manifest into a dataset of parquet shards.

Steps: process every clip into its canonical media through the per-clip ledger of
:mod:`avg_bench.data.remote` (local and remote sources alike; resumable: a clip whose work folder is
complete is never redone), derive the Chain-of-Region labels with the gazetteer, draw the held-out
locations with the operator's secret key and assign both protocols' splits over one hidden pool
(:mod:`avg_bench.data.splits`), write shards with media embedded, the public manifest, the
operator's files (hidden test labels, held-out table, hidden manifest rows: a separate folder, never
published), the checksums file, ``build_info.json`` (with the held-out commitment) and the card.

A **public manifest** (``manifest.jsonl`` of a released dataset: labelled clips only, each row with
its ``splits``) is rebuilt with those splits as published: nothing is drawn, no key is needed, no
operator file is written, and the test splits are empty (``labelled_only`` in ``build_info.json``).
The operator's full manifest (the public rows + ``manifest-hidden.jsonl``) is drawn with the key as
usual, and every split a row states must be the one drawn (a wrong key is an error, not a new dataset).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from avg_bench._version import __version__
from avg_bench.cache import atomic_write_bytes, sha256_file
from avg_bench.data.canonical import CANONICAL, CanonicalFormat
from avg_bench.data.holdout import (
    HELDOUT_FILE,
    HIDDEN_MANIFEST,
    commitment,
    heldout_table,
    load_key,
)
from avg_bench.data.manifest import read_manifest, write_manifest
from avg_bench.data.public import (
    PUBLIC_MANIFEST,
    StatedSplits,
    labels_in_public,
    read_stated_splits,
    stated_split_conflicts,
    write_public_manifest,
)
from avg_bench.data.schema import ManifestRecord, withhold
from avg_bench.data.shards import media_value, write_split
from avg_bench.data.splits import SPLITS, assign_splits, hidden_pool
from avg_bench.errors import AvgBenchError
from avg_bench.geo.gazetteer import default_gazetteer
from avg_bench.spec import AVG_V1

if TYPE_CHECKING:
    from avg_bench.data.remote import RunOptions, RunOutcome

CONFIGS = AVG_V1.configs
HIDDEN_SPLITS = AVG_V1.hidden_splits
WORK_DIR = ".work"
LABEL_COLUMNS = ("clip_id", "location_id", "lat", "lon", "continent", "country", "admin1", "city",
                 "source_platform", "source_id", "source_start_s", "source_end_s")


@dataclass
class BuildResult:
    """What a build made: where, its revision and counts, and the clip stage's (ledger's) outcome and report."""

    out_dir: Path
    labels_dir: Path
    revision: str
    counts: dict[str, dict[str, int]]  # config -> split -> clips
    failed_checks: dict[str, list[str]] = field(default_factory=dict)  # clip_id -> failed checks
    #: The ledger stage's outcome: set by every :func:`build_dataset` (None only for a result made by hand).
    outcome: RunOutcome | None = None
    report: dict | None = None
    #: False when clips are missing (failed or pending) or this was one --shard part: no shards written.
    complete: bool = True
    dataset_written: bool = True
    #: True for a rebuild from a public manifest: its published train/val splits, no test split, no operator files.
    labelled_only: bool = False


def default_labels_dir(out_dir: Path) -> Path:
    """Hidden labels live beside the dataset, never inside the folder that gets published."""
    return out_dir.parent / f"{out_dir.name}-hidden-labels"


def build_dataset(
    manifest_path: str | Path,
    out_dir: str | Path,
    *,
    name: str = "AVG",
    version: str | None = None,
    labels_dir: str | Path | None = None,
    workers: int = 2,
    fmt: CanonicalFormat = CANONICAL,
    expected_clips_per_location: int | None = None,
    progress: bool = True,
    process: Callable | None = None,
    run_options: RunOptions | None = None,
    merge: Sequence[str | Path] = (),
    holdout_key: str | Path | None = None,
) -> BuildResult:
    """Build ``out_dir`` from a manifest.

    Four steps, each its own function: collect (:func:`_collect`: every clip's canonical media),
    splits (:func:`_assign_splits`), revision (:func:`dataset_revision`), write
    (:func:`_write_dataset`). Every build's clips go through the ledger stage
    (:func:`avg_bench.data.remote.run_clips`, ledger in ``out_dir/.work``): a remote source (an
    http(s) URL or a platform id) is fetched first, a local one (``file``/``synthetic``) is cut
    from its file (a missing local file is an :class:`AvgBenchError` before any clip is made);
    failures are retried and recorded per clip, and ``build_report``'s report is saved in
    ``out_dir/.work``. ``workers`` is the pool size unless ``run_options`` is given. Then only
    finished clips are written, with splits assigned over the whole manifest (so a clip's split
    never depends on which others failed); a ``--shard`` part writes no shards at all.

    ``holdout_key`` is the operator's secret key file for the geo-holdout draw (see
    :func:`avg_bench.data.holdout.load_key` for the fallbacks). A public manifest (rows with
    ``splits``) keeps its published splits instead: no draw, no operator files, empty test splits.
    """
    version = version or (AVG_V1.version if name == AVG_V1.name else f"{name}-v1")
    manifest_path = Path(manifest_path)
    out_dir = Path(out_dir)
    labels_dir = Path(labels_dir) if labels_dir else default_labels_dir(out_dir)
    records = read_manifest(manifest_path)
    if not records:
        raise AvgBenchError(f"{manifest_path}: the manifest has no clips")
    stated = read_stated_splits(manifest_path)
    published = stated.by_config if stated is not None and stated.every_row else None
    if published is not None and (holdout_key is not None or labels_dir != default_labels_dir(out_dir)):
        raise AvgBenchError(f"{manifest_path} is a public manifest: it is rebuilt with its published splits, so there is no "
                            "held-out draw and no hidden label to write; leave out --holdout-key and --labels-out")
    hierarchy = default_gazetteer().reverse([r.lat for r in records], [r.lon for r in records])
    continent_of_location: dict[str, str] = {}
    for record, continent in zip(records, hierarchy.continent):
        continent_of_location.setdefault(record.location_id, continent)
    # The operator's full manifest states some splits: the key's draw must give them, checked before any clip.
    checked_draw = (_draw_splits(records, continent_of_location, labels_dir, holdout_key, stated, manifest_path)
                    if stated is not None and published is None and (run_options is None or run_options.shard is None) else None)
    clips, outcome, run_options = _collect(records, manifest_path, out_dir, process=process, fmt=fmt, workers=workers,
                                           progress=progress, run_options=run_options, merge=merge)
    from avg_bench.data.build_report import make_report, save_report

    shard = run_options.shard
    report = make_report(records, outcome.rows, hierarchy, elapsed_s=outcome.elapsed_s, attempted=outcome.attempted,
                         breaker=outcome.breaker, shard=shard, published=published)
    save_report(out_dir, report)
    if shard is not None:
        return BuildResult(out_dir, labels_dir, "", {}, outcome=outcome, report=report, complete=outcome.complete,
                           dataset_written=False)
    if published is None:
        draw = checked_draw or _draw_splits(records, continent_of_location, labels_dir, holdout_key)
        assignments, hidden, table = _assign_splits(records, continent_of_location, labels_dir, draw)
    else:
        assignments, hidden, table = published, set(), None
    revision = dataset_revision(version, records, clips, fmt, assignments)
    counts, failed, missing = _write_dataset(
        records, clips, hierarchy, assignments, hidden, table, revision,
        manifest_path=manifest_path, out_dir=out_dir, labels_dir=labels_dir, name=name, version=version, fmt=fmt,
        locations=len(continent_of_location), expected_clips_per_location=expected_clips_per_location)
    return BuildResult(out_dir, labels_dir, revision, counts, failed, outcome=outcome, report=report, complete=not missing,
                       labelled_only=published is not None)


def _collect(records: Sequence[ManifestRecord], manifest_path: Path, out_dir: Path, *, process: Callable | None,
             fmt: CanonicalFormat, workers: int, progress: bool, run_options: RunOptions | None,
             merge: Sequence[str | Path]) -> tuple[dict[str, dict], RunOutcome, RunOptions]:
    """Step 1: every clip's canonical media and metadata (clip_id -> ``clip.json``), resumably, through the ledger.

    Returns the finished clips, the ledger stage's outcome and the run options it used
    (``RunOptions(workers=workers)`` when none were given).
    """
    from avg_bench.data.media import process_clip  # ffmpeg-based; imported only when building
    from avg_bench.data.remote import RunOptions, merge_parts, run_clips

    run_options = run_options or RunOptions(workers=workers)
    if merge:
        merge_parts([Path(p) for p in merge], out_dir)
    atomic_write_bytes(out_dir / WORK_DIR / "manifest.jsonl", manifest_path.read_bytes())
    outcome = run_clips(records, manifest_path, out_dir, process=process or process_clip, fmt=fmt, options=run_options,
                        progress=progress)
    return outcome.clips, outcome, run_options


def _write_dataset(records: Sequence[ManifestRecord], clips: dict[str, dict], hierarchy, assignments: dict[str, dict[str, str]],
                   hidden: set[str], table: bytes | None, revision: str, *, manifest_path: Path, out_dir: Path, labels_dir: Path,
                   name: str, version: str, fmt: CanonicalFormat, locations: int,
                   expected_clips_per_location: int | None) -> tuple[dict[str, dict[str, int]], dict[str, list[str]], list[str]]:
    """Step 4: shards and hidden labels per config, the public manifest, build_info, card and checksums.

    ``table`` is the committed held-out table; None for a rebuild from a public manifest, which has
    no hidden split and writes nothing to ``labels_dir``.

    Returns (config -> split -> clips, clip_id -> failed checks, missing clip ids).
    """
    manifest_sha = sha256_file(manifest_path)
    missing = sorted(r.clip_id for r in records if r.clip_id not in clips)
    counts = {
        config: _write_config(config, assignments[config], records, clips, hierarchy, out_dir,
                              labels_dir if table is not None else None, revision)
        for config in CONFIGS
    }
    write_public_manifest(out_dir / PUBLIC_MANIFEST, [r for r in records if r.clip_id in clips], assignments, hidden)
    refused = labels_in_public(out_dir)
    if refused:  # before build_info and checksums: a refused folder is not a finished (publishable) dataset
        raise AvgBenchError(f"{out_dir}: refusing to finish a public dataset that carries hidden labels: {'; '.join(refused[:5])}")
    failed = {cid: clips[cid]["checks_failed"] for cid in sorted(clips) if clips[cid]["checks_failed"]}
    info = {
        "name": name,
        "version": version,
        "revision": revision,
        "synthetic": all(r.synthetic for r in records),
        "toolkit_version": __version__,
        "manifest_sha256": manifest_sha,
        "canonical_format": fmt.as_dict(),
        "clips": len(records) - len(missing),
        "locations": locations,
        "expected_clips_per_location": expected_clips_per_location,
        "counts": counts,
        "clip_ids": sorted(r.clip_id for r in records if r.clip_id in clips),
        "config_clip_ids": {config: sorted(c for c in assignments[config] if c in clips) for config in CONFIGS},
        "holdout_commitment": commitment(table) if table is not None else None,
        "failed_checks": failed,
        "licenses": dict(sorted(Counter(clips[r.clip_id].get("source_license") or r.license
                                        for r in records if r.clip_id in clips).items())),
    }
    if table is None:
        info["labelled_only"] = True
    if missing:
        info["missing_clip_ids"] = missing
    atomic_write_bytes(out_dir / "build_info.json", (json.dumps(info, indent=2) + "\n").encode())
    from avg_bench.data.card import write_card

    built = [i for i, r in enumerate(records) if r.clip_id in clips and r.clip_id not in hidden]  # the card shows public clips only
    write_card(out_dir, info, [records[i] for i in built], SimpleNamespace(continent=[hierarchy.continent[i] for i in built]))
    write_checksums(out_dir)
    return counts, failed, missing


def dataset_revision(version: str, records: Sequence[ManifestRecord], clips: dict[str, dict], fmt: CanonicalFormat,
                     assignments: dict[str, dict[str, str]]) -> str:
    """``VERSION@hash`` of what the dataset holds (step 3 of a build).

    It covers each clip's identity, labels, source and cut, media hashes and its split in each
    config (two holdout keys draw two datasets, with two revisions).

    Not the manifest's bytes: the same clips fetched from a mirror, a platform or local files (only
    ``source_uri`` differs) are the same dataset and get the same revision. A clip that failed is
    listed as missing, so a dataset with holes never carries the revision of the complete one.
    """
    digest = hashlib.sha256(json.dumps(fmt.as_dict(), sort_keys=True).encode())
    for record in sorted(records, key=lambda r: r.clip_id):
        identity = {k: v for k, v in record.to_dict().items() if k != "source_uri"}
        clip = clips.get(record.clip_id)
        media = None if clip is None else [clip["video_sha256"], clip["audio_sha256"], *clip["keyframe_sha256"]]
        splits = {config: assignment.get(record.clip_id) for config, assignment in sorted(assignments.items())}
        digest.update(json.dumps([identity, media, splits], sort_keys=True).encode() + b"\n")
    return f"{version}@{digest.hexdigest()[:12]}"


#: A draw of both protocols: (config -> clip_id -> split, location_id -> geo-holdout split, the key).
Draw = tuple[dict[str, dict[str, str]], dict[str, str], bytes]


def _draw_splits(records: Sequence[ManifestRecord], continents: dict[str, str], labels_dir: Path,
                 holdout_key: str | Path | None, stated: StatedSplits | None = None,
                 manifest_path: Path | None = None) -> Draw:
    """Both protocols drawn with the operator's key: (config -> clip_id -> split, location_id -> split, key).

    Every split ``stated`` by a row (the public rows of the operator's full manifest) must be the one
    drawn: otherwise the key is not the release's, and the error says so with the first line.
    """
    from avg_bench.data.locations import load_locations

    key, key_source = load_key(labels_dir, holdout_key)
    public_table = {location.location_id for location in load_locations()}
    assignments, location_split = assign_splits(records, continents, key=key, public_locations=public_table)
    conflicts = stated_split_conflicts(stated, assignments) if stated is not None else []
    if conflicts:
        line, problem = conflicts[0]
        raise AvgBenchError(f"{manifest_path}:{line}: {problem} ({len(conflicts)} stated split(s) differ): the rows that "
                            f"state splits come from a draw with another key than {key_source}; build with the "
                            "release's --holdout-key")
    return assignments, location_split, key


def _assign_splits(records: Sequence[ManifestRecord], continents: dict[str, str], labels_dir: Path,
                   draw: Draw) -> tuple[dict[str, dict[str, str]], set[str], bytes]:
    """Both protocols over one hidden pool, as ``draw`` (:func:`_draw_splits`) gave them; writes the operator's files.

    Returns (config -> clip_id -> split, the hidden pool, the committed held-out table).
    """
    assignments, location_split, key = draw
    hidden = hidden_pool(assignments)
    first: dict[str, ManifestRecord] = {}
    for record in sorted(records, key=lambda r: r.clip_id):  # a location's coordinates: those of its first clip
        first.setdefault(record.location_id, record)
    table = heldout_table(key, {loc: (continents[loc], first[loc].lat, first[loc].lon)
                                for loc, split in location_split.items() if split == "test"})
    atomic_write_bytes(labels_dir / HELDOUT_FILE, table)
    write_manifest([r for r in records if r.clip_id in hidden], labels_dir / HIDDEN_MANIFEST)
    return assignments, hidden, table


def _write_config(config, assignment, records, clips, hierarchy, out_dir: Path, labels_dir: Path | None,
                  revision: str) -> dict[str, int]:
    """One protocol's shards (and its hidden labels, unless ``labels_dir`` is None); returns the clip count per split."""
    counts = {}
    for split in SPLITS:
        chosen = sorted((i for i, r in enumerate(records) if assignment.get(r.clip_id) == split and r.clip_id in clips),
                        key=lambda i: records[i].clip_id)
        hidden = split in HIDDEN_SPLITS  # rows sorted by opaque id: their order leaks nothing
        rows = (_row(records[i], clips[records[i].clip_id], split, hierarchy, i, hidden=hidden) for i in chosen)
        metadata = {"avg_bench.revision": revision, "avg_bench.config": config, "avg_bench.split": split}
        write_split(rows, out_dir / "data" / config, split, metadata=metadata)
        if hidden and labels_dir is not None:
            labels = [_row(records[i], clips[records[i].clip_id], split, hierarchy, i, hidden=False, media=False) for i in chosen]
            _write_hidden_labels(labels_dir / config / f"{split}.parquet", labels, revision)
        counts[split] = len(chosen)
    return counts


def _row(record: ManifestRecord, clip: dict, split: str, hierarchy, index: int, *, hidden: bool, media: bool = True) -> dict:
    folder = Path(clip["folder"])
    row = {
        "clip_id": record.clip_id,
        "split": split,
        "location_id": record.location_id,
        "lat": record.lat,
        "lon": record.lon,
        "coord_source": record.coord_source,
        "continent": hierarchy.continent[index],
        "country": hierarchy.country[index],
        "admin1": hierarchy.admin1[index],
        "city": hierarchy.city[index],
        "license": clip.get("source_license") or record.license,  # the source's own metadata wins
        "duration_s": clip["duration_s"],
        "source_platform": record.source_platform,
        "source_id": record.source_id,
        "source_start_s": record.start_s,
        "source_end_s": record.end_s,
        "synthetic": record.synthetic,
        "video_sha256": clip["video_sha256"],
        "audio_sha256": clip["audio_sha256"],
        "keyframe_sha256": clip["keyframe_sha256"],
        "keyframe_phash": clip["keyframe_phash"],
        "audio_fingerprint": clip["audio_fingerprint"],
        "checks_failed": clip["checks_failed"],
    }
    if media:
        row["video"] = media_value(folder / clip["video"])
        row["audio"] = media_value(folder / clip["audio"]) if clip["audio"] else None
        row["keyframes"] = [media_value(folder / k) for k in clip["keyframes"]]
    return withhold(row) if hidden else row


def _write_hidden_labels(path: Path, rows: Sequence[dict], revision: str) -> None:
    table = pa.Table.from_pylist([{c: row[c] for c in LABEL_COLUMNS} for row in rows])
    table = table.replace_schema_metadata({"avg_bench.revision": revision, "avg_bench.split": path.stem})
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temporary)
    temporary.replace(path)


CHECKSUMS = "checksums.sha256"


def write_checksums(out_dir: Path) -> Path:
    """``sha256  relative/path`` for every shard (``sha256sum -c`` format)."""
    lines = []
    for shard in sorted((out_dir / "data").rglob("*.parquet")):
        lines.append(f"{sha256_file(shard)}  {shard.relative_to(out_dir).as_posix()}\n")
    path = out_dir / CHECKSUMS
    atomic_write_bytes(path, "".join(lines).encode())
    return path
