"""Writes search_results.json: recorded yt-dlp search results for the curate tests (seeded, no network).

Run: python tests/remote_tests/data/make_search_results.py. Entries have the keys of yt-dlp's flat
YouTube search results (id, url, title, duration, live_status, availability, view_count, channel,
ie_key), some with the full-extraction keys license and acodec. Planted bad rows: a live stream, an
upcoming premiere, a 30 s short, a music video, an entry with no duration, a private video, a
video without audio; one video appears under two locations (it may be proposed only once).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from avg_bench.data.curate import queries
from avg_bench.data.schema import LocationRecord

LOCATIONS = [
    LocationRecord("L0001", 2988507, "Paris", "Ile-de-France", "FR", "EU", 48.85341, 2.3488, 2138551),
    LocationRecord("L0002", 1850147, "Tokyo", "Tokyo", "JP", "AS", 35.6895, 139.69171, 8336599),
]
COUNTRY = {"FR": "France", "JP": "Japan"}


def entry(video_id: str, title: str, duration, rng: random.Random, **extra) -> dict:
    return {"_type": "url", "ie_key": "Youtube", "id": video_id, "url": f"https://www.youtube.com/watch?v={video_id}",
            "title": title, "duration": duration, "live_status": "not_live", "availability": "public",
            "view_count": rng.randint(100, 2_000_000), "channel": f"channel-{video_id[:3]}", **extra}


def build() -> dict:
    rng = random.Random(0)
    paris, tokyo = (queries(loc, COUNTRY[loc.country]) for loc in LOCATIONS)
    results = {
        paris[0]: [
            entry("parisWalk01", "Paris France Walking Tour 4K - Montmartre", 3600, rng, license="Creative Commons Attribution license (reuse allowed)"),
            entry("parisLive001", "Paris live cam 24/7", None, rng, live_status="is_live"),
            entry("parisShort1", "Paris in 30 seconds", 30, rng),
            entry("parisMusic1", "Paris (Official Video) - some band", 215, rng),
            entry("sharedVid01", "Street ambience walk", 1800, rng),
        ],
        paris[1]: [
            entry("parisAmb002", "Paris street ambience, rain, binaural", 2400, rng),
            entry("parisNoDur1", "Paris evening", None, rng),
            entry("parisPriv01", "Paris walk", 900, rng, availability="private"),
        ],
        paris[2]: [
            entry("parisMute01", "Paris city sounds (silent version)", 1200, rng, acodec="none"),
            entry("parisWalk01", "Paris France Walking Tour 4K - Montmartre", 3600, rng),  # duplicate across queries
            entry("parisPrem01", "Paris premiere", 600, rng, live_status="is_upcoming"),
        ],
        tokyo[0]: [
            entry("sharedVid01", "Street ambience walk", 1800, rng),  # already proposed for Paris
            entry("tokyoWalk01", "Tokyo Japan walking tour - Shibuya night 4K", 5400, rng),
        ],
        tokyo[1]: [entry("tokyoRemix1", "Tokyo remix lyrics", 180, rng)],
        tokyo[2]: [],
    }
    return results


if __name__ == "__main__":
    path = Path(__file__).with_name("search_results.json")
    path.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path}")
