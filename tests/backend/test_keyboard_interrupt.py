"""Ctrl-C arrives as KeyboardInterrupt, also when it lands inside a numba kernel call (issue 15: it came out as
``SystemError: CPUDispatcher(...) returned a result with an exception set``, which ``except KeyboardInterrupt``
misses), and a block under ``deferred_interrupts`` finishes before the interrupt is raised."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from chainrule.backend import kernels
from chainrule.backend.kernels import activation
from chainrule.utils.interrupts import deferred_interrupts

numba = pytest.importorskip("numba")
from numba.core import dispatcher as numba_dispatcher  # noqa: E402


@pytest.fixture
def dispatcher_leaving_an_interrupt_set(monkeypatch):
    """numba's dispatcher as it fails when SIGINT's handler runs inside it: a SystemError caused by the interrupt."""
    def call(self, *args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise SystemError(f"{self!r} returned a result with an exception set") from interrupt
    monkeypatch.setattr(numba_dispatcher.Dispatcher, "__call__", call)


def test_an_interrupt_inside_a_kernel_arrives_as_keyboard_interrupt(dispatcher_leaving_an_interrupt_set):
    if not kernels.enabled():
        pytest.skip("the numba kernels are off")
    g = np.ones((4, 3), np.float32)
    with pytest.raises(KeyboardInterrupt):
        activation.relu_grad_sum(g, g)


def test_other_system_errors_stay_system_errors(monkeypatch):
    def call(self, *args, **kwargs):
        raise SystemError("something else")
    monkeypatch.setattr(numba_dispatcher.Dispatcher, "__call__", call)
    if not kernels.enabled():
        pytest.skip("the numba kernels are off")
    g = np.ones((4, 3), np.float32)
    with pytest.raises(SystemError, match="something else"):
        activation.relu_grad_sum(g, g)


def test_interrupt_behind_follows_causes_and_contexts():
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise SystemError("returned a result with an exception set")  # (context, not cause)
    except SystemError as error:
        assert isinstance(kernels.interrupt_behind(error), KeyboardInterrupt)
    assert kernels.interrupt_behind(SystemError("plain")) is None


def test_a_deferred_block_finishes_then_the_interrupt_arrives():
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("finished")
    assert steps == ["finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with deferred_interrupts():  # no interrupt: nothing raised
        steps.append("again")
    assert steps == ["finished", "again"]


def test_sigint_during_fit_is_caught_by_except_keyboard_interrupt(tmp_path):
    """A training process gets SIGINT at random moments: each time its own ``except KeyboardInterrupt`` catches it
    (never a SystemError traceback)."""
    script = textwrap.dedent("""
        import random, sys
        import numpy as np
        from chainrule import keras
        keras.utils.set_random_seed(0)
        x = np.random.rand(256, 10, 10, 1).astype("float32"); y = np.random.randint(0, 3, 256)
        m = keras.Sequential([keras.Input((10, 10, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.MaxPooling2D(), keras.layers.Flatten(), keras.layers.Dropout(0.2),
                              keras.layers.Dense(3)])
        m.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        m.fit(x, y, epochs=1, verbose=0)
        for i in range(int(sys.argv[1])):
            try:
                print("ready", flush=True)
                m.fit(x, y, epochs=10000, verbose=0)
            except KeyboardInterrupt:
                print("caught", flush=True)
        print("done", flush=True)
    """)
    rounds = 12
    proc = subprocess.Popen([sys.executable, "-c", script, str(rounds)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    rng = np.random.default_rng(0)
    try:
        for _ in range(rounds):
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(float(rng.uniform(0.01, 0.15)))
            proc.send_signal(signal.SIGINT)
            assert proc.stdout.readline().strip() == "caught"
        assert proc.stdout.readline().strip() == "done"
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
