"""``python -m benchmarks.distributed --quick`` runs to its end (2 ranks by mpiexec, both frameworks, the step-time
model) and reports what the issue asks for: the exchange beside a raw Allreduce by size, images per second on 1 and
2 ranks and on 1 process with 2 threads, and the two scaling efficiencies. Marked ``mpi`` and ``slow`` (minutes)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from mpi_ranks import ROOT, needs_mpi, rank_env

pytestmark = [pytest.mark.mpi, pytest.mark.slow]


def test_the_quick_benchmark_runs_to_its_report():
    needs_mpi()
    pytest.importorskip("torch")
    done = subprocess.run([sys.executable, "-m", "benchmarks.distributed", "--quick"], capture_output=True, text=True,
                          timeout=1200, env=rank_env(), cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fit of the raw times: latency" in done.stdout and "efficiency of 2 ranks" in done.stdout
    report = json.loads((ROOT / "benchmarks" / "results" / "distributed-quick.json").read_text())
    sizes = [row["bytes"] for row in report["allreduce"]["rows"]]
    assert sizes[0] == 16 and sizes[-1] == 64 << 20
    for name in ("chainrule cnn", "torch cnn", "chainrule mlp", "torch mlp"):
        results = report["training"][name]
        for setup in ("1 rank, 1 thread", "1 process, 2 threads", "2 ranks, 1 thread each",
                      "1 rank, half batch, 1 thread"):
            assert results[setup] > 0, (name, setup)
        assert results["efficiency_2_ranks"] == pytest.approx(
            results["2 ranks, 1 thread each"] / (2 * results["1 rank, 1 thread"]))
        assert results["efficiency_2_ranks_batch_per_rank_fixed"] == pytest.approx(
            results["2 ranks, 1 thread each"] / (2 * results["1 rank, half batch, 1 thread"]))
    assert {row["machines"] for row in report["model"]["rows"]} == {8, 64, 512}
