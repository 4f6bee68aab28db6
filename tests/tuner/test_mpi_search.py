"""Tuner(workers="mpi"): trials spread over 3 MPI ranks give the search one process gives (marked mpi)."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mpi4py")
MPIEXEC = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")
if not os.path.exists(MPIEXEC):
    pytest.skip("mpiexec not found (pip install 'chainrule[mpi]' brings MPICH's)", allow_module_level=True)

pytestmark = pytest.mark.mpi
PROGRAM = Path(__file__).with_name("mpi_search_program.py")
ROOT = Path(__file__).resolve().parents[2]


def _run(command, tmp: Path) -> list[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command + [str(tmp)], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return re.findall(r"RESULT trials=\d+ best_lr=[0-9.e+-]+?(?=RESULT|\s|$)", done.stdout)  # ranks' lines may interleave


def test_three_ranks_run_the_trials_of_one_process(tmp_path):
    alone = _run([sys.executable, str(PROGRAM)], tmp_path / "one")
    ranks = _run([MPIEXEC, "-n", "3", sys.executable, str(PROGRAM)], tmp_path / "three")
    assert len(alone) == 1 and alone[0].startswith("RESULT trials=6 ")
    assert ranks == alone * 3  # every rank reports the finished search: same trials, same best rate
    trial_dirs = sorted(p.name for p in (tmp_path / "three" / "p").iterdir() if p.name.startswith("trial_"))
    assert len(trial_dirs) == 6
