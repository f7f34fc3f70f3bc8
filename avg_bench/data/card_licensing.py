"""The card's licensing, takedown, personal-data and citation sections (appended to every card).

Kept apart from :mod:`avg_bench.data.card` (the datasheet proper) so each can change alone. The
licence table of a built dataset counts the licences its clips carry, as recorded through the
build (``build_info.json`` ``licenses``); the shipped AVG card states the policy.
"""

from __future__ import annotations

from collections.abc import Mapping

from avg_bench.data.licences import verdict

BIBTEX = r"""```bibtex
@software{avg_bench,
  title  = {{AVG-Bench}: a toolkit for the {AVG} audiovisual geolocation benchmark},
  author = {{AVG-Bench contributors}},
  year   = {2026},
  url    = {https://github.com/avg-bench/avg-bench},
  note   = {Apache-2.0}
}

@article{su2026avg,
  title   = {Interpretable Perception and Reasoning for Audiovisual Geolocation},
  author  = {Su and Liu},
  journal = {arXiv preprint arXiv:2603.05708},
  year    = {2026}
}

@article{georeasoning2026,
  title   = {Vision-Language Reasoning for Geolocalization: A Reinforcement Learning Approach},
  journal = {arXiv preprint arXiv:2601.00388},
  year    = {2026}
}
```"""


def licensing_sections(licences: Mapping[str, int] | None, *, synthetic: bool) -> str:
    """Markdown: licences (with counts when built), takedown, personal data, code licence, citation."""
    if licences:
        rows = []
        for licence, count in licences.items():
            v = verdict(licence)
            rows.append(f"| {licence} | {count:,} | {'yes' if v.redistributable else 'no: ' + v.reason} |")
        table = "| licence (as the source declares it) | clips | redistributable |\n|---|--:|---|\n" + "\n".join(rows)
    else:
        table = ("The build records each clip's licence; the released card lists every licence with its clip count "
                 "(this planned card has none yet).")
    own = ("AVG-Synth's clips are generated locally by AVG-Bench and released under CC0-1.0."
           if synthetic else
           "Each clip keeps the licence of its source video. The shards, labels and card are released as a "
           "collection under CC BY 4.0; the media inside stay under their own licences.")
    return f"""
## Licensing
{own} Every row has a `license` column: the licence the source declared, recorded through the build
(yt-dlp's info JSON `license` field when the clip is fetched; otherwise the manifest's, which `avg-bench
curate` copies from what the platform search shows).

{table}

**What may be redistributed.** Media under public domain / CC0, CC BY or CC BY-SA. **What `avg-bench
publish` refuses to upload**: any shard holding a clip whose source licence does not allow
redistribution: no licence recorded (all rights reserved, e.g. YouTube's standard licence),
NoDerivatives (a cut, re-encoded clip is a derivative), NonCommercial (the hosted collection carries
no non-commercial restriction) and any licence it does not recognise. `avg-bench publish --dry-run`
lists each such clip and the reason. Such clips can still be rebuilt locally from the public manifest
(`avg-bench build`) for research, under their own terms.

## Takedown
If you hold rights in a clip, or appear in one, and want it removed: open an issue titled
"takedown: CLIP_ID" on the AVG-Bench issue tracker (or write to the maintainers privately; a takedown
request never needs to be public). The clip is removed from the next revision; the public manifest
keeps its id marked as withdrawn, so scores stay comparable.

## Personal data
Street-level video and sound can hold faces, voices and vehicle plates. AVG favours ambient scenes
(curate scores ambience words, and people are not the subject of a location's clips), strips all
container metadata (no titles, no geotags, no uploader), never stores uploader names in the shards,
and locates clips only to a populated place's centroid. It does not blur faces or plates or remove
speech: do not use the data to identify, track or locate people. Requests to remove a clip in which
you appear follow the takedown route above.

## License of the code
AVG-Bench (the toolkit that builds, scores and serves this dataset) is Apache-2.0 (`LICENSE`).

## Citation
{BIBTEX}
"""
