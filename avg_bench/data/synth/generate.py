"""The whole set: pick the locations, plan every video and clip, render what is missing, write the manifest."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

from avg_bench.cache import atomic_write_bytes
from avg_bench.data.manifest import write_manifest
from avg_bench.data.schema import LocationRecord, ManifestRecord
from avg_bench.data.synth import render
from avg_bench.data.synth.cues import LocationCues, variant_cues
from avg_bench.data.synth.plan import VideoPlan, _params_tag, clip_id, clip_starts, plan_video
from avg_bench.data.synth.seeded import _unit
from avg_bench.data.synth.spec import CLIP_SECONDS, FPS, GENERATOR_VERSION, HEIGHT, NOTICE, SAMPLE_RATE, SYNTH_LICENSE, SYNTH_PLATFORM, WIDTH
from avg_bench.errors import AvgBenchError

#: What render.render_video's temporary files look like: an interrupted run leaves them behind.
_STALE_TEMP = ".synthetic-*.tmp.mp4"


@dataclass(frozen=True)
class SynthResult:
    """What :func:`generate_synth` wrote."""

    out_dir: Path
    manifest_path: Path
    locations_path: Path
    locations: int
    videos: int
    #: Videos rendered by this run, and videos already present (kept).
    rendered: int
    skipped: int
    clips: int
    seconds: float
    cues: dict[str, LocationCues] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        """The generation record written as synth.json (cues are written separately)."""
        data = {k: v for k, v in asdict(self).items() if k != "cues"}
        data.update(out_dir=str(self.out_dir), manifest_path=str(self.manifest_path), locations_path=str(self.locations_path))
        return {"dataset": "AVG-Synth", "synthetic": True, **data}


def pick_locations(records: Sequence[LocationRecord], count: int, *, seed: int, spread: bool = True) -> list[LocationRecord]:
    """``count`` locations of a table: the first ones, or a seeded spread over continents.

    The spread takes one location per continent in turn (continents in code order, locations in
    a seeded hash order within each), so a small set covers every continent of the table.
    """
    if count < 1:
        raise AvgBenchError(f"the number of locations must be at least 1, found {count}")
    if count > len(records):
        raise AvgBenchError(f"asked for {count} locations but the table has {len(records)}")
    if not spread:
        return list(records[:count])
    by_continent: dict[str, list[LocationRecord]] = {}
    for record in records:
        by_continent.setdefault(record.continent, []).append(record)
    queues = [sorted(group, key=lambda r: (_unit(seed, "pick", r.location_id), r.location_id)) for _, group in sorted(by_continent.items())]
    picked: list[LocationRecord] = []
    while len(picked) < count:
        for queue in queues:
            if queue and len(picked) < count:
                picked.append(queue.pop(0))
    return picked


def generate_synth(
    out_dir: str | Path,
    locations: Sequence[LocationRecord],
    *,
    videos_per_location: int,
    clips_per_video: int,
    video_seconds: float,
    seed: int,
    workers: int = 1,
    progress: bool = True,
    speech: bool = True,
    variant: str = "default",
    group_size: int = 3,
) -> SynthResult:
    """Generate AVG-Synth source videos over ``locations`` and the manifest of clips cut from them.

    Args:
        out_dir: folder to write into (created); see the module docstring for its layout.
        locations: the real places to use (each keeps its coordinates and hierarchy).
        videos_per_location: source videos per location.
        clips_per_video: non-overlapping 10 s clips per video (they must fit in ``video_seconds``).
        video_seconds: length of each source video.
        seed: fixes every cue, nuisance and clip placement.
        workers: ffmpeg processes run at once.
        progress: show a progress bar (stderr).
        speech: speak the country's name (fusion: the rank word) with espeak-ng (needs espeak-ng).
        variant: ``default`` (each location's own cue in one modality) or ``fusion`` (frames name
            a group of ``group_size`` locations, the sound the rank within it: both are needed).
        group_size: locations per fusion group (fusion variant only; must divide the locations).

    Returns:
        A :class:`SynthResult` with the manifest path and counts. Videos already on disk are kept.
    """
    locations = list(locations)
    _check_arguments(locations, videos_per_location, clips_per_video, video_seconds, seed, workers)
    cues = variant_cues(locations, seed=seed, variant=variant, group_size=group_size)
    render.require_program("ffmpeg")
    if speech:
        render.require_program("espeak-ng")
    began = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    font = render.find_font()  # looked up on the module, so a test can patch render.find_font
    tag = _params_tag(seed=seed, video_seconds=float(video_seconds), speech=speech, text=font is not None, variant=variant, group_size=group_size)

    plans: list[VideoPlan] = []
    rows: list[ManifestRecord] = []
    for loc in locations:
        folder = out / "sources" / loc.location_id
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(_STALE_TEMP):  # left by an interrupted run of ours
            stale.unlink(missing_ok=True)
        videos = [plan_video(loc.location_id, k, seed=seed, video_seconds=video_seconds, tag=tag) for k in range(videos_per_location)]
        sidecar = cues[loc.location_id].to_dict()
        sidecar["videos"] = [plan.source_id for plan in videos]
        atomic_write_bytes(folder / "cues.json", (json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        for plan in videos:
            plans.append(plan)
            for start in clip_starts(plan.source_id, seed=seed, video_seconds=video_seconds, clips=clips_per_video):
                rows.append(
                    ManifestRecord(
                        clip_id=clip_id(seed, plan.source_id, start),
                        location_id=loc.location_id,
                        source_platform=SYNTH_PLATFORM,
                        source_id=plan.source_id,
                        source_uri=plan.relpath,
                        start_s=start,
                        end_s=round(start + CLIP_SECONDS, 1),
                        lat=loc.lat,
                        lon=loc.lon,
                        coord_source="centroid",
                        license=SYNTH_LICENSE,
                        synthetic=True,
                    )
                )

    todo = [plan for plan in plans if not (out / plan.relpath).is_file()]
    _render_all(todo, cues, out, speech=speech, font=font, workers=workers, progress=progress, total=len(plans))

    manifest_path = out / "manifest.jsonl"
    locations_path = out / "locations.jsonl"
    write_manifest(rows, manifest_path)
    atomic_write_bytes(locations_path, "".join(json.dumps(asdict(loc), ensure_ascii=False) + "\n" for loc in locations).encode("utf-8"))
    description = {
        "dataset": "AVG-Synth",
        "synthetic": True,
        "notice": NOTICE,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "videos_per_location": videos_per_location,
        "clips_per_video": clips_per_video,
        "video_seconds": float(video_seconds),
        "clip_seconds": CLIP_SECONDS,
        "speech": speech,
        "text": font is not None,
        "video": {"width": WIDTH, "height": HEIGHT, "fps": FPS, "codec": "h264"},
        "audio": {"sample_rate": SAMPLE_RATE, "channels": 1, "codec": "aac"},
        "license": SYNTH_LICENSE,
        "counts": {"locations": len(locations), "videos": len(plans), "clips": len(rows)},
        "identity_modality": {lid: c.identity_modality for lid, c in cues.items()},
    }
    if variant != "default":  # the default variant's synth.json stays what it was
        description["variant"] = variant
        description["fusion_groups"] = {lid: {"group": c.fusion_group, "rank": c.fusion_rank} for lid, c in cues.items()}
    atomic_write_bytes(out / "synth.json", (json.dumps(description, indent=2) + "\n").encode("utf-8"))
    return SynthResult(
        out_dir=out,
        manifest_path=manifest_path,
        locations_path=locations_path,
        locations=len(locations),
        videos=len(plans),
        rendered=len(todo),
        skipped=len(plans) - len(todo),
        clips=len(rows),
        seconds=round(time.monotonic() - began, 3),
        cues=cues,
    )


def _check_arguments(locations: list, videos: int, clips: int, seconds: float, seed: int, workers: int) -> None:
    if not locations:
        raise AvgBenchError("AVG-Synth needs at least one location")
    for loc in locations:
        if not isinstance(loc, LocationRecord):
            raise AvgBenchError(f"locations must be LocationRecord objects, found {type(loc).__name__}")
    seen: set[str] = set()
    for loc in locations:
        if loc.location_id in seen:
            raise AvgBenchError(f"location {loc.location_id} is listed twice")
        seen.add(loc.location_id)
    if videos < 1:
        raise AvgBenchError(f"videos per location must be at least 1, found {videos}")
    if clips < 1:
        raise AvgBenchError(f"clips per video must be at least 1, found {clips}")
    if not math.isfinite(seconds) or clips * CLIP_SECONDS > seconds:
        raise AvgBenchError(
            f"{clips} clips of {CLIP_SECONDS:g} s do not fit in a {seconds:g} s video: "
            f"use a video of at least {clips * CLIP_SECONDS:g} s or fewer clips per video"
        )
    if seconds > 3600:
        raise AvgBenchError(f"video length {seconds:g} s is longer than an hour; AVG-Synth sources are meant to be short")
    if seed < 0:
        raise AvgBenchError(f"the seed must be a non-negative integer, found {seed}")
    if workers < 1:
        raise AvgBenchError(f"workers must be at least 1, found {workers}")


def _render_all(todo: list[VideoPlan], cues: dict[str, LocationCues], out: Path, *, speech: bool, font: str | None, workers: int,
                progress: bool, total: int) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("[bold]AVG-Synth[/] synthetic videos"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not progress,
    )
    with bar:
        task = bar.add_task("render", total=total, completed=total - len(todo))
        if not todo:
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="avg-synth") as pool:
            pending = {pool.submit(render.render_video, cues[plan.location_id], plan, out / plan.relpath, speech=speech, font=font) for plan in todo}
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                    for future in done:
                        future.result()  # raises the first failure
                        bar.advance(task)
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
