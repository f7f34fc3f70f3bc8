"""Devices and precision of stages 1 and 3 without a GPU: nothing lands on an implicit default device,
generators live on the model's device, and a bf16 checkpoint loads on a CPU in fp32."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors import safe_open

from baselines.reference.audio_atoms import AudioAtomsLocator
from baselines.reference.errors import ReferenceModelError
from baselines.reference.perception import SAE_PRESETS, SAEConfig
from baselines.reference.precision import FLOW_PRESETS, FlowConfig, FlowLocator
from baselines.reference.runtime import Runtime
from reference_tests.planted import planted_clips
from reference_tests.vmf import CITIES

SAE = SAEConfig(n_atoms=64, k=6, k_aux=16, n_experts=2, predictor=True, dead_after=100, train_steps=15, batch_clips=16)
FLOW = FlowConfig(hidden=16, depth=1, train_steps=30, batch_size=64)


def _fit(runtime: Runtime) -> tuple[AudioAtomsLocator, list, tuple]:
    data = planted_clips(48, seed=3)
    lat_c, lon_c = np.array(list(CITIES.values())).T
    model = AudioAtomsLocator(sae=SAE, flow=FLOW, runtime=runtime)
    model.fit(data.clips, lat_c[data.domain], lon_c[data.domain], seed=0, progress=False)
    return model, data.clips, model.predict(data.clips[:6], n_samples=4, steps=4, seed=1)


def test_no_tensor_is_made_on_the_implicit_default_device():
    """With the default device set to "meta" (tensors without data), any tensor made without an
    explicit device would be meta and the run would fail or differ: fitting and predicting on
    device="cpu" must give the same bytes as with the ordinary default."""
    _, _, expected = _fit(Runtime(device="cpu"))
    torch.set_default_device("meta")
    try:
        _, _, got = _fit(Runtime(device="cpu"))
    finally:
        torch.set_default_device(None)
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)


def test_generators_are_made_on_the_runtime_device():
    assert Runtime().generator(3).device == torch.device("cpu")
    assert torch.equal(Runtime().generator(3).get_state(), torch.Generator(device="cpu").manual_seed(3).get_state())
    if not torch.cuda.is_available():
        with pytest.raises(ReferenceModelError, match="torch sees no CUDA GPU"):
            Runtime(device="cuda:0").generator(0)
        with pytest.raises(ReferenceModelError, match="torch sees no CUDA GPU"):
            FlowLocator(FLOW, runtime=Runtime(device="cuda")).fit(None, [0.0, 1.0], [0.0, 1.0], progress=False)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"device": "gpu"}, "device must be cpu, cuda or cuda:N"),
    ({"dtype": "fp16"}, "dtype must be one of fp32, bf16"),
    ({"threads": 0}, "threads must be an integer >= 1"),
])
def test_bad_runtimes_are_clear_errors(kwargs, message):
    with pytest.raises(ReferenceModelError, match=message):
        Runtime(**kwargs)


def test_threads_are_set_while_running_and_restored():
    before = torch.get_num_threads()
    with Runtime(threads=1).active():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_a_bf16_checkpoint_loads_on_cpu_in_fp32(tmp_path):
    model, clips, (lat, lon, samples) = _fit(Runtime(dtype="bf16"))
    model.save(tmp_path / "m")
    for part in ("atoms", "flow"):
        with safe_open(str(tmp_path / "m" / part / "weights.safetensors"), "pt") as stored:
            dtypes = {stored.get_tensor(name).dtype for name in stored.keys() if name not in ("cond_mean", "cond_std")}
        assert torch.bfloat16 in dtypes and torch.float32 not in dtypes, (part, dtypes)
    loaded = AudioAtomsLocator.load(tmp_path / "m", runtime=Runtime(device="cpu", dtype="fp32"))
    assert {p.dtype for p in loaded.atoms.model.parameters()} == {torch.float32}
    assert {p.dtype for p in loaded.flow.field.parameters()} == {torch.float32}
    # the weights are the bf16-rounded fitted weights
    fitted = model.atoms.model.W_dec.detach().to(torch.bfloat16).float()
    assert torch.equal(loaded.atoms.model.W_dec.detach(), fitted)
    again = loaded.predict(clips[:6], n_samples=4, steps=4, seed=1)
    assert again[2].shape == samples.shape and np.isfinite(again[2]).all()
    # fp32 inference on the rounded weights lands where the bf16 run did (an angle of a few degrees at most)
    assert np.abs(again[2] - samples).max() < 5.0
    # and loading without a runtime keeps the checkpoint's precision
    assert AudioAtomsLocator.load(tmp_path / "m").atoms.runtime.dtype == "bf16"


def test_gpu_presets_are_larger_than_the_cpu_ones():
    assert SAE_PRESETS["cpu"] == SAEConfig() and FLOW_PRESETS["cpu"] == FlowConfig()
    gpu, cpu = SAE_PRESETS["gpu"], SAE_PRESETS["cpu"]
    assert gpu.n_atoms > cpu.n_atoms and gpu.batch_clips > cpu.batch_clips and gpu.predictor and gpu.n_experts > 1
    assert FLOW_PRESETS["gpu"].hidden > FLOW_PRESETS["cpu"].hidden and FLOW_PRESETS["gpu"].batch_size > FLOW_PRESETS["cpu"].batch_size
