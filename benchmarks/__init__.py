"""chainrule against PyTorch, same workloads, one run: ``python -m benchmarks.run`` (see benchmarks/run.py)."""
