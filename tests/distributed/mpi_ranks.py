"""Starting a test program on N ranks: ``run_ranks(3, program, args...)`` runs it under ``mpiexec -n 3`` (alone for
one rank) with one BLAS thread per rank and this checkout on the path; ``ranks_results`` runs a program that writes
``OUT/<name>_rank<r>.npz`` and reads them back; ``needs_mpi()`` skips a test without mpi4py or mpiexec."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
MPIEXEC = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")


def rank_env(**extra: str) -> dict:
    """The environment of the ranks: one BLAS thread each (they share the machine's cores), this checkout first."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONPATH": str(ROOT), **extra}


def needs_mpi() -> None:
    """Skip the calling test unless mpi4py and mpiexec are there."""
    pytest.importorskip("mpi4py")
    if not os.path.exists(MPIEXEC):
        pytest.skip("mpiexec not found (pip install 'chainrule[mpi]' brings MPICH's)")


def run_ranks(ranks: int, program: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """``python program args...`` on ``ranks`` ranks (one plain process for 1), its output captured."""
    launcher = [] if ranks == 1 else [MPIEXEC, "-n", str(ranks)]
    return subprocess.run([*launcher, sys.executable, str(program), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=rank_env(), cwd=ROOT)


def ranks_results(ranks: int, program: Path, out: Path, name: str) -> list[dict]:
    """``python program out`` on ``ranks`` ranks (skipped without MPI), which must succeed; each rank's
    ``out/<name>_rank<r>.npz``, in rank order."""
    needs_mpi()
    done = run_ranks(ranks, program, out)
    assert done.returncode == 0, done.stdout + done.stderr
    results = []
    for rank in range(ranks):
        with np.load(out / f"{name}_rank{rank}.npz") as saved:
            results.append({key: saved[key] for key in saved.files})
    return results
