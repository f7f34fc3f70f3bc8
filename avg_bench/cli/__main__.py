"""``python -m avg_bench.cli``: the same command line as ``avg-bench`` (e.g. under ``accelerate launch -m``)."""

from avg_bench.cli import main

main()
