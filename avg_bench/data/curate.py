"""``avg-bench curate``: propose candidate source videos per location, for a human to review.

For each location, a few platform searches (yt-dlp ``ytsearchN:``) built from its place name,
region and country; each result passes metadata filters (duration in range, not a live stream or
premiere, audio present and public where the metadata says so, no music-video words) and gets a
score (place and country named in the title, ambience words, a Creative Commons licence, a duration
long enough for several clips). The best ``per_location`` candidates go to a JSON Lines file with
proposed 10 s cuts; a reviewer keeps or drops each, then ``build`` takes the result.

Searching needs the internet; ``search`` is a parameter, so the tests replay recorded results.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from avg_bench.cache import atomic_write_bytes
from avg_bench.data.schema import LocationRecord
from avg_bench.errors import AvgBenchError, InputFileError
from avg_bench.jsonl import FieldProblem, JsonLinesReader

#: Search templates: {place}, {region}, {country}.
QUERY_TEMPLATES = (
    "{place} {country} walking tour",
    "{place} {region} street ambience",
    "{place} {country} city sounds",
)
GOOD_WORDS = ("walk", "walking", "ambience", "ambient", "street", "sounds", "binaural", "4k", "market", "tour")
BAD_WORDS = ("music video", "official video", "lyrics", "remix", "reaction", "compilation", "slideshow", "trailer",
             "news", "podcast", "tutorial", "top 10", "gameplay")

Search = Callable[[str, int], list[dict]]


@dataclass(frozen=True)
class CurateOptions:
    """How candidate videos are searched and filtered for each location."""
    per_location: int = 5
    results_per_query: int = 10
    min_duration_s: float = 60.0
    max_duration_s: float = 4 * 3600.0
    clips_per_video: int = 4
    clip_seconds: float = 10.0


@dataclass
class Candidate:
    """One proposed source video for one location (a row of the candidates file)."""

    location_id: str
    source_platform: str
    source_id: str
    source_uri: str
    title: str
    duration_s: float | None
    score: float
    query: str
    license: str | None = None  # as the platform's search result shows it
    #: Whether ``publish`` would redistribute media under that licence, and why (for the reviewer).
    license_check: str = ""
    channel: str | None = None
    reasons: list[str] = field(default_factory=list)
    proposed_starts: list[float] = field(default_factory=list)


def read_locations(path: str | Path) -> list[LocationRecord]:
    """Locations as JSON Lines of :class:`LocationRecord` (``synth`` writes one: ``locations.jsonl``)."""
    path = Path(path)
    if not path.is_file():
        raise AvgBenchError(f"{path}: no such locations file")
    found = []
    for line, row in JsonLinesReader(path, error=InputFileError, watched_keys=("location_id",)):
        try:
            found.append(LocationRecord.from_dict(row))
        except FieldProblem as exc:
            raise InputFileError(path, line, str(exc)) from None
    if not found:
        raise AvgBenchError(f"{path}: no locations")
    return found


def queries(location: LocationRecord, country_name: str) -> list[str]:
    """The search queries of a location (duplicates removed, region left out when it is empty)."""
    out = []
    for template in QUERY_TEMPLATES:
        text = " ".join(template.format(place=location.name, region=location.admin1, country=country_name).split())
        if text not in out:
            out.append(text)
    return out


def check(entry: dict, options: CurateOptions) -> list[str]:
    """Reasons to reject a search result (empty: it passes the metadata filters)."""
    problems = []
    duration = entry.get("duration")
    if duration is None:
        problems.append("duration unknown")
    elif not options.min_duration_s <= float(duration) <= options.max_duration_s:
        problems.append(f"duration {float(duration):.0f} s outside [{options.min_duration_s:g}, {options.max_duration_s:g}]")
    if entry.get("is_live") or entry.get("live_status") in ("is_live", "is_upcoming", "post_live"):
        problems.append(f"live stream ({entry.get('live_status') or 'is_live'})")
    if entry.get("acodec") == "none" or entry.get("audio_channels") == 0:
        problems.append("no audio")
    if entry.get("availability") not in (None, "public", "unlisted"):
        problems.append(f"availability {entry['availability']}")
    title = (entry.get("title") or "").lower()
    bad = [w for w in BAD_WORDS if w in title]
    if bad:
        problems.append("title suggests " + ", ".join(bad))
    return problems


def score(entry: dict, location: LocationRecord, country_name: str, options: CurateOptions) -> tuple[float, list[str]]:
    """Higher is better; the reasons say why (for the reviewer)."""
    title = (entry.get("title") or "").lower()
    total, reasons = 0.0, []
    if location.name.lower() in title:
        total += 3.0
        reasons.append("place named in title")
    if country_name.lower() in title or (location.admin1 and location.admin1.lower() in title):
        total += 1.0
        reasons.append("country or region named")
    words = [w for w in GOOD_WORDS if re.search(rf"\b{re.escape(w)}\b", title)]
    if words:
        total += min(2.0, 0.5 * len(words))
        reasons.append("ambience words: " + ", ".join(words))
    licence = (entry.get("license") or "").lower()
    if "creative commons" in licence or licence.startswith("cc"):
        total += 2.0
        reasons.append("Creative Commons licence")
    duration = float(entry.get("duration") or 0)
    needed = options.clips_per_video * options.clip_seconds * 3
    if duration >= needed:
        total += 1.0
        reasons.append("room for several clips")
    total += min(1.0, math.log10(1 + float(entry.get("view_count") or 0)) / 7)  # a little for reach, never dominant
    return round(total, 3), reasons


def proposed_starts(duration_s: float | None, options: CurateOptions) -> list[float]:
    """Evenly spread cuts, away from the first and last 10% (intros, outros)."""
    if not duration_s:
        return []
    low, high = 0.1 * duration_s, 0.9 * duration_s - options.clip_seconds
    if high <= low:
        return []
    n = options.clips_per_video
    return [round(low + (high - low) * (k + 0.5) / n, 1) for k in range(n)]


def curate(locations: Sequence[LocationRecord], *, search: Search, options: CurateOptions = CurateOptions(),
           country_names: dict[str, str] | None = None) -> list[Candidate]:
    """The best candidates per location, best first; a video proposed for one location is not reused."""
    from avg_bench.geo.continents import country_name

    seen: set[str] = set()
    chosen: list[Candidate] = []
    for location in locations:
        name = (country_names or {}).get(location.country) or country_name(location.country)
        pool: dict[str, Candidate] = {}
        for query in queries(location, name):
            for entry in search(query, options.results_per_query):
                video_id = entry.get("id")
                if not video_id or video_id in seen or video_id in pool or check(entry, options):
                    continue
                points, reasons = score(entry, location, name, options)
                pool[video_id] = Candidate(
                    location_id=location.location_id, source_platform=_platform(entry), source_id=str(video_id),
                    source_uri=entry.get("webpage_url") or entry.get("url") or "", title=entry.get("title") or "",
                    duration_s=entry.get("duration"), score=points, query=query, license=entry.get("license"),
                    license_check=_licence_check(entry.get("license")),
                    channel=entry.get("channel"), reasons=reasons, proposed_starts=proposed_starts(entry.get("duration"), options),
                )
        best = sorted(pool.values(), key=lambda c: (-c.score, c.source_id))[: options.per_location]
        seen.update(c.source_id for c in best)
        chosen.extend(best)
    return chosen


def _licence_check(licence: str | None) -> str:
    from avg_bench.data.licences import verdict

    v = verdict(licence)
    return f"{'redistributable' if v.redistributable else 'publish would refuse'}: {v.reason}"


def _platform(entry: dict) -> str:
    key = (entry.get("ie_key") or entry.get("extractor_key") or "").lower()
    return "youtube" if "youtube" in key else ("vimeo" if "vimeo" in key else "http")


def write_candidates(candidates: Iterable[Candidate], path: str | Path) -> None:
    """Write candidates as JSON Lines, atomically, for a person to review before they enter a manifest."""
    text = "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in candidates)
    atomic_write_bytes(Path(path), text.encode("utf-8"))


def ytdlp_search(query: str, count: int) -> list[dict]:
    """Live platform search through yt-dlp (flat: one request per query, no per-video page)."""
    import yt_dlp

    params = {"quiet": True, "no_warnings": True, "extract_flat": "in_playlist", "skip_download": True}
    try:
        with yt_dlp.YoutubeDL(params) as ydl:
            found = ydl.extract_info(f"ytsearch{count}:{query}", download=False) or {}
    except yt_dlp.utils.DownloadError as exc:
        raise AvgBenchError(f"search {query!r} failed: {exc} (curate needs the internet; check with avg-bench doctor)") from None
    return list(found.get("entries") or [])


def recorded_search(path: str | Path) -> Search:
    """Replay search results saved as ``{query: [entries]}`` (tests, and re-scoring without the network)."""
    path = Path(path)
    try:
        results = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise AvgBenchError(f"{path}: cannot read recorded search results ({exc})") from None

    def search(query: str, count: int) -> list[dict]:
        return list(results.get(query, []))[:count]

    return search
