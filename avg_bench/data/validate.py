"""``avg-bench validate``: check a built dataset (or a manifest) against the spec.

Every violation names its check and the clip (or shard) it concerns; the command exits non-zero
when there is any. Checks on a dataset, in every configuration: shard checksums and readability,
media checksums, the column allow-list and no label values in hidden splits, split sizes against
``build_info.json``, counts per location (seen), missing, extra and duplicated clips, source videos
in two splits, overlapping time ranges of one source, near-duplicate footage across splits,
coordinates that contradict the hierarchy, and failed content checks. Across configurations: no
clip of the hidden pool is labelled anywhere (by id, media hash, source, footage), geo-holdout val
and test locations have no train clip, the held-out commitment matches the operator's table and is
in the card, and the public manifest names no hidden clip. A rebuild from the public manifest
(``labelled_only`` in ``build_info.json``) has no test split, so it has no commitment to check.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Set
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from avg_bench.cache import sha256_file
from avg_bench.data.build import CHECKSUMS, default_labels_dir
from avg_bench.data.holdout import HELDOUT_FILE, commitment, read_heldout
from avg_bench.data.manifest import read_manifest, resolve_source
from avg_bench.data.public import PUBLIC_MANIFEST, manifest_problems, shard_problems
from avg_bench.data.schema import ClipRecord
from avg_bench.data.splits import SPLITS
from avg_bench.errors import AvgBenchError
from avg_bench.geo.gazetteer import default_gazetteer
from avg_bench.spec import AVG_V1

#: Two clips are near-duplicate footage when a keyframe pair's 64-bit perceptual hashes differ in at
#: most this many bits AND their soundtracks' fingerprints agree this much (or a clip has no audio).
#: Pictures alone are not enough: different recordings of one static scene (and AVG-Synth's
#: rendered layouts) look alike, while a re-upload of the same footage also sounds the same.
NEAR_DUPLICATE_BITS = 3
NEAR_DUPLICATE_AUDIO_SIMILARITY = 0.85
_META_COLUMNS = ("clip_id", "split", *ClipRecord.HIDDEN_COLUMNS, "keyframe_phash", "audio_fingerprint", "checks_failed", "duration_s",
                 "video_sha256", "audio_sha256", "keyframe_sha256")


@dataclass(frozen=True)
class Violation:
    """One failed check: which check, on what (a clip, shard or location id), and the details."""
    check: str
    subject: str  # a clip id, a shard path, a location id
    detail: str


@dataclass
class ValidationReport:
    """Everything ``avg-bench validate`` found about a dataset folder or a manifest."""
    target: str
    kind: str  # "dataset" or "manifest"
    counts: dict = field(default_factory=dict)  # config -> split -> clips
    by_continent: dict = field(default_factory=dict)  # continent -> clips (first config)
    locations: int = 0
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return not self.violations

    def add(self, check: str, subject: str, detail: str) -> None:
        """Record one failed check."""
        self.violations.append(Violation(check, subject, detail))

    def to_dict(self) -> dict:
        """The report as JSON-ready data, with the verdict and the failures counted per check."""
        data = asdict(self)
        data["ok"] = self.ok
        data["violations_by_check"] = dict(Counter(v.check for v in self.violations))
        return data


def validate(target: str | Path, *, labels_dir: str | Path | None = None) -> ValidationReport:
    """Validate a dataset folder (with ``build_info.json``) or a manifest file."""
    target = Path(target)
    if target.is_dir():
        return validate_dataset(target, labels_dir=labels_dir)
    if target.is_file():
        return validate_manifest(target)
    raise AvgBenchError(f"{target}: not found (expected a dataset folder or a manifest .jsonl)")


def validate_manifest(path: Path) -> ValidationReport:
    """Check a manifest without fetching anything: its fields, local sources, sources per location and overlapping clips."""
    records = read_manifest(path)  # malformed rows are input errors, raised with file:line
    report = ValidationReport(str(path), "manifest")
    per_location = Counter(r.location_id for r in records)
    report.locations = len(per_location)
    report.counts = {"manifest": {"clips": len(records)}}
    sources = defaultdict(set)
    for record in records:
        sources[record.location_id].add(record.source_key)
        if record.source_platform in ("file", "synthetic") and not resolve_source(record, path).is_file():
            report.add("missing_source", record.clip_id, f"source file {resolve_source(record, path)} not found")
    for location_id, keys in sorted(sources.items()):
        if len(keys) < len(SPLITS):
            report.add("too_few_sources", location_id, f"{len(keys)} source video(s); every split needs its own")
    _check_overlaps(report, [(r.clip_id, r.source_key, r.start_s, r.end_s) for r in records])
    return report


#: What cannot be checked from released files alone: named in the one "skipped" line of a download's report.
NEEDS_LABELS = (
    "per-location counts", "every seen location in test", "sources and coordinates of hidden clips",
    "hidden clips' sources vs labelled splits", "geo-holdout test locations vs train", "held-out commitment",
)


def validate_dataset(root: Path, *, labels_dir: str | Path | None = None) -> ValidationReport:
    """Every configuration, the relations between them, and the public files.

    Without the operator's labels (a downloaded copy) everything checkable from the released files
    is checked, and one note names what was skipped (:data:`NEEDS_LABELS`).
    """
    info_path = root / "build_info.json"
    if not info_path.is_file():
        raise AvgBenchError(f"{root}: no build_info.json; is this an AVG-Bench dataset folder?")
    info = json.loads(info_path.read_text())
    report = ValidationReport(str(root), "dataset")
    _check_checksums(root, report)
    labels_path = Path(labels_dir) if labels_dir else default_labels_dir(root)
    hidden = _hidden_labels(labels_path)
    with_labels = hidden is not None
    labelled_only = bool(info.get("labelled_only"))  # a rebuild from the public manifest: no test split to check
    if labelled_only:
        report.notes.append("a rebuild from the public manifest: train and val as published; it has no test split, "
                            "so no hidden clip and no held-out commitment to check")
    elif not with_labels:
        report.notes.append(f"skipped without the operator's labels ({labels_path} not found): {', '.join(NEEDS_LABELS)}")
    per_config: dict[str, list[dict]] = {}
    for config in AVG_V1.configs:
        rows = []
        for shard in sorted((root / "data" / config).glob("*.parquet")):
            rows += _read_shard(shard, report)
        per_config[config] = rows
        report.counts[config] = {split: sum(1 for r in rows if r["split"] == split) for split in SPLITS}
        _check_config_membership(config, rows, info, report)
        for row in rows:
            leaked = [c for c in ClipRecord.HIDDEN_COLUMNS if row["split"] in AVG_V1.hidden_splits and row.get(c) is not None]
            if leaked:
                report.add("label_leak", row["clip_id"], f"{row['split']} row of {config} carries {', '.join(leaked)}")
            # hidden rows get their labels from the operator's file, when available
            row.update({k: v for k, v in (hidden or {}).get(config, {}).get(row["clip_id"], {}).items() if row.get(k) is None})
    seen = per_config.get("seen", [])
    _check_sizes(seen, info, report, with_labels=with_labels)
    for config, rows in per_config.items():
        _check_sources_across_splits(rows, report)
        _check_overlaps(report, [(r["clip_id"], f"{r['source_platform']}:{r['source_id']}", r["source_start_s"], r["source_end_s"])
                                 for r in rows if r.get("source_id") is not None])
        _check_near_duplicates(rows, report)
        _check_coordinates(rows, report)
    _check_holdout_locations(per_config.get("geo-holdout", []), report)
    _check_hidden_pool(per_config, report)
    if not labelled_only:
        _check_commitment(root, info, labels_path, per_config.get("geo-holdout", []), report, with_labels=with_labels)
    manifest = root / PUBLIC_MANIFEST
    if manifest.is_file():
        pool = {r["clip_id"] for rows in per_config.values() for r in rows if r["split"] in AVG_V1.hidden_splits}
        for check, subject, detail in manifest_problems(manifest, pool):
            report.add(check, subject, detail)
    checked = set()
    for rows in per_config.values():
        for row in rows:
            if row["clip_id"] not in checked:
                checked.add(row["clip_id"])
                for check in row.get("checks_failed") or []:
                    report.add(check, row["clip_id"], "failed content check")
    return report


def _check_config_membership(config: str, rows: list[dict], info: dict, report: ValidationReport) -> None:
    """Duplicated, missing and extra clips of one configuration, and its split sizes against build_info."""
    expected_ids = set(info.get("config_clip_ids", {}).get(config, info.get("clip_ids", [])))
    ids = Counter(r["clip_id"] for r in rows)
    for clip_id, n in sorted(ids.items()):
        if n > 1:
            report.add("duplicate_clip", clip_id, f"appears {n} times in config {config}")
    for clip_id in sorted(expected_ids - set(ids)):
        report.add("missing_clip", clip_id, f"in the manifest but not in config {config}")
    for clip_id in sorted(set(ids) - expected_ids):
        report.add("extra_clip", clip_id, f"in config {config} but not in the manifest")
    recorded = info.get("counts", {}).get(config, {})
    for split, n in report.counts[config].items():
        if split in recorded and recorded[split] != n:
            report.add("count", f"{config}/{split}", f"{n} clips, build_info.json says {recorded[split]}")


def _check_holdout_locations(rows: list[dict], report: ValidationReport) -> None:
    """geo-holdout: no val or test location has a train clip, and val and test share no location."""
    places = defaultdict(set)
    for r in rows:
        if r.get("location_id"):
            places[r["split"]].add(r["location_id"])
    for r in rows:
        location = r.get("location_id")
        if r["split"] == "train" and location in places["val"] | places["test"]:
            held = "val" if location in places["val"] else "test"
            report.add("holdout_location_in_train", r["clip_id"], f"geo-holdout train clip at {location}, a held-out {held} location")
        if r["split"] == "val" and location in places["test"]:
            report.add("holdout_location_in_train", r["clip_id"], f"geo-holdout val clip at {location}, a held-out test location")


def _check_hidden_pool(per_config: dict[str, list[dict]], report: ValidationReport) -> None:
    """No clip hidden in any configuration is labelled in any configuration: by id, media hash, source, footage."""
    pool = [r for rows in per_config.values() for r in rows if r["split"] in AVG_V1.hidden_splits]
    labelled = [r for rows in per_config.values() for r in rows if r["split"] not in AVG_V1.hidden_splits]
    keys = {
        "id": lambda r: r["clip_id"],
        "video hash": lambda r: r.get("video_sha256") or None,
        "audio hash": lambda r: r.get("audio_sha256") or None,
        "source": lambda r: f"{r['source_platform']}:{r['source_id']}" if r.get("source_id") is not None else None,
    }
    found: set[str] = set()
    for name, key in keys.items():
        public = {key(r) for r in labelled} - {None}
        for r in pool:
            if r["clip_id"] not in found and key(r) in public:
                found.add(r["clip_id"])
                report.add("hidden_clip_labelled", r["clip_id"], f"hidden ({r['split']}) but labelled elsewhere: same {name}")
    tagged = [{**r, "split": "hidden" if r["split"] in AVG_V1.hidden_splits else "labelled"} for r in pool + labelled]
    _check_near_duplicates(tagged, report, check="hidden_clip_labelled", skip=found)


def _check_commitment(root: Path, info: dict, labels_path: Path, holdout: list[dict], report: ValidationReport,
                      *, with_labels: bool) -> None:
    """The published commitment is well formed, in the card, and (with labels) matches the held-out table."""
    published = info.get("holdout_commitment")
    if not isinstance(published, str) or not re.fullmatch(r"[0-9a-f]{64}", published):
        report.add("holdout_commitment", "build_info.json", "no sha256 commitment to the held-out table")
        return
    card = root / "README.md"
    if card.is_file() and published not in card.read_text(encoding="utf-8"):
        report.add("holdout_commitment", "README.md", "the card does not publish the commitment of build_info.json")
    if not with_labels:
        return
    table = labels_path / HELDOUT_FILE
    if not table.is_file():
        report.add("holdout_commitment", str(table), "the operator's held-out table is missing")
        return
    data, heldout = read_heldout(table)
    if commitment(data) != published:
        report.add("holdout_commitment", str(table), "its sha256 differs from the published commitment")
    tested = {r["location_id"] for r in holdout if r["split"] == "test" and r.get("location_id")}
    if tested != heldout:
        report.add("holdout_commitment", str(table), f"names {len(heldout)} location(s), geo-holdout test has {len(tested)} "
                                                     f"({len(heldout ^ tested)} differ)")


def _check_checksums(root: Path, report: ValidationReport) -> None:
    listed: dict[str, str] = {}
    path = root / CHECKSUMS
    if not path.is_file():
        report.add("checksum", CHECKSUMS, "the checksum file is missing")
    else:
        for line in path.read_text().splitlines():
            digest, _, name = line.partition("  ")
            listed[name] = digest
    present = {p.relative_to(root).as_posix() for p in (root / "data").rglob("*.parquet")}
    for name in sorted(present - set(listed)):
        report.add("checksum", name, "shard not listed in checksums.sha256")
    for name, digest in sorted(listed.items()):
        if name not in present:
            report.add("checksum", name, "listed in checksums.sha256 but missing")
        elif sha256_file(root / name) != digest:
            report.add("checksum", name, "sha256 differs from checksums.sha256 (corrupted or modified shard)")


def _read_shard(shard: Path, report: ValidationReport) -> list[dict]:
    try:
        split = shard.name.split("-")[0]
        for check, detail in shard_problems(shard, split):
            if check == "unknown_column":  # label values are reported per clip below
                report.add(check, shard.as_posix(), detail)
        parquet = pq.ParquetFile(shard)
        rows = []
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group)
            for row in table.to_pylist():
                _check_media(row, report)
                rows.append({k: row.get(k) for k in _META_COLUMNS})
        return rows
    except Exception as exc:  # any pyarrow failure means an unreadable shard
        report.add("corrupt_shard", str(shard), f"cannot be read ({exc.__class__.__name__}: {exc})")
        return []


def _check_media(row: dict, report: ValidationReport) -> None:
    sha = lambda cell: hashlib.sha256(cell["bytes"]).hexdigest() if cell and cell.get("bytes") is not None else ""  # noqa: E731
    if sha(row.get("video")) != row.get("video_sha256"):
        report.add("media_checksum", row["clip_id"], "video bytes do not match video_sha256")
    if sha(row.get("audio")) != (row.get("audio_sha256") or ""):
        report.add("media_checksum", row["clip_id"], "audio bytes do not match audio_sha256")
    if [sha(k) for k in row.get("keyframes") or []] != list(row.get("keyframe_sha256") or []):
        report.add("media_checksum", row["clip_id"], "keyframe bytes do not match keyframe_sha256")


def _hidden_labels(folder: Path) -> dict[str, dict[str, dict]] | None:
    """``config -> clip_id -> label row`` from the operator's folder; None when it is not there."""
    labels: dict[str, dict[str, dict]] = {}
    for config in AVG_V1.configs:
        for split in AVG_V1.hidden_splits:
            path = folder / config / f"{split}.parquet"
            if not path.is_file():
                return None
            labels.setdefault(config, {}).update({r["clip_id"]: r for r in pq.read_table(path).to_pylist()})
    return labels


