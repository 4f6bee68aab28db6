"""What happens when one rank fails: the others must not wait forever in a collective it will never join.

:func:`install` (run by ``init()`` when there are several ranks) replaces ``sys.excepthook``: an exception that no
one catches prints its traceback and one line naming the rank and the error, then calls ``MPI_Abort``, which makes
the launcher end every rank at once with a non-zero status. A rank killed outright is noticed by the launcher itself
(mpiexec ends the job when one of its processes dies).
"""
from __future__ import annotations

import sys
import threading
import traceback

_installed = False


def message(rank: int, size: int, error: BaseException) -> str:
    """The line that names the failing rank and its error.

    >>> message(1, 3, ValueError("bad batch"))
    'chainrule.distributed: rank 1 of 3 failed with ValueError: bad batch; ending all ranks'
    """
    return f"chainrule.distributed: rank {rank} of {size} failed with {type(error).__name__}: {error}; ending all ranks"


def install(comm) -> None:
    """Make an uncaught exception on this rank (main thread or another) abort every rank."""
    global _installed
    if _installed:
        return
    _installed = True

    def abort(kind, error, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            code = 130
        elif issubclass(kind, SystemExit):
            code = error.code if isinstance(error.code, int) else 1
            if code == 0:
                return
        else:
            code = 1
        try:
            traceback.print_exception(kind, error, tb, file=sys.stderr)
            print(message(comm.rank, comm.size, error), file=sys.stderr, flush=True)
        finally:
            comm.abort(code)

    sys.excepthook = abort
    threading.excepthook = lambda args: abort(args.exc_type, args.exc_value, args.exc_traceback)
