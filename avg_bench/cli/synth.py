"""``avg-bench synth``: generate AVG-Synth source videos and their manifest (synthetic data)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from avg_bench.cli.root import app
from avg_bench.errors import AvgBenchError

_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench synth --locations 12 --videos-per-location 5 --out synth/\n"
    "  avg-bench synth --locations 3 --videos-per-location 2 --clips-per-video 2 --video-seconds 24 --out tiny/\n"
    "  avg-bench synth --variant fusion --group-size 3 --locations 12 --out fusion/\n"
    "  avg-bench build synth/manifest.jsonl --out avg-synth/ --name AVG-Synth --clips-per-location 20\n\n"
    "Every location gets continent and country cues in both modalities and its own cue in one "
    "modality only (audio or video: see OUT/sources/LOCATION/cues.json). Re-running with the same "
    "arguments writes the same manifest and skips videos already present.\n\n"
    "AVG-Synth is synthetic: never report results on it as AVG. Details: docs/avg-synth.md."
)


@app.command(epilog=_EPILOG)
def synth(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the videos, cues and manifest.jsonl into."),
    locations: int = typer.Option(12, "--locations", "-n", min=1, help="Number of real locations taken from the table."),
    videos_per_location: int = typer.Option(5, "--videos-per-location", min=1, help="Source videos per location."),
    clips_per_video: int = typer.Option(4, "--clips-per-video", min=1, help="Non-overlapping 10 s clips cut from each video."),
    video_seconds: float = typer.Option(45.0, "--video-seconds", min=10.0, max=3600.0, help="Length of each source video (s)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Fixes the locations picked, every cue, nuisance and clip placement."),
    workers: int = typer.Option(None, "--workers", "-w", min=1, help="ffmpeg processes run at once (default: CPU cores, at most 8).", show_default=False),
    pick: str = typer.Option("spread", "--pick", help="Which locations: 'spread' (seeded, one continent after another) or 'first' (table order)."),
    table: Path = typer.Option(None, "--table", help="Locations table (CSV, the shipped table's columns; default: the AVG-v1 table)."),
    speech: bool = typer.Option(True, "--speech/--no-speech", help="Speak each country's name with espeak-ng."),
    variant: str = typer.Option("default", "--variant", help="'default' (each location's own cue in one modality) or "
                                                                      "'fusion' (frames name a group, sound the rank in it: both are needed)."),
    group_size: int = typer.Option(3, "--group-size", min=2, help="Locations per group in the fusion variant (must divide --locations)."),
    json_out: bool = typer.Option(False, "--json", help="Print what was written as JSON on stdout."),
) -> None:
    """Generate AVG-Synth: synthetic source videos over real locations, and their manifest.

    The videos carry cues at continent, country and location scale (some only in the audio, some only in the video), plus a manifest of
    10 s clips for `avg-bench build`.
    """
    from avg_bench.data.locations import load_locations
    from avg_bench.data.synth import generate_synth, pick_locations

    if pick not in ("spread", "first"):
        raise AvgBenchError(f"--pick must be 'spread' or 'first', found {pick!r}")
    records = pick_locations(load_locations(table), locations, seed=seed, spread=pick == "spread")
    result = generate_synth(
        out,
        records,
        videos_per_location=videos_per_location,
        clips_per_video=clips_per_video,
        video_seconds=video_seconds,
        seed=seed,
        workers=workers or min(8, os.cpu_count() or 1),
        progress=not json_out,
        speech=speech,
        variant=variant,
        group_size=group_size,
    )
    if json_out:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    typer.echo(
        f"wrote {result.manifest_path}: {result.clips} clips from {result.videos} synthetic videos "
        f"({result.rendered} rendered, {result.skipped} already present) over {result.locations} locations "
        f"in {result.seconds:.1f} s. AVG-Synth is synthetic data: never report it as AVG.",
        err=json_out,
    )
