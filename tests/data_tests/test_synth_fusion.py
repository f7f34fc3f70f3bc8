"""AVG-Synth's fusion variant: the frames name a group, the sound a rank within it, so only the two
together name the place. Proven on the renderer (identical frames within a group, identical sound
across groups) and measured with nearest-neighbour retrieval on decoded clips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from data_tests.test_synth import _clip, _colour_features, _log_band_energies

from avg_bench.data import synth as S
from avg_bench.data.locations import load_locations
from avg_bench.data.manifest import read_manifest, resolve_source
from avg_bench.errors import AvgBenchError

GROUP = 3
PLACES = S.pick_locations(load_locations(), 6, seed=0)  # 6 continents: two groups of 3


@pytest.fixture(scope="module")
def fusion(tmp_path_factory) -> S.SynthResult:
    return S.generate_synth(
        tmp_path_factory.mktemp("fusion"), PLACES, videos_per_location=2, clips_per_video=2, video_seconds=24.0, seed=0,
        workers=2, progress=False, variant="fusion", group_size=GROUP,
    )  # fmt: skip


def test_groups_are_balanced_seeded_and_continent_ordered():
    groups = S.assign_fusion_groups(PLACES, seed=0, group_size=GROUP)
    assert groups == S.assign_fusion_groups(list(reversed(PLACES)), seed=0, group_size=GROUP)
    assert sorted(groups.values()) == [(g, r) for g in range(2) for r in range(GROUP)]
    continents = {loc.location_id: loc.continent for loc in PLACES}
    order = sorted(groups, key=groups.get)
    assert [continents[lid] for lid in order] == sorted(continents[lid] for lid in order)
    with pytest.raises(AvgBenchError, match="6 locations do not divide"):
        S.assign_fusion_groups(PLACES, seed=0, group_size=4)
    with pytest.raises(AvgBenchError, match="between 2 and 8"):
        S.assign_fusion_groups(PLACES, seed=0, group_size=1)
    with pytest.raises(AvgBenchError, match="variant must be one of default, fusion"):
        S.variant_cues(PLACES, seed=0, variant="both")


def test_frames_depend_on_the_group_only_and_sound_on_the_rank_only():
    """Same per-video nuisances: group mates render the same still frame pixel for pixel, rank
    mates the same tonal soundtrack sample for sample, and the same spoken word and noise band."""
    cues = S.variant_cues(PLACES, seed=0, variant="fusion", group_size=GROUP)
    plan = S.plan_video("L0001", 0, seed=0, video_seconds=4.0, tag="t")
    frames = {lid: S.render_base_frame(c, plan) for lid, c in cues.items()}
    sounds = {lid: S.render_tonal_audio(c, plan) for lid, c in cues.items()}
    pairs = [(a, b) for a in cues for b in cues if a < b]
    for a, b in pairs:
        same_group = cues[a].fusion_group == cues[b].fusion_group
        same_rank = cues[a].fusion_rank == cues[b].fusion_rank
        assert np.array_equal(frames[a], frames[b]) == same_group, (a, b)
        assert np.array_equal(sounds[a], sounds[b]) == same_rank, (a, b)
        speech = lambda c: (c.country_cues.voice, c.country_cues.phrase, c.country_cues.noise_band_hz)  # noqa: E731
        assert (speech(cues[a]) == speech(cues[b])) == same_rank
        assert cues[a].sign_text == "" and cues[a].identity_modality == "fusion"
    # The default variant is untouched by the option.
    assert S.variant_cues(PLACES, seed=0) == {
        loc.location_id: S.location_cues(loc, seed=0, identity_modality=m)
        for loc in PLACES
        for m in [S.assign_identity_modalities(PLACES, seed=0)[loc.location_id]]
    }


def test_visual_retrieval_stops_at_the_group_and_audio_visual_finds_the_place(fusion):
    """Clips of video 1 matched to clips of video 0 (nearest neighbour, standardised features):
    colour statistics find the group of every clip but the place of no more than 1/GROUP of them
    (the group-level ceiling); the log band energies find every rank; the two joined find every place."""
    rows = read_manifest(fusion.manifest_path)
    features: dict[str, list] = {"video": [], "audio": []}
    location, video = [], []
    for row in rows:
        frames, sound = _clip(resolve_source(row, fusion.manifest_path), row.start_s, row.end_s)
        features["video"].append(_colour_features(frames))
        features["audio"].append(_log_band_energies(sound))
        location.append(row.location_id)
        video.append(int(row.source_id.split("-v")[1][:2]))
    location, video = np.array(location), np.array(video)
    scaled = {}
    for modality, values in features.items():
        x = np.array(values)
        scaled[modality] = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-9) / np.sqrt(x.shape[1])  # equal weight per modality
    scaled["both"] = np.concatenate([scaled["video"], scaled["audio"]], axis=1)
    group = np.array([fusion.cues[lid].fusion_group for lid in location])
    rank = np.array([fusion.cues[lid].fusion_rank for lid in location])
    reference, query = video == 0, video == 1
    hits = {}
    for name, x in scaled.items():
        nearest = ((x[query][:, None] - x[reference][None]) ** 2).sum(axis=-1).argmin(axis=1)
        hits[name] = {
            "place": float((location[reference][nearest] == location[query]).mean()),
            "group": float((group[reference][nearest] == group[query]).mean()),
            "rank": float((rank[reference][nearest] == rank[query]).mean()),
        }
    assert query.sum() == 12
    assert hits["video"]["group"] == 1.0 and hits["video"]["place"] <= 1 / GROUP, hits
    assert hits["audio"]["rank"] == 1.0 and hits["audio"]["place"] < 1.0, hits
    assert hits["both"]["place"] == 1.0, hits
    info = json.loads((fusion.out_dir / "synth.json").read_text())
    assert info["variant"] == "fusion" and info["fusion_groups"][PLACES[0].location_id]["rank"] in range(GROUP)
    sidecar = json.loads((fusion.out_dir / "sources" / PLACES[0].location_id / "cues.json").read_text())
    assert sidecar["location"]["modality"] == "fusion" and len(sidecar["location"]["palette"]) == 4


def test_fusion_ids_never_collide_with_the_default_variant():
    default = S._params_tag(seed=0, video_seconds=24.0, speech=True, text=True)
    assert default == S._params_tag(seed=0, video_seconds=24.0, speech=True, text=True, variant="default", group_size=5)
    assert S._params_tag(seed=0, video_seconds=24.0, speech=True, text=True, variant="fusion") != default


def test_places_must_divide_into_groups(tmp_path):
    with pytest.raises(AvgBenchError, match="groups of 4"):
        S.generate_synth(tmp_path / "o", PLACES, videos_per_location=1, clips_per_video=1, video_seconds=10.0, seed=0,
                         variant="fusion", group_size=4, progress=False)  # fmt: skip
    assert not (tmp_path / "o").exists()


def test_cli_writes_the_fusion_variant(tmp_path):
    from typer.testing import CliRunner

    from avg_bench.cli import app
    from avg_bench.cli import synth as _synth  # noqa: F401  (registers the command until cli/__init__ does)

    table = tmp_path / "places.csv"
    table.write_text(
        "location_id,geonameid,name,admin1,country,continent,lat,lon,population\n"
        "L0007,2988507,Paris,Ile-de-France,FR,EU,48.85341,2.3488,2138551\n"
        "L0009,1850147,Tokyo,Tokyo,JP,AS,35.6895,139.69171,8336599\n",
        encoding="utf-8",
    )
    args = ["synth", "--table", str(table), "--locations", "2", "--videos-per-location", "1", "--clips-per-video", "1",
            "--video-seconds", "10", "--out", str(tmp_path / "s"), "--variant", "fusion", "--group-size", "2"]  # fmt: skip
    done = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    info = json.loads((tmp_path / "s" / "synth.json").read_text())
    assert info["variant"] == "fusion" and sorted(g["rank"] for g in info["fusion_groups"].values()) == [0, 1]
    bad = CliRunner().invoke(app, [*args[:-4], "--variant", "both"], env={"COLUMNS": "200"})
    assert bad.exit_code != 0 and "variant must be one of default, fusion" in " ".join(str(bad.exception or bad.output).split())
