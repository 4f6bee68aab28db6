"""``chainrule train --workers N`` starts mpiexec itself and trains as one process would; rank 0 alone prints and
writes the output folder. The runs are marked ``mpi``; the argument handling is checked in the default run."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.cli.workers import mpiexec_command
from chainrule.data.datasets.idx import write_idx

ROOT = Path(__file__).resolve().parents[2]


def _idx_folder(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    for split, n in (("train", 120), ("t10k", 40)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 255, (n, 28, 28)).astype(np.uint8)
        (folder / f"{split}-images-idx3-ubyte").write_bytes(write_idx(images))
        (folder / f"{split}-labels-idx1-ubyte").write_bytes(write_idx(labels))
    return folder


def test_mpiexec_command_drops_workers_and_passes_a_hostfile():
    command = mpiexec_command(["train", "--workers=3", "--hostfile", "hosts", "--epochs", "2"], 3, Path("hosts"))
    assert command[1:5] == ["-n", "3", "-hostfile", "hosts"]
    assert command[5:] == [sys.executable, "-m", "chainrule", "train", "--epochs", "2"]


def test_bad_workers_arguments_get_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--workers", "0"])
    assert "expected at least 1 process" in capsys.readouterr().err
    assert main(["train", "--dataset", str(_idx_folder(tmp_path)), "--hostfile", "hosts", "--out",
                 str(tmp_path / "out")]) == 1
    assert "--hostfile needs --workers N with N > 1" in capsys.readouterr().err


@pytest.mark.mpi
def test_two_workers_train_as_one_process(tmp_path):
    pytest.importorskip("mpi4py")
    if not (shutil.which("mpiexec") or (Path(sys.executable).parent / "mpiexec").exists()):
        pytest.skip("mpiexec not found")
    data = _idx_folder(tmp_path)
    env = {**os.environ, "CHAINRULE_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    runs = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        done = subprocess.run(
            [sys.executable, "-m", "chainrule", "train", "--model", "mlp", "--dataset", str(data), "--epochs", "2",
             "--batch-size", "20", "--seed", "0", "--verbose", "0", "--workers", str(workers), "--out", str(out)],
            capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
        assert done.returncode == 0, done.stdout + done.stderr
        runs[workers] = (out, done.stdout)
    out, stdout = runs[2]
    assert stdout.count("Training mlp") == 1 and "2 processes" in stdout
    assert stdout.count("Test loss") == 1
    alone = json.loads((runs[1][0] / "history.json").read_text())
    together = json.loads((out / "history.json").read_text())
    assert alone.keys() == together.keys()
    for key in alone:
        np.testing.assert_allclose(together[key], alone[key], rtol=1e-4, err_msg=key)
    assert (out / "model.keras").exists() and (out / "run.json").exists()
