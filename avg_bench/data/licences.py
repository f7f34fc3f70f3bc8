"""Which source licences allow AVG-Bench to redistribute a clip's media, and why not when they don't.

A clip is cut, re-encoded and hosted for everyone: that is redistribution of an adaptation. The
licence a clip carries is the one its source declared (yt-dlp's info JSON ``license`` field when
the build fetched it; the manifest's, which ``curate`` copied from the search results, otherwise).
Allowed: public domain / CC0, CC BY and CC BY-SA (attribution: the card and the rows name the
source). Refused: no licence (all rights reserved by default, e.g. YouTube's standard licence),
NoDerivatives (a cut clip is a derivative), NonCommercial (the hosted dataset carries no
non-commercial restriction), and anything not recognised. AVG-Synth's own clips are CC0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CC_URL = re.compile(r"creativecommons\.org/(licenses|publicdomain)/([a-z-]+)")


@dataclass(frozen=True)
class LicenceVerdict:
    """Whether a source's licence lets the project redistribute its clips, and why."""
    licence: str | None
    redistributable: bool
    reason: str


def verdict(licence: str | None) -> LicenceVerdict:
    """Classify one licence string as declared by a platform.

    >>> verdict("Creative Commons Attribution license (reuse allowed)").redistributable
    True
    >>> verdict("CC BY-NC 4.0").reason
    'NonCommercial licence: the hosted dataset carries no non-commercial restriction'
    >>> verdict(None).reason
    'no licence recorded: all rights reserved by default'
    """
    text = (licence or "").strip().lower()
    if not text or text in {"standard youtube license", "all rights reserved", "none", "unknown"}:
        return LicenceVerdict(licence, False, "no licence recorded: all rights reserved by default" if not text
                              else f"{licence!r} reserves all rights")
    url = _CC_URL.search(text)
    terms = url.group(2) if url else text
    words = set(re.split(r"[^a-z0-9]+", terms))
    if "nd" in words or "noderivatives" in words or "noderivs" in terms or "no derivatives" in text:
        return LicenceVerdict(licence, False, "NoDerivatives licence: a cut and re-encoded clip is a derivative")
    if "nc" in words or "noncommercial" in terms or "non-commercial" in text or "non commercial" in text:
        return LicenceVerdict(licence, False, "NonCommercial licence: the hosted dataset carries no non-commercial restriction")
    if "cc0" in words or "zero" in words or "public domain" in text or "publicdomain" in text or "pdm" in words:
        return LicenceVerdict(licence, True, "public domain / CC0")
    if ("by" in words and ("cc" in words or url or "creative" in words)) or "creative commons attribution" in text:
        return LicenceVerdict(licence, True, "Creative Commons Attribution")
    return LicenceVerdict(licence, False, f"licence {licence!r} is not known to allow redistribution")


def source_licence(info: dict) -> str | None:
    """The licence a platform declares in yt-dlp's info JSON (``license``), or None."""
    value = info.get("license")
    return value.strip() if isinstance(value, str) and value.strip() else None
