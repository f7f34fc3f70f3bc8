"""The audio-only reference end to end: planted scene atoms say the city, the flow head finds it."""

import numpy as np

from avg_bench.geo.sphere import haversine_km
from baselines.reference.audio_atoms import AudioAtomsLocator
from baselines.reference.perception import SAEConfig
from baselines.reference.precision import FlowConfig
from reference_tests.planted import planted_clips
from reference_tests.vmf import CITIES


def test_atoms_plus_flow_locate_clips_by_their_scene(tmp_path):
    data = planted_clips(420, seed=3)  # scene g is recorded in city g
    lat_c, lon_c = np.array(list(CITIES.values())).T
    rng = np.random.default_rng(4)
    lat = lat_c[data.domain] + rng.normal(0, 0.5, len(data.domain))
    lon = lon_c[data.domain] + rng.normal(0, 0.5, len(data.domain))
    train, test = slice(0, 360), slice(360, 420)
    model = AudioAtomsLocator(
        sae=SAEConfig(n_atoms=64, k=6, k_aux=8, dead_after=2000, train_steps=300, batch_clips=32, lr=3e-3),
        flow=FlowConfig(hidden=64, depth=2, train_steps=300, batch_size=128, lr=3e-3),
    )
    model.fit(data.clips[train], lat[train], lon[train], labels=data.labels[train], seed=0, progress=False)
    p_lat, p_lon, samples = model.predict(data.clips[test], n_samples=16, steps=24, seed=1)
    assert samples.shape == (60, 16, 2)
    error = haversine_km(p_lat, p_lon, lat[test], lon[test])
    # a random point on Earth is within 750 km (country level) 1.1% of the time
    assert (error <= 750).mean() >= 0.9, np.sort(error)
    summaries = model.summaries(data.clips[test][:3], top=3)
    assert all(len(s.atoms) == 3 for s in summaries)
    model.save(tmp_path / "m")
    again = AudioAtomsLocator.load(tmp_path / "m").predict(data.clips[test], n_samples=16, steps=24, seed=1)
    np.testing.assert_array_equal(again[0], p_lat)
    np.testing.assert_array_equal(again[2], samples)
