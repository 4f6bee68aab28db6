"""``chainrule train --workers N``: the same training on N processes, data-parallel over MPI.

With ``--workers N`` (N > 1) and no MPI launcher around it, the command starts ``mpiexec -n N`` on itself (one BLAS
thread per process unless OMP_NUM_THREADS says otherwise; ``--hostfile`` spreads the processes over the machines
it lists) and returns its exit status. Started by a launcher (``mpiexec -n N chainrule train ...``), each process
trains its share of every batch under ``tf.distribute.MultiWorkerMirroredStrategy``; rank 0 alone prints and writes
the output folder.

>>> command = mpiexec_command(["train", "--workers", "4", "--epochs", "1"], 4, None)
>>> command[1:3], command[4:]
(['-n', '4'], ['-m', 'chainrule', 'train', '--epochs', '1'])
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--workers`` and ``--hostfile`` on the train command."""
    parser.add_argument("--workers", type=_workers, default=1,
                        help="train on N processes with MPI (data-parallel; --batch-size is the global batch). "
                             "Starts mpiexec itself; needs pip install 'chainrule[mpi]' (default: 1)")
    parser.add_argument("--hostfile", type=Path, default=None,
                        help="with --workers: the machines to run on, one per line (mpiexec's host file)")


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 process, got {value}")
    return value


def mpiexec_command(argv: list[str], workers: int, hostfile: Path | None) -> list[str]:
    """The ``mpiexec`` command that runs ``chainrule <argv>`` (without ``--workers``/``--hostfile``) on
    ``workers`` processes."""
    mpiexec = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")
    rest = _without(argv, ("--workers", "--hostfile"))
    hosts = [] if hostfile is None else ["-hostfile", str(hostfile)]
    return [mpiexec, "-n", str(workers), *hosts, sys.executable, "-m", "chainrule", *rest]


def _without(argv: list[str], options: tuple[str, ...]) -> list[str]:
    """``argv`` without the given options and their values (``--opt V`` and ``--opt=V``)."""
    rest, skip = [], False
    for item in argv:
        if skip:
            skip = False
        elif item in options:
            skip = True
        elif not item.startswith(tuple(f"{o}=" for o in options)):
            rest.append(item)
    return rest


def launch(args: argparse.Namespace, argv: list[str]) -> int | None:
    """With ``--workers N > 1`` outside MPI: run the command under ``mpiexec -n N`` and return its exit status;
    otherwise None (train here)."""
    from chainrule.distributed import launched_by_mpi

    from chainrule.cli.app import UsageError

    if args.workers == 1 or launched_by_mpi():
        if args.hostfile is not None and args.workers == 1:
            raise UsageError("--hostfile needs --workers N with N > 1")
        return None
    command = mpiexec_command(argv, args.workers, args.hostfile)
    if not os.path.exists(command[0]):
        raise UsageError(f"--workers {args.workers} needs mpiexec, which was not found; install MPI with: "
                                f"pip install 'chainrule[mpi]'")
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **os.environ}
    return subprocess.call(command, env=env)


def is_chief() -> bool:
    """Whether this process prints and writes files (rank 0, or the only process)."""
    from chainrule import distributed

    return distributed.rank() == 0


def processes() -> int:
    """How many processes train together."""
    from chainrule import distributed

    return distributed.size()


def from_chief(value):
    """Rank 0's ``value`` on every process (a seed, a failure to report)."""
    from chainrule import distributed

    return distributed.broadcast_object(value)


def scope():
    """The strategy scope the model is made and compiled in when several processes train it."""
    from chainrule import distributed

    if distributed.size() == 1:
        return contextlib.nullcontext()
    from chainrule.compat.tf.distribute import MultiWorkerMirroredStrategy

    return MultiWorkerMirroredStrategy().scope()
