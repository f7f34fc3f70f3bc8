"""vlm-zero-shot's wiring from answers to predictions, and the README results table."""

from __future__ import annotations

import json

import numpy as np
import pytest
from baselines_tests.media_split import media_split

from avg_bench.errors import AvgBenchError
from avg_bench.labels import labels_from_records
from baselines.errors import BaselineInputError
from baselines.summary import END, START, markdown_table, update_readme
from baselines.vlm import VlmZeroShot, country_code


def test_answers_become_predictions_abstentions_and_reasoning(tmp_path, monkeypatch):
    split = media_split(tmp_path, [440.0] * 4, [(10, 20, 30)] * 4)
    answers = iter([
        "The signs are French.\nAnswer:\nContinent: Europe\nCountry: France\nRegion: Ile-de-France\nCity: Paris\nCoordinates: 48.8566, 2.3522",
        '{"country": "Japan", "lat": "35°41\'N", "lon": "139°42\'E"}',
        "I cannot determine the location from these frames.",
        "Coordinates: 95.0, 10.0",  # out of range: abstains rather than wraps
    ])
    predictor = VlmZeroShot(keyframes=2, progress=False)
    seen_frames = []
    monkeypatch.setattr(predictor, "_load", lambda: None)
    monkeypatch.setattr(predictor, "answers", lambda clips: [seen_frames.append(len(frames)) or next(answers) for frames in clips])
    predictions = predictor.fit(split).predict(split)
    assert seen_frames == [2, 2, 2, 2]  # keyframes=2 of the 4 stored
    np.testing.assert_allclose(predictions.lat[:2], [48.8566, 35 + 41 / 60])
    np.testing.assert_allclose(predictions.lon[:2], [2.3522, 139.7])
    assert predictions.abstained.tolist() == [False, False, True, True]
    assert predictions.country == ["FR", "JP", None, None]
    lines = [json.loads(line) for line in predictions.write_jsonl(tmp_path / "p.jsonl").read_text().splitlines()]
    assert lines[2] == {"clip_id": split.clip_ids[2], "lat": None, "lon": None,
                        "reasoning": "I cannot determine the location from these frames."}


def test_vlm_options_and_missing_model_are_clear_errors():
    with pytest.raises(BaselineInputError, match="keyframes must be between 1 and 4"):
        VlmZeroShot(keyframes=5)
    with pytest.raises(AvgBenchError, match="cannot load encoder './no-such-vlm': no such model folder"):
        VlmZeroShot(model="./no-such-vlm")._load()
    assert (country_code("Brazil"), country_code(" united kingdom "), country_code(None)) == ("BR", "GB", None)


def test_results_table_is_written_between_the_markers(tmp_path):
    import avg_bench

    labels = labels_from_records([{"clip_id": f"c{i}", "location_id": f"L{i % 2}", "lat": 10.0 * i, "lon": 5.0} for i in range(4)])
    exact = avg_bench.evaluate([{"clip_id": f"c{i}", "lat": 10.0 * i, "lon": 5.0} for i in range(4)], labels, bootstrap=0)
    half = avg_bench.evaluate([{"clip_id": f"c{i}", "lat": 10.0 * i + (i % 2) * 30, "lon": 5.0} for i in range(4)], labels, bootstrap=0)
    table = markdown_table({"exact": exact, "half": half}, {"vlm-zero-shot": "not run"})
    rows = table.splitlines()
    assert rows[2] == "| `exact` | 100.0 | 100.0 | 100.0 | 100.0 | 100.0 | 100.0 | 5000 | 0 |"
    # half the clips 30 degrees (3,336 km) off: GeoScore (5000 + 5000 e^(-3336/1492.7)) / 2, median (0 + 3336) / 2
    assert rows[3] == "| `half` | 50.0 | 50.0 | 50.0 | 50.0 | 50.0 | 50.0 | 2768 | 1668 |"
    assert rows[4] == "| `vlm-zero-shot` | – | – | – | – | – | – | – | – |" and rows[-1] == "`vlm-zero-shot`: not run"
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n{START}\nold table\n{END}\nafter\n")
    update_readme(readme, table)
    text = readme.read_text()
    assert "old table" not in text and text.startswith("# title\n") and text.endswith(f"{END}\nafter\n") and rows[2] in text
