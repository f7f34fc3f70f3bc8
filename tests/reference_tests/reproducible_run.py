"""One seeded stage-1 + stage-3 fit and predict, run by test_reproducibility.py in a fresh process.

    python tests/reference_tests/reproducible_run.py THREADS

Prints the SHA-256 of the fitted decoder, the samples and the point predictions. The SAE is
configured so that most latents die early and the AuxK loss runs on almost every step: the loss
whose backward (a gather of decoder rows) used to add with atomics under 2+ threads.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[1])]

from baselines.reference.audio_atoms import AudioAtomsLocator  # noqa: E402
from baselines.reference.perception import SAEConfig  # noqa: E402
from baselines.reference.precision import FlowConfig  # noqa: E402
from baselines.reference.runtime import Runtime  # noqa: E402
from reference_tests.planted import planted_clips  # noqa: E402
from reference_tests.vmf import CITIES  # noqa: E402


def main(threads: int) -> None:
    data = planted_clips(96, seed=3)
    lat_c, lon_c = np.array(list(CITIES.values())).T
    model = AudioAtomsLocator(
        sae=SAEConfig(n_atoms=256, k=6, k_aux=32, n_experts=2, predictor=True, dead_after=100, train_steps=8,
                      batch_clips=24, lr=3e-3),
        flow=FlowConfig(hidden=16, depth=1, train_steps=10, batch_size=64),
        runtime=Runtime(threads=threads),
    )
    model.fit(data.clips, lat_c[data.domain], lon_c[data.domain], seed=0, progress=False)
    lat, lon, samples = model.predict(data.clips[:16], n_samples=8, steps=8, seed=1)
    aux_steps = sum("aux" in step for step in model.atoms.history)
    digest = lambda a: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()  # noqa: E731
    print(aux_steps, digest(model.atoms.decoder), digest(samples), digest(np.stack([lat, lon])))


if __name__ == "__main__":
    main(int(sys.argv[1]))
