"""Feature extraction: model-free statistics on known signals, the cache, tiny HF encoders."""

from __future__ import annotations

import numpy as np
import pytest
from baselines_tests.media_split import media_split
from baselines_tests.tiny_models import make_tiny_clap, make_tiny_clip, make_tiny_dinov2, make_tiny_whisper

from avg_bench.errors import AvgBenchError
from avg_bench.modality import Modality
from baselines.features import clip_embeddings, extract, feature_cache_path, make_extractor
from baselines.features.model_free import SAMPLE_RATE, mel_filterbank


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AVG_BENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def split(tmp_path):
    return media_split(tmp_path / "data", [440.0, 1000.0, 3000.0], [(255, 0, 0), (0, 128, 255), (250, 250, 250)])


def mel_centres(bands: int = 64) -> np.ndarray:
    bank = mel_filterbank(400, bands)
    return bank.argmax(axis=1) * SAMPLE_RATE / 400


def test_logmel_statistics_peak_in_the_band_of_the_tone(split):
    windows = extract(split, make_extractor("logmel", Modality.AUDIO), progress=False)
    assert windows.shape == (3, 10, 128) and windows.dtype == np.float32
    centres = mel_centres()
    for clip, frequency in enumerate([440.0, 1000.0, 3000.0]):
        means = windows[clip, :, :64]
        loudest = means.argmax(axis=1)
        assert np.all(loudest == loudest[0])  # a steady tone: the same band in every window
        assert abs(centres[loudest[0]] - frequency) / frequency < 0.12
        # a steady tone barely varies inside a window: std << spread of band means
        assert windows[clip, :, 64:].mean() < 0.5


def test_colour_statistics_of_solid_frames(split):
    windows = extract(split, make_extractor("colour", Modality.VISUAL), progress=False)
    assert windows.shape == (3, 1, 67)
    features = clip_embeddings(windows)
    np.testing.assert_allclose(features[0, :3], [1.0, 0.0, 0.0], atol=0.01)
    np.testing.assert_allclose(features[1, :3], [0.0, 128 / 255, 1.0], atol=0.01)
    histogram = features[:, 3:]
    np.testing.assert_allclose(histogram.sum(axis=1), 1.0, atol=1e-6)
    assert histogram[0].argmax() == (3 * 4 + 0) * 4 + 0  # red: bin (3, 0, 0)
    assert histogram[1].argmax() == (0 * 4 + 2) * 4 + 3  # (0, 128, 255): bin (0, 2, 3)
    assert histogram[0].max() > 0.99


def test_features_are_cached_per_extractor_and_dataset_revision(split, monkeypatch):
    extractor = make_extractor("colour", Modality.VISUAL)
    first = extract(split, extractor, progress=False)
    path = feature_cache_path(split, extractor)
    assert path.exists() and path.with_suffix(".ids.json").exists()
    monkeypatch.setattr(type(extractor), "embed", lambda self, media: pytest.fail("cache not used"))
    np.testing.assert_array_equal(extract(split, extractor, progress=False), first)
    # another dataset revision or another clip list is another cache entry
    from dataclasses import replace

    assert feature_cache_path(replace(split, revision="test@2"), extractor) != path
    with pytest.raises(pytest.fail.Exception, match="cache not used"):
        extract(split.head(2), extractor, progress=False)


def test_unknown_feature_specs_are_clear_errors():
    with pytest.raises(AvgBenchError, match="unknown visual features 'logmel': use 'colour' or 'hf:NAME'"):
        make_extractor("logmel", Modality.VISUAL)
    with pytest.raises(AvgBenchError, match="cannot load encoder ./nonexistent/model.: no such model folder"):
        extract_one = make_extractor("hf:/nonexistent/model", Modality.VISUAL)
        extract_one.embed([[b""]])


@pytest.mark.parametrize("maker, dim", [(make_tiny_clip, 12), (make_tiny_dinov2, 16)])
def test_tiny_image_encoders_embed_keyframes(split, tmp_path, maker, dim):
    folder = maker(tmp_path / "encoder")
    extractor = make_extractor(f"hf:{folder}", Modality.VISUAL, batch_size=5)
    windows = extract(split, extractor, progress=False)
    assert windows.shape == (3, 1, dim) and np.isfinite(windows).all()
    # one keyframe set embedded alone gives the same vector as in a batch
    single = extractor.embed([next(split.iter_media("keyframes", batch_rows=1))[0]])
    np.testing.assert_allclose(single[0], windows[0], rtol=1e-4, atol=1e-5)
    assert len({tuple(np.round(w[0], 4)) for w in windows}) == 3  # different colours, different vectors
    other = maker(tmp_path / "encoder-2", seed=1)
    assert make_extractor(f"hf:{other}", Modality.VISUAL).key != extractor.key  # other weights, other cache key


def test_tiny_clap_embeds_each_window(split, tmp_path):
    folder = make_tiny_clap(tmp_path / "encoder")
    extractor = make_extractor(f"hf:{folder}", Modality.AUDIO, batch_size=4)
    windows = extract(split, extractor, progress=False)
    assert windows.shape == (3, 5, 12) and np.isfinite(windows).all()  # 10 s in 2 s windows, 12-d projection
    # each window is encoded on its own, and a steady tone looks the same in every window
    np.testing.assert_allclose(windows[:, 1:], windows[:, :1].repeat(4, axis=1), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(windows, axis=-1), 1.0, atol=1e-5)  # CLAP normalises its embeddings
    assert not np.allclose(windows[0], windows[2], atol=1e-4)


def test_tiny_whisper_pools_one_encoding_per_window(split, tmp_path):
    import torch
    from transformers import WhisperFeatureExtractor, WhisperModel

    from baselines.features.model_free import decode_audio

    folder = make_tiny_whisper(tmp_path / "encoder")
    windows = extract(split, make_extractor(f"hf:{folder}", Modality.AUDIO, batch_size=2), progress=False)
    assert windows.shape == (3, 5, 16) and np.isfinite(windows).all()
    # by hand: encode the whole clip once, then average 100 hidden states (2 s at 50 Hz) per window
    audio = next(split.iter_media("audio", batch_rows=1))[0]
    features = WhisperFeatureExtractor.from_pretrained(folder)(decode_audio(audio), sampling_rate=16_000, return_tensors="pt")
    with torch.inference_mode():
        hidden = WhisperModel.from_pretrained(folder).get_encoder()(features["input_features"]).last_hidden_state[0]
    expected = hidden[:500].reshape(5, 100, 16).mean(dim=1).numpy()
    np.testing.assert_allclose(windows[0], expected, rtol=1e-4, atol=1e-5)
