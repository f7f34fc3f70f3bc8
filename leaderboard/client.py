"""The submission client moved to :mod:`avg_bench.leaderboard_client` (it is user-side, core code).

Kept so that ``from leaderboard import client`` still works for scripts written before the move.
"""

from avg_bench.leaderboard_client import check_locally, request, results, submit, wait

__all__ = ["check_locally", "request", "results", "submit", "wait"]
