"""No thread-count fixture here on purpose.

These tests used to force one torch thread for the whole session, which hid the ``audio-atoms``
non-determinism (atomic adds in a backward pass run with 2+ threads) and the spin-waiting cost of
the default thread count (issue 12). The library now sets its own threads while fitting and
predicting (``Runtime.threads``, default 1: baselines/reference/runtime.py), and
test_reproducibility.py trains in fresh processes with 2 threads.
"""
