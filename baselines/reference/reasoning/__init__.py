"""Stage 2 of the reference model, reasoning: Chain-of-Region targets, prompts, rewards, training.

See ``baselines/reference/README.md`` (stage 2) for the choices made where the paper is silent.
"""
