"""Data parallelism across real MPI ranks: tests/distributed/mpi_program.py run by ``mpiexec -n 2`` and ``-n 3``
against the same program in one process. Marked ``mpi`` (run them with ``python -m pytest -m mpi``); skipped
without mpi4py and mpiexec."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py")
MPIEXEC = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")
if not os.path.exists(MPIEXEC):
    pytest.skip("mpiexec not found (pip install 'chainrule[mpi]' brings MPICH's)", allow_module_level=True)

pytestmark = pytest.mark.mpi
PROGRAM = Path(__file__).with_name("mpi_program.py")
SCENARIOS = "steps,fit,syncbn,tape,rng"
ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict:
    # one BLAS thread per rank: the ranks share the machine's cores
    return {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONPATH": str(ROOT)}


def _run(command: list[str], timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=_env(), cwd=ROOT)


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("single")
    done = _run([sys.executable, str(PROGRAM), SCENARIOS, str(out)])
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module", params=[2, 3], ids=["2 ranks", "3 ranks"])
def ranks(request, tmp_path_factory) -> tuple[int, Path]:
    n = request.param
    out = tmp_path_factory.mktemp(f"ranks{n}")
    done = _run([MPIEXEC, "-n", str(n), sys.executable, str(PROGRAM), SCENARIOS, str(out)])
    assert done.returncode == 0, done.stdout + done.stderr  # (the program checks weights across ranks each step)
    return n, out


def _load(out: Path, name: str, rank: int = 0) -> dict:
    with np.load(out / f"{name}_rank{rank}.npz") as f:
        return {k: f[k] for k in f.files}


def test_n_ranks_end_with_one_process_weights_after_20_steps(single, ranks):
    n, out = ranks
    alone, together = _load(single, "steps"), _load(out, "steps")
    np.testing.assert_allclose(together["weights"], alone["weights"], rtol=0, atol=2e-6)
    np.testing.assert_allclose(together["losses"], alone["losses"], rtol=1e-5)


def test_weights_identical_on_every_rank(ranks):
    n, out = ranks
    for name in ("steps", "fit", "syncbn"):
        first = _load(out, name)["weights"]
        for rank in range(1, n):
            np.testing.assert_array_equal(_load(out, name, rank)["weights"], first)


def test_fit_history_and_evaluate_equal_one_process(single, ranks):
    n, out = ranks
    alone = _load(single, "fit")
    for rank in range(n):
        together = _load(out, "fit", rank)
        assert sorted(together) == sorted(alone)
        for key in alone:
            np.testing.assert_allclose(together[key], alone[key], rtol=1e-5, atol=2e-6, err_msg=key)


def test_batch_logs_of_a_rank_zero_callback_equal_one_process(single, ranks):
    n, out = ranks
    alone, together = np.load(single / "fit_batch_logs.npy"), np.load(out / "fit_batch_logs.npy")
    assert together.shape == alone.shape == (30, 2)
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=2e-6)


def test_rank_zero_alone_writes_callback_files(ranks):
    n, out = ranks
    assert (out / "log_rank0.csv").exists()
    assert [p.name for p in out.glob("log_rank*.csv")] == ["log_rank0.csv"]


def test_sync_batch_normalization_equals_batch_normalization_on_the_global_batch(single, ranks):
    n, out = ranks
    np.testing.assert_allclose(_load(out, "syncbn")["weights"], _load(single, "syncbn")["weights"], atol=2e-6)


def test_gradient_tape_loops_equal_one_process(single, ranks):
    n, out = ranks
    alone, together = _load(single, "tape"), _load(out, "tape")
    for way in ("horovod", "strategy"):
        np.testing.assert_allclose(together[way], alone[way], atol=2e-6, err_msg=way)


def test_dropout_draws_differ_between_ranks_while_shuffles_agree(single, ranks):
    n, out = ranks
    draws = [_load(out, "rng", r)["draw"] for r in range(n)]
    rows = [_load(out, "rng", r)["global_rows"] for r in range(n)]
    assert all(not np.array_equal(draws[0], d) for d in draws[1:])
    for r in range(n):
        np.testing.assert_array_equal(rows[r], _load(single, "rng")["global_rows"])


def test_a_checkpoint_written_by_rank_zero_resumes_on_any_number_of_ranks(tmp_path):
    # one process saves and resumes; 2 ranks save, then 3 ranks (and 1 process) resume from that file
    alone = tmp_path / "alone"
    alone.mkdir()
    for scenario in ("save", "resume"):
        assert _run([sys.executable, str(PROGRAM), scenario, str(alone)]).returncode == 0
    shared = tmp_path / "shared"
    shared.mkdir()
    for n, scenario in ((2, "save"), (3, "resume")):
        done = _run([MPIEXEC, "-n", str(n), sys.executable, str(PROGRAM), scenario, str(shared)])
        assert done.returncode == 0, done.stdout + done.stderr
    expected = _load(alone, "resume")
    for rank in range(3):
        resumed = _load(shared, "resume", rank)
        assert resumed["iterations"] == expected["iterations"] == 2 * 240 // 12  # (two epochs of 20 steps)
        np.testing.assert_allclose(resumed["weights"], expected["weights"], atol=2e-6)


@pytest.mark.parametrize("scenario, says", [("fail", "rank 1 of 3 failed with RuntimeError: rank one's layer broke"),
                                            ("die", "Killed")])
def test_a_failing_rank_ends_every_rank_quickly(tmp_path, scenario, says):
    started = time.monotonic()
    done = _run([MPIEXEC, "-n", "3", sys.executable, str(PROGRAM), scenario, str(tmp_path)], timeout=60)
    assert time.monotonic() - started < 30
    assert done.returncode != 0
    assert says in done.stdout + done.stderr
