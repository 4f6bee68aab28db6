"""A ``BackupAndRestore`` backup written by rank 0 resumes on any number of ranks (issue 16): fit under
``MultiWorkerMirroredStrategy`` interrupted in the middle of an epoch (a callback on rank 0 raises, which ends every
rank), then run again on 1, 2 or 3 ranks, ends with the weights, step count and history of one uninterrupted
process (to float32 rounding: N ranks equal one process with the global batch). The same through
``chainrule train --workers N --resume DIR``. The runs start ``mpiexec`` and are marked ``mpi``; the callback's
part of it (rank 0 writes, every rank takes rank 0's backup) is checked in the default run with a stand-in for the
distribution of two ranks."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mpi_ranks import ROOT, needs_mpi, rank_env, run_ranks
from test_cli_workers import _idx_folder

from chainrule import keras
from chainrule.keras.callbacks.backup_and_restore import LATEST, read_backup, read_backup_file

PROGRAM = Path(__file__).with_name("resume_program.py")
EPOCHS, STEPS_PER_EPOCH = 3, 240 // 12


def _program(ranks: int, mode: str, backup: Path, out: Path) -> subprocess.CompletedProcess:
    return run_ranks(ranks, PROGRAM, mode, backup, out)


# --- the default run: one process playing rank 1 of 2 --------------------------------------------------------------
class RankOne:
    """What ``fit`` and BackupAndRestore ask of DataParallel, answered as rank 1 of 2 would be, in one process:
    rank 0's ``from_chief`` value is given, the other rank's metric sums are zero and its rows are none."""

    num_replicas_in_sync, is_chief = 2, False

    def __init__(self, from_rank_zero):
        self.from_rank_zero = from_rank_zero

    def distribute_optimizer(self, optimizer):
        return optimizer

    def rank_callbacks(self, callbacks, verbose):
        return [cb for cb in callbacks if getattr(cb, "runs_on_every_rank", False)], 0

    def begin_training(self, model):
        pass

    def run_step(self, function, data, model=None):
        return function(data)

    def apply_step(self, optimizer, grads, variables, value, rows):
        if grads is not None and np.isfinite(value):
            optimizer.apply(grads, variables)
        return value

    def summed_metrics(self, metrics):
        return contextlib.nullcontext()

    def sync_training_state(self, model, batch=False):
        pass

    def from_chief(self, value):
        assert value is None  # (only rank 0 sends)
        return self.from_rank_zero


def _fit(backup: Path, distribution=None, stop_at=None):
    x, y = np.random.default_rng(0).normal(size=(60, 4)).astype("float32"), np.arange(60) % 2
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    keras.distribution.set_distribution(distribution)
    try:
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    finally:
        keras.distribution.set_distribution(None)
    callbacks = [keras.callbacks.BackupAndRestore(str(backup), save_freq=3)]
    if stop_at is not None:
        callbacks.insert(0, keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: _stop(stop_at)))
    model.fit(x, y, batch_size=12, epochs=3, verbose=0, callbacks=callbacks)
    return model


def _stop(stop_at):
    stop_at["batches"] -= 1
    if stop_at["batches"] == 0:
        raise KeyboardInterrupt


def test_a_rank_other_than_zero_resumes_from_rank_zeros_backup_and_writes_nothing(tmp_path):
    reference = _fit(tmp_path / "reference")
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path / "rank0", stop_at={"batches": 9})  # (backups at batches 3 and 5 of epoch 0, 3 of epoch 1)
    path = tmp_path / "rank0" / LATEST
    assert (read_backup(path.parent)["epoch"], read_backup(path.parent)["batch"]) == (1, 3)
    rank_one = RankOne(("state", (*read_backup_file(path), str(path))))
    resumed = _fit(tmp_path / "rank1", rank_one)
    assert not (tmp_path / "rank1").exists()  # rank 0 alone writes
    assert resumed.optimizer.iterations.numpy() == 15
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(b, a)
    assert path.exists()  # (rank 0 deletes the backup once fit ended; this rank does not)


def test_a_backup_rank_zero_cannot_read_stops_the_other_ranks_too(tmp_path):
    with pytest.raises(RuntimeError, match="rank 0 could not read the backup in .*: ModelFileError: damaged"):
        _fit(tmp_path / "rank1", RankOne(("error", "ModelFileError: damaged")))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("uninterrupted")
    done = _program(1, "run", out / "backup", out)
    assert done.returncode == 0, done.stderr
    with np.load(out / "final_rank0.npz") as f:
        return {k: f[k] for k in f.files}


@pytest.fixture(scope="module")
def backup_of(tmp_path_factory):
    """``backup_of(n)``: the backup left by a run on ``n`` ranks stopped at batch 10 of the second epoch."""
    made: dict[int, Path] = {}

    def make(n: int) -> Path:
        if n not in made:
            backup = tmp_path_factory.mktemp(f"interrupted{n}") / "backup"
            done = _program(n, "interrupt", backup, backup.parent)
            assert done.returncode != 0
            says = f"rank 0 of {n} failed with Interrupted" if n > 1 else "Interrupted: stopped at epoch 1 batch 10"
            assert says in done.stderr, done.stderr
            assert sorted(p.name for p in backup.iterdir()) == [LATEST]  # rank 0 alone wrote, only the backup
            header = read_backup(backup)
            assert (header["epoch"], header["batch"]) == (1, 7)  # the last backup before the stop
            assert [m["name"] for m in header["metrics"]] == ["loss", "accuracy"]
            made[n] = backup
        return made[n]
    return make


def _assert_ends_as_uninterrupted(out: Path, ranks: int, uninterrupted: dict) -> None:
    first = None
    for rank in range(ranks):
        with np.load(out / f"final_rank{rank}.npz") as f:
            resumed = {k: f[k] for k in f.files}
        assert resumed["iterations"] == uninterrupted["iterations"] == EPOCHS * STEPS_PER_EPOCH
        np.testing.assert_allclose(resumed["weights"], uninterrupted["weights"], rtol=0, atol=2e-6)
        assert sorted(resumed) == sorted(uninterrupted)
        for key in (k for k in uninterrupted if k.startswith("history_")):  # (the epoch resumed mid-way too)
            np.testing.assert_allclose(resumed[key], uninterrupted[key], rtol=1e-5, err_msg=f"rank {rank} {key}")
        if first is None:
            first = resumed["weights"]
        np.testing.assert_array_equal(resumed["weights"], first)  # the same on every rank


@pytest.mark.mpi
@pytest.mark.parametrize("written_by, ranks", [(2, 1), (2, 2), (2, 3), (1, 2)],
                         ids=["2 ranks resumed on 1", "2 ranks resumed on 2", "2 ranks resumed on 3",
                              "1 process resumed on 2 ranks"])
def test_a_backup_resumes_on_any_number_of_ranks(backup_of, uninterrupted, written_by, ranks, tmp_path):
    needs_mpi()
    mine = tmp_path / "backup"
    shutil.copytree(backup_of(written_by), mine)
    done = _program(ranks, "run", mine, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    _assert_ends_as_uninterrupted(tmp_path, ranks, uninterrupted)
    assert not mine.exists()  # removed by rank 0 once fit ended (delete_checkpoint)


@pytest.mark.mpi
def test_a_backup_given_on_rank_zero_alone_is_refused_on_every_rank(tmp_path):
    needs_mpi()
    done = _program(2, "lonely", tmp_path / "backup", tmp_path)
    assert done.returncode != 0
    assert "callbacks that run on every rank must be given on every rank" in done.stderr
    assert "[['BackupAndRestore'], []]" in done.stderr


# --- the command line -----------------------------------------------------------------------------------------------
STOP_RANK_ZERO = """
import os, signal
from chainrule.keras.callbacks import backup_and_restore as _backup

