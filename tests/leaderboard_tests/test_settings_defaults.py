"""Leaderboard settings take their defaults from the benchmark spec (issue 15 item 3)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from avg_bench.spec import AVG_V1
from leaderboard.config import Settings
from leaderboard.disclosure import DEFAULT_MIN_LOCATIONS, HIDDEN_SPLITS


def test_settings_defaults_equal_the_spec():
    settings = Settings()
    assert (settings.bootstrap, settings.seed, settings.min_locations) == (AVG_V1.default_bootstrap, AVG_V1.default_seed, AVG_V1.min_group_locations)
    assert (DEFAULT_MIN_LOCATIONS, HIDDEN_SPLITS) == (AVG_V1.min_group_locations, AVG_V1.hidden_splits)


def test_settings_follow_a_changed_spec():
    # A fresh process whose spec says otherwise: a default restated as a literal would not follow it.
    code = textwrap.dedent(
        """
        import dataclasses
        import avg_bench.spec as spec

        spec.AVG_V1 = dataclasses.replace(spec.AVG_V1, default_bootstrap=77, default_seed=3, min_group_locations=9, hidden_splits=("val", "test"))
        from leaderboard.config import Settings
        from leaderboard.disclosure import HIDDEN_SPLITS

        s = Settings()
        print(s.bootstrap, s.seed, s.min_locations, ",".join(HIDDEN_SPLITS))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["77", "3", "9", "val,test"]
