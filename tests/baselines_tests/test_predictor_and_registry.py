"""The predictor interface's output file and the registry's options."""

from __future__ import annotations

import numpy as np
import pytest

from avg_bench.errors import AvgBenchError
from avg_bench.labels import labels_from_records
from avg_bench.predictions import read_predictions
from baselines.knn import KnnAudioVisual
from baselines.predictor import Predictions
from baselines.registry import BASELINES, create, option_specs, parse_options


def test_predictions_file_is_read_back_by_the_evaluator(tmp_path):
    ids = ["a-0000000001", "a-0000000002", "a-0000000003"]
    predictions = Predictions(
        ids, np.array([48.8566, np.nan, -33.8688]), np.array([2.3522, np.nan, 151.2093]),
        samples=np.array([[[48.0, 2.0], [49.0, 3.0]], [[0.0, 0.0], [1.0, 1.0]], [[-33.0, 151.0], [-34.0, 150.0]]]),
        reasoning=["Paris", "no idea", None], country=["FR", None, "AU"],
    )
    path = predictions.write_jsonl(tmp_path / "out" / "predictions.jsonl")
    records = [{"clip_id": i, "location_id": "L0001", "lat": 0.0, "lon": 0.0} for i in ids]
    read = read_predictions(path, labels_from_records(records))
    assert read.lat[0] == 48.8566 and read.lon[2] == 151.2093
    assert np.isnan(read.lat[1]) and read.predicted.tolist() == [True, False, True]  # null coordinates abstain
    lines = path.read_text().splitlines()
    assert lines[1] == '{"clip_id":"a-0000000002","lat":null,"lon":null,"samples":[[0.0,0.0],[1.0,1.0]],"reasoning":"no idea"}'
    assert '"country":"FR"' in lines[0] and '"reasoning":"Paris"' in lines[0]
    assert not list((tmp_path / "out").glob(".*tmp"))  # written atomically, no temporary left


@pytest.mark.parametrize("bad, message", [
    ({"lat": np.zeros(2)}, r"lat and lon must have shape \(3,\)"),
    ({"samples": np.zeros((3, 4))}, r"samples must have shape \(3, S, 2\)"),
    ({"reasoning": ["x"]}, "reasoning must have 3 entries"),
])
def test_predictions_check_their_shapes(bad, message):
    arguments = {"clip_ids": ["a", "b", "c"], "lat": np.zeros(3), "lon": np.zeros(3), **bad}
    with pytest.raises(ValueError, match=message):
        Predictions(**arguments)


def test_every_registered_baseline_loads_and_lists_its_options():
    assert list(BASELINES) == ["random-sphere", "train-prior", "knn-audio", "knn-visual", "knn-av", "flow-audio",
                              "flow-visual", "flow-av", "audio-atoms", "avg-reference", "avg-reference-vision",
                              "avg-reference-audio", "vlm-zero-shot"]
    for entry in BASELINES.values():
        cls = entry.load()
        assert cls.name == entry.name and tuple(cls.modalities) == entry.modalities
        for name, spec in option_specs(cls).items():
            assert spec.help, f"{entry.name} option {name} has no help text"
    assert set(option_specs(KnnAudioVisual)) >= {"audio_features", "visual_features", "audio_weight", "k", "method", "temperature"}


def test_options_are_converted_by_type_and_checked():
    predictor = create("knn-av", parse_options(["k=3", "method=best", "audio-weight=0.25", "standardise=false"]), seed=4)
    assert (predictor.k, predictor.method, predictor.audio_weight, predictor.standardise, predictor.seed) == (3, "best", 0.25, False, 4)
    assert create("random-sphere", {"samples": "7"}).samples == 7
    cases = [
        ("knn-av", ["method=median"], "knn-av option method must be one of best, weighted, found 'median'"),
        ("knn-av", ["k=ten"], "knn-av option k must be an integer, found 'ten'"),
        ("knn-av", ["audio_weight=2"], r"knn-av: audio_weight must be in \[0, 1\], found 2.0"),
        ("knn-av", ["kk=3"], "knn-av has no option 'kk'; did you mean 'k'?"),
        ("knn-audi", [], "unknown baseline 'knn-audi'; did you mean 'knn-audio'?"),
        ("train-prior", ["strategy"], "option 'strategy' is not KEY=VALUE"),
    ]
    for name, pairs, message in cases:
        with pytest.raises(AvgBenchError, match=message):
            create(name, parse_options(pairs))


def test_registry_and_predictors_speak_the_modality_vocabulary():
    from avg_bench.modality import Modality, modality_set_name
    from baselines.registry import BASELINES

    for entry in BASELINES.values():
        assert all(isinstance(m, Modality) for m in entry.modalities), entry.name
        predictor = entry.load()
        assert set(predictor.modalities) == set(entry.modalities), entry.name  # the class and its entry agree
    words = {name: modality_set_name(entry.modalities) for name, entry in BASELINES.items()}
    assert (words["random-sphere"], words["knn-audio"], words["knn-visual"], words["knn-av"]) == ("none", "audio", "visual", "audio+visual")
    assert (words["vlm-zero-shot"], words["avg-reference-vision"], words["flow-av"]) == ("visual", "visual", "audio+visual")


def test_the_board_takes_every_baselines_modality_word_a_prior_as_none():
    from avg_bench.modality import modality_set_name
    from leaderboard.submissions import MODALITIES

    assert MODALITIES == ("none", "audio", "visual", "audio+visual")  # words written before "none" still read
    assert {modality_set_name(entry.modalities) for entry in BASELINES.values()} <= set(MODALITIES)
