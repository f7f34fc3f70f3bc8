"""The modality vocabulary: every set has one name, and names round-trip."""

import pytest

from avg_bench.errors import AvgBenchError
from avg_bench.modality import MODALITY_SET_NAMES, Modality, modality_set_name, parse_modality_set


def test_names_round_trip():
    for name in MODALITY_SET_NAMES:
        assert modality_set_name(parse_modality_set(name)) == name


def test_set_names_do_not_depend_on_order_or_type():
    assert modality_set_name(["visual", Modality.AUDIO]) == "audio+visual"
    assert modality_set_name((Modality.AUDIO,)) == "audio"
    assert modality_set_name(()) == "none"


def test_video_is_not_a_modality_name():
    with pytest.raises(AvgBenchError, match=r"modalities must be one of none, audio, visual, audio\+visual, found 'video'.*'visual'"):
        parse_modality_set("video")
    with pytest.raises(ValueError):
        Modality("video")
