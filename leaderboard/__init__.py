"""The AVG leaderboard: submission API, pages, storage and the scoring worker.

It scores with ``avg_bench.evaluate`` against server-held labels. Nothing is implemented here yet.
"""