def _check_sizes(rows: list[dict], info: dict, report: ValidationReport, *, with_labels: bool = True) -> None:
    """The seen protocol's locations: clips per location, every location in every split.

    Without labels the test rows have no location: only train and val are checked per location.
    """
    locations = {r["location_id"] for r in rows if r.get("location_id")}
    report.locations = len(locations)
    report.by_continent = dict(sorted(Counter(r["continent"] for r in rows if r.get("continent")).items()))
    per_location = Counter(r["location_id"] for r in rows if r.get("location_id"))
    expected = info.get("expected_clips_per_location")
    if info.get("name") == AVG_V1.name and not info.get("synthetic"):
        expected = expected or 20
        if len(locations) != 1000:
            report.add("count", "locations", f"{len(locations)} locations, the spec says 1000")
    if expected and with_labels:
        for location_id, n in sorted(per_location.items()):
            if n != expected:
                report.add("count", location_id, f"{n} clips, expected {expected}")
    splits_of = defaultdict(set)
    for r in rows:
        if r.get("location_id"):
            splits_of[r["location_id"]].add(r["split"])
    for location_id, present in sorted(splits_of.items()):
        for split in SPLITS if with_labels else [s for s in SPLITS if s not in AVG_V1.hidden_splits]:
            if split not in present:
                report.add("location_missing_split", location_id, f"no clip in {split} (seen protocol)")


