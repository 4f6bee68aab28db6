"""Trials over MPI ranks: ``Tuner(..., workers="mpi")`` in a program started with ``mpiexec -n N``.

As keras_tuner's distributed tuning has a chief that runs the oracle and workers that train, rank 0 keeps the
oracle and the results folder: it hands a trial to each idle rank, records the metrics that come back, and tells the
ranks to stop when the oracle does. Ranks 1 to N-1 train one trial at a time (each saves its trial's model into the
trial's folder) and send back the outcome. Messages are mpi4py's (through :mod:`chainrule.distributed`); every rank
returns from ``search`` when the search is over, and ``get_best_*`` answer on every rank that reads the folder.
Without ``mpiexec`` (one rank) the search runs trials itself, as ``workers=1``.
"""
from __future__ import annotations

from chainrule.keras_tuner.trial import Trial, TrialStatus

TRIAL, RESULT = 11, 12  # message tags: a trial's state to a worker rank, its outcome back to rank 0


def search_over_ranks(tuner, fit_args: tuple, fit_kwargs: dict) -> bool:
    """Run ``tuner``'s search over the MPI ranks; False when there is a single rank (the caller runs it alone)."""
    from chainrule import distributed

    distributed.init()
    if distributed.size() < 2:
        return False
    from chainrule.distributed.comm import communicator

    comm = communicator().comm
    if distributed.rank() == 0:
        _chief(tuner, comm)
    else:
        _worker(tuner, comm, fit_args, fit_kwargs)
    distributed.barrier()
    if distributed.rank() != 0:
        tuner.oracle.reload()  # every rank sees the finished search
    return True


def chief_then_others(chief, others) -> None:
    """``chief()`` on rank 0, then (after a barrier) ``others()`` on the other ranks; ``chief()`` alone without
    MPI."""
    from chainrule import distributed

    distributed.init()
    if distributed.rank() == 0:
        chief()
    if distributed.size() > 1:
        distributed.barrier()
        if distributed.rank() != 0:
            others()


def _chief(tuner, comm) -> None:
    from mpi4py import MPI

    idle, running, asked = list(range(comm.Get_size() - 1, 0, -1)), {}, 0
    try:
        while True:
            while idle:
                asked += 1
                trial = tuner.oracle.create_trial(f"{tuner.tuner_id}-{asked}")  # one id per trial in flight
                if trial.status != TrialStatus.RUNNING:  # IDLE (waits for results) or STOPPED
                    break
                worker = idle.pop()
                tuner.on_trial_begin(trial)
                comm.send(trial.get_state(), dest=worker, tag=TRIAL)
                running[worker] = trial
            if not running:
                break
            status = MPI.Status()
            outcome = comm.recv(source=MPI.ANY_SOURCE, tag=RESULT, status=status)
            worker = status.Get_source()
            trial = running.pop(worker)
            idle.append(worker)
            tuner.finish_trial(trial, outcome)
            tuner.on_trial_end(tuner.oracle.trials[trial.trial_id])
    finally:
        for worker in range(1, comm.Get_size()):
            comm.send(None, dest=worker, tag=TRIAL)


def _worker(tuner, comm, fit_args: tuple, fit_kwargs: dict) -> None:
    while True:
        state = comm.recv(source=0, tag=TRIAL)
        if state is None:
            return
        comm.send(tuner.execute_trial(Trial.from_state(state), fit_args, fit_kwargs), dest=0, tag=RESULT)
