"""The AVG leaderboard: submission API, pages, storage and the scoring worker (DESIGN §9).

It scores with ``avg_bench.evaluate`` against labels only the server holds. Modules, one job each:

- :mod:`~leaderboard.config`: the settings (database URL, labels folder, quota, upload limit);
- :mod:`~leaderboard.schema` and :mod:`~leaderboard.migrations`: tables and versioned upgrades;
- :mod:`~leaderboard.db`: engines (SQLite with WAL, or PostgreSQL) and opening a database;
- :mod:`~leaderboard.tokens`, :mod:`~leaderboard.store`: teams, hashed tokens, entries, quota;
- :mod:`~leaderboard.scoring`: upload checks and scoring against server-held labels;
- :mod:`~leaderboard.worker`: the background scorer (pending -> scored / failed);
- :mod:`~leaderboard.app`, :mod:`~leaderboard.api`, :mod:`~leaderboard.pages`: the web app;
- :mod:`~leaderboard.errormap`, :mod:`~leaderboard.export`: the map of errors and static exports;
- :mod:`~leaderboard.cli`: the ``avg-bench leaderboard`` commands, registered through the
  ``avg_bench.commands`` entry point (the submission client lives in :mod:`avg_bench.leaderboard_client`).
"""
