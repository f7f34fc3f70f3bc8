"""The reference model's numerical core (DESIGN §8).

Stage 1, acoustic atoms (``perception``), and stage 3, Riemannian flow matching on S² (``precision``); ``AudioAtomsLocator`` joins them into the
audio-only reference.

Everything here imports torch; ``avg_bench`` never imports this package. See ``README.md`` beside
this file for the stages and the public APIs.
"""