_original, _seen = _backup.BackupAndRestore.on_train_batch_end, []


def _killed_after_some_batches(self, batch, logs=None):
    _original(self, batch, logs)
    _seen.append(batch)
    if len(_seen) == int(os.environ["STOP_AFTER_BATCHES"]) and self._writes():
        os.kill(os.getpid(), signal.SIGKILL)


_backup.BackupAndRestore.on_train_batch_end = _killed_after_some_batches
"""


@pytest.mark.mpi
def test_train_workers_killed_then_resumed_on_another_number_of_workers(tmp_path):
    needs_mpi()
    data = _idx_folder(tmp_path)
    # 108 training images: 9 batches of 12 an epoch, backed up every 2 batches and at each epoch's end
    settings = ["--model", "mlp", "--dataset", str(data), "--epochs", "3", "--batch-size", "12", "--seed", "0",
                "--backup-every", "2", "--limit", "120", "--verbose", "0"]
    command = [sys.executable, "-m", "chainrule", "train"]

    def run(*arguments, **env):
        return subprocess.run([*command, *arguments], capture_output=True, text=True, timeout=300,
                              env=rank_env(CHAINRULE_HOME=str(tmp_path / "home"), **env), cwd=ROOT)

    reference = tmp_path / "reference"
    done = run(*settings, "--out", str(reference))
    assert done.returncode == 0, done.stdout + done.stderr
    # 2 workers, rank 0 killed (SIGKILL, by a sitecustomize of this test) after batch 4 of the second epoch
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(STOP_RANK_ZERO)
    out = tmp_path / "run"
    done = run(*settings, "--workers", "2", "--out", str(out), STOP_AFTER_BATCHES="13",
               PYTHONPATH=f"{hooks}{os.pathsep}{ROOT}")
    assert done.returncode != 0
    assert json.loads((out / "run.json").read_text())["epochs_done"] == 1
    header = read_backup(out / "backup")
    assert (header["epoch"], header["batch"]) == (1, 4)
    done = run("--resume", str(out), "--workers", "3", "--verbose", "0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 processes" in done.stdout
    assert json.loads((out / "run.json").read_text())["status"] == "finished"
    alone = json.loads((reference / "history.json").read_text())
    together = json.loads((out / "history.json").read_text())
    assert alone.keys() == together.keys()
    for key in alone:
        np.testing.assert_allclose(together[key], alone[key], rtol=1e-4, err_msg=key)
    for a, b in zip(keras.models.load_model(reference / "model.keras").get_weights(),
                    keras.models.load_model(out / "model.keras").get_weights()):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)
    assert not (out / "backup").exists()