def _check_sources_across_splits(rows: list[dict], report: ValidationReport) -> None:
    splits = defaultdict(set)
    clips = defaultdict(list)
    for r in rows:
        if r.get("source_id") is not None:
            key = f"{r['source_platform']}:{r['source_id']}"
            splits[key].add(r["split"])
            clips[key].append(r["clip_id"])
    for key, found in sorted(splits.items()):
        if len(found) > 1:
            for clip_id in sorted(clips[key]):
                report.add("source_in_two_splits", clip_id, f"source {key} is in {', '.join(sorted(found))}")


def _check_overlaps(report: ValidationReport, spans: list[tuple[str, str, float, float]]) -> None:
    by_source = defaultdict(list)
    for clip_id, key, start, end in spans:
        by_source[key].append((start, end, clip_id))
    for key, items in sorted(by_source.items()):
        items.sort()
        for (s1, e1, c1), (s2, e2, c2) in zip(items, items[1:]):
            if s2 < e1:
                report.add("overlapping_time_range", c2, f"{key} [{s2:g}, {e2:g}] overlaps {c1} [{s1:g}, {e1:g}]")


def _check_near_duplicates(rows: list[dict], report: ValidationReport, *, check: str = "near_duplicate",
                           skip: Set[str] = frozenset()) -> None:
    """Clips in different splits with near-identical keyframes and soundtracks (banded search).

    ``check`` names the violation; clips in ``skip`` are already reported.
    """
    from avg_bench.data.fingerprints import audio_similarity

    def same_sound(a: dict, b: dict) -> bool:
        if not a.get("audio_fingerprint") or not b.get("audio_fingerprint"):
            return True
        return audio_similarity(a["audio_fingerprint"], b["audio_fingerprint"]) >= NEAR_DUPLICATE_AUDIO_SIMILARITY

    hashes, owner = [], []
    for i, r in enumerate(rows):
        for h in r.get("keyframe_phash") or []:
            hashes.append(int(h, 16))
            owner.append(i)
    if not hashes:
        return
    values = np.array(hashes, dtype=np.uint64)
    owners = np.array(owner)
    bands = NEAR_DUPLICATE_BITS + 1  # pigeonhole: within 3 bits, one of 4 16-bit bands is identical
    reported = set()
    for band in range(bands):
        width = 64 // bands
        keys = (values >> np.uint64(band * width)) & np.uint64((1 << width) - 1)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        for start, end in zip(starts, np.r_[starts[1:], len(order)]):
            group = order[start:end]
            if len(group) < 2 or len(group) > 500:
                continue
            for a_pos, a in enumerate(group):
                for b in group[a_pos + 1:]:
                    ra, rb = rows[owners[a]], rows[owners[b]]
                    if ra["split"] == rb["split"] or owners[a] == owners[b] or ra["clip_id"] == rb["clip_id"]:
                        continue
                    if bin(int(values[a] ^ values[b])).count("1") <= NEAR_DUPLICATE_BITS and same_sound(ra, rb):
                        pair = tuple(sorted((ra["clip_id"], rb["clip_id"])))
                        if pair not in reported and not skip & set(pair):
                            reported.add(pair)
                            subject = ra["clip_id"] if ra["split"] == "hidden" else rb["clip_id"] if rb["split"] == "hidden" else pair[1]
                            report.add(check, subject, f"same footage as {pair[0]}: keyframes and soundtrack match ({ra['split']} vs {rb['split']})")


def _check_coordinates(rows: list[dict], report: ValidationReport) -> None:
    located = [r for r in rows if r.get("lat") is not None and r.get("country") is not None]
    if not located:
        return
    truth = default_gazetteer().reverse([r["lat"] for r in located], [r["lon"] for r in located])
    for row, country, continent in zip(located, truth.country, truth.continent):
        if (row["country"], row.get("continent")) != (country, continent):
            report.add(
                "coordinates_contradict_hierarchy",
                row["clip_id"],
                f"({row['lat']:.4f}, {row['lon']:.4f}) lies in {country}/{continent}, labelled {row['country']}/{row.get('continent')}",
            )
