"""kill -9 during saves: the target stays loadable (the previous or the new version) and the temporary files that
killed saves leave behind are removed by the next save, so they never pile up beside the model.

The saving processes are forked from the test (multiprocessing's "fork"), so that each starts in milliseconds with
chainrule imported and can be killed many times; each saves in a loop until SIGKILL lands at a random point.
"""
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from chainrule.keras import layers
from chainrule.keras.models import Sequential, load_model
from chainrule.keras.saving import atomic

KILLS = 40
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork are POSIX")


def versioned_model(version: int) -> Sequential:
    """A model of about 4 MB whose every weight is ``version``, so a loaded file tells which save wrote it."""
    model = Sequential([layers.Dense(1000, input_shape=(1000,)), layers.Dense(10)])
    model.set_weights([np.full(w.shape, version, w.dtype) for w in model.get_weights()])
    return model


def version_of(model) -> int:
    values = {float(v) for w in model.get_weights() for v in np.unique(w)}
    assert len(values) == 1, "a file mixes two saves"
    return int(values.pop())


def save_forever(path: str, version: int, ready=None) -> None:
    model = versioned_model(version)
    if ready is not None:
        ready.set()  # (building the model takes longer than a save on a busy machine: kill during the saves)
    while True:
        model.save(path)


def temporaries(folder, target: str) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name != target)


def test_kill_9_while_saving_leaves_a_loadable_target_and_no_pile_of_temporaries(tmp_path):
    path = tmp_path / "model.keras"
    versioned_model(0).save(path)
    current, rng = 0, np.random.default_rng(0)
    context = multiprocessing.get_context("fork")
    mid_write, killed = 0, []
    for version in range(1, KILLS + 1):
        ready = context.Event()
        saver = context.Process(target=save_forever, args=(str(path), version, ready), daemon=True)
        saver.start()
        assert ready.wait(60)
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(saver.pid, signal.SIGKILL)
        saver.join()  # reaped: its process id is free, as after any real crash
        killed.append(saver.pid)
        left = temporaries(tmp_path, path.name)
        # one half-written file at most, of the last killed process that began a write: a write removes the ones
        # before it
        assert len(left) <= 1, left
        assert all(any(f"-{pid}-" in name for pid in killed) for name in left), (killed, left)
        mid_write += bool(left)
        loaded = version_of(load_model(path))
        assert loaded in (current, version)
        current = loaded
    assert mid_write > 0, "no kill landed during a write: the test proves nothing"
    assert current > 0, "no save completed in any run"

    versioned_model(KILLS + 1).save(path)
    assert os.listdir(tmp_path) == [path.name]  # the next save removes what the killed ones left
    assert version_of(load_model(path)) == KILLS + 1


def test_only_temporaries_of_dead_processes_of_this_machine_are_removed(tmp_path):
    path = tmp_path / "model.keras"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead_pid = int(finished.stdout)
    try:
        prefix = f".model.keras.tmp-{atomic._HOST}-"
        names = {
            "dead": f"{prefix}{dead_pid}-0123abcd",
            "running": f"{prefix}{sleeper.pid}-0123abcd",
            "mine": f"{prefix}{os.getpid()}-0123abcd",
            "other machine": f".model.keras.tmp-ffffffff-{dead_pid}-0123abcd" if atomic._HOST != "ffffffff"
            else f".model.keras.tmp-00000000-{dead_pid}-0123abcd",
            "other target": f".other.keras.tmp-{atomic._HOST}-{dead_pid}-0123abcd",
            "unrelated": "notes.txt",
        }
        for name in names.values():
            (tmp_path / name).write_bytes(b"x" * 100)
        atomic.atomic_write(path, [b"new"])
        assert path.read_bytes() == b"new"
        assert sorted(os.listdir(tmp_path)) == sorted([path.name, *(n for k, n in names.items() if k != "dead")])
    finally:
        sleeper.kill()
        sleeper.wait()
