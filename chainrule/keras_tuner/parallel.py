"""Trials in worker processes: ``Tuner(..., workers=N)`` trains up to N trials at once.

This process keeps the oracle: it asks for a trial whenever a worker is free, sends the trial to a worker, and
reports the metrics that come back. Each worker is a fork of this process (it shares the hypermodel and the data
without copying them) limited to one BLAS thread, so that N workers use N cores instead of fighting over them; it
saves its trial's model into the trial's folder itself. Needs the ``fork`` start method (Linux, macOS).

>>> blas_threads() is None or blas_threads() >= 1
True
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from chainrule.keras_tuner.trial import Trial, TrialStatus

_JOB: tuple | None = None  # (tuner, fit_args, fit_kwargs), set before the workers fork
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def search_in_workers(tuner, fit_args: tuple, fit_kwargs: dict) -> None:
    """``tuner.search`` with ``tuner.workers`` trials at a time; see the module's docstring."""
    global _JOB
    if "fork" not in multiprocessing.get_all_start_methods():
        raise RuntimeError("workers > 1 needs the 'fork' start method, which this platform lacks; use workers=1")
    cores = os.cpu_count() or 1
    if tuner.workers > cores:
        warnings.warn(f"workers={tuner.workers} is more than the {cores} cores here: trials will share cores",
                      stacklevel=3)
    _JOB = (tuner, fit_args, fit_kwargs)
    pool = ProcessPoolExecutor(max_workers=tuner.workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_one_blas_thread)
    running: dict = {}
    asked = 0
    try:
        while True:
            while len(running) < tuner.workers:
                asked += 1
                trial = tuner.oracle.create_trial(f"{tuner.tuner_id}-{asked}")  # one id per trial in flight
                if trial.status != TrialStatus.RUNNING:  # IDLE (wait for results) or STOPPED
                    break
                tuner.on_trial_begin(trial)
                running[pool.submit(_run_trial, trial.get_state())] = trial
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                trial = running.pop(future)
                tuner.finish_trial(trial, future.result())
                tuner.on_trial_end(tuner.oracle.trials[trial.trial_id])
    finally:
        pool.shutdown(wait=not running, cancel_futures=True)
        _JOB = None


def _run_trial(state: dict) -> dict:
    """In a worker: run one trial (its state as Trial.get_state gives it); the outcome for Tuner.finish_trial."""
    tuner, fit_args, fit_kwargs = _JOB
    return tuner.execute_trial(Trial.from_state(state), fit_args, fit_kwargs)


def _one_blas_thread() -> None:
    for name in _THREAD_VARIABLES:
        os.environ[name] = "1"
    for setter in _openblas_functions("set_num_threads"):
        setter.argtypes = [ctypes.c_int]
        setter(1)


def blas_threads() -> int | None:
    """The number of threads the OpenBLAS of this process uses (None if it has no OpenBLAS loaded)."""
    for getter in _openblas_functions("get_num_threads"):
        getter.restype = ctypes.c_int
        return int(getter())
    return None


def _openblas_functions(name: str) -> list:
    """``openblas_<name>`` of each OpenBLAS this process loaded (NumPy's wheels carry a renamed 64-bit one)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line})
    except OSError:
        return []
    found = []
    for path in paths:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in (f"scipy_openblas_{name}64_", f"openblas_{name}64_", f"scipy_openblas_{name}",
                       f"openblas_{name}"):
            function = getattr(library, symbol, None)
            if function is not None:
                found.append(function)
                break
    return found
