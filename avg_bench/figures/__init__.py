"""Figures of results, drawn offline from results JSON (``avg-bench report``).

Accuracy against the distance threshold, per-continent accuracy, and the world map of errors,
each for one or several models on one figure; written as SVG and PNG. Needs matplotlib (the
``maps`` extra), imported only when a figure is drawn.
"""
