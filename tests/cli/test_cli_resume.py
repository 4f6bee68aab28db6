"""``chainrule train --resume DIR`` (issue 15): a run interrupted at any moment (Ctrl-C, kill -9) continues from its
last backup with the settings in its run.json and ends with the model and history an uninterrupted run writes;
``history.json`` and ``run.json`` are rewritten atomically after each epoch, so a killed run leaves both readable."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.keras.callbacks import backup_and_restore
from chainrule.keras.models import load_model

from test_cli import dataset  # noqa: F401 - the synthetic MNIST-format folder, a module fixture

SETTINGS = ["--epochs", "2", "--limit", "120", "--batch-size", "16", "--seed", "0", "--backup-every", "2"]


def train(out, dataset, *extra):  # noqa: F811
    return main(["train", "--dataset", str(dataset), *SETTINGS, "--out", str(out), "--verbose", "0", *extra])


@pytest.fixture(scope="module")
def reference(dataset, tmp_path_factory):  # noqa: F811
    out = tmp_path_factory.mktemp("reference") / "run"
    assert train(out, dataset) == 0
    return out


def assert_same_results(out, reference):
    for a, b in zip(load_model(reference / "model.keras").get_weights(), load_model(out / "model.keras").get_weights()):
        assert a.tobytes() == b.tobytes()
    assert json.loads((out / "history.json").read_text()) == json.loads((reference / "history.json").read_text())
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "finished" and run["epochs_done"] == 2 and run["seed"] == 0
    assert not (out / "backup").exists()


@pytest.mark.parametrize("stop_after", [3, 8])
def test_ctrl_c_then_resume_ends_as_the_uninterrupted_run(dataset, reference, tmp_path, monkeypatch,  # noqa: F811
                                                          capsys, stop_after):
    out = tmp_path / "run"
    original = backup_and_restore.BackupAndRestore.on_train_batch_end
    seen = []

    def interrupted(self, batch, logs=None):
        original(self, batch, logs)
        seen.append(batch)
        if len(seen) == stop_after:
            raise KeyboardInterrupt

    monkeypatch.setattr(backup_and_restore.BackupAndRestore, "on_train_batch_end", interrupted)
    assert train(out, dataset) == 130
    assert "interrupted" in capsys.readouterr().err
    run = json.loads((out / "run.json").read_text())  # written when training started, then after each epoch
    assert run["status"] == "training" and run["epochs_done"] == (1 if stop_after > 7 else 0)
    assert run["arguments"]["seed"] == 0 and run["arguments"]["limit"] == 120
    monkeypatch.setattr(backup_and_restore.BackupAndRestore, "on_train_batch_end", original)
    assert main(["train", "--resume", str(out), "--verbose", "0"]) == 0
    assert_same_results(out, reference)


def test_kill_9_at_random_moments_then_resume(dataset, reference, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "CHAINRULE_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "chainrule", "train", "--verbose", "0"]
    rng = np.random.default_rng(1)
    kills = 0
    arguments = ["--dataset", str(dataset), *SETTINGS, "--out", str(out)]
    for attempt in range(8):
        proc = subprocess.Popen(command + arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
        try:
            line = proc.stdout.readline()
            if kills < 3 and line.startswith(("Training", "Resuming")):
                time.sleep(float(rng.uniform(0.2, 1.5)))
                proc.send_signal(signal.SIGKILL)
                kills += 1
                if proc.wait(timeout=60) == 0:
                    break
                for name in ("run.json", "history.json"):  # whole, whenever the kill came
                    if (out / name).exists():
                        json.loads((out / name).read_text())
                if (out / "run.json").exists() and \
                        json.loads((out / "run.json").read_text()).get("status") == "finished":
                    break  # the kill came after the run had finished its work (a quiet, fast machine)
                arguments = ["--resume", str(out)]
                continue
            _, stderr = proc.communicate(timeout=300)
            assert proc.returncode == 0, stderr
            break
        finally:
            proc.kill()
            proc.wait()
    assert kills >= 1
    assert_same_results(out, reference)


def test_resume_refuses_what_cannot_be_resumed(dataset, reference, tmp_path, capsys):  # noqa: F811
    assert main(["train", "--resume", str(reference)]) == 1
    assert "has finished" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path)]) == 1
    assert "has no run.json" in capsys.readouterr().err
    assert main(["train", "--resume", str(reference), "--epochs", "3"]) == 1
    assert "drop --epochs" in capsys.readouterr().err
    (tmp_path / "run.json").write_text("{not json")
    assert main(["train", "--resume", str(tmp_path)]) == 1
    assert "does not describe a run to resume" in capsys.readouterr().err
