"""Everything that predicts: trivial priors, retrieval, zero-shot VLMs and the reference model.

Predictors depend on ``avg_bench`` (never the other way round) and score through
``avg_bench.evaluate``, the one scorer. Nothing is implemented here yet.
"""
