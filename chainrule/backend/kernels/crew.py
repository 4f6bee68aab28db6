"""The loop a helper thread of ``backend/threads.py`` runs: it waits for the next job posted to it, runs products
itself, in numba code that holds no GIL, and returns to Python only for a job that is a Python function.

A job is a row of int64 fields (``FIELDS``): the count of jobs posted, the count done, the kind, and for a product
the operands of BLAS's ``sgemm`` (``C = op(A) op(B)``, row-major, pointers as integers). The caller writes the
fields and then the posted count (:func:`post`); the helper, polling that count (``spin.wait_for_change``), reads
the fields, runs the product and writes the done count, which the caller polls in turn. Neither side takes the GIL
for a product, so a product's part starts within microseconds on a helper that is awake, where a Python function's
part waits for the GIL to pass from the caller's thread.

>>> import numpy as np
>>> job = np.zeros(FIELDS, np.int64)
>>> post(job, PYTHON, (0,) * 11)
>>> int(job[POSTED]), int(job[DONE])
(1, 0)
"""
from __future__ import annotations

from chainrule.backend.kernels import blas, jit, numba, spin

POSTED, DONE, KIND, TRANS_A, TRANS_B, M, N, K, A, LDA, B, LDB, C, LDC = range(14)
FIELDS = 14
PYTHON, PRODUCT = 0, 1  # the kinds of job: a Python function (the helper returns to Python), a float32 product


def post_in_python(job, kind, fields) -> None:
    """Hand ``job`` its next job from Python: the kind and the 11 fields after it, then the posted count (for a
    helper that waits on its lock, not by polling, where the kernels are off)."""
    job[KIND] = kind
    job[TRANS_A:] = fields
    job[POSTED] += 1


if numba is None:
    post = post_in_python
else:
    @jit(nogil=True, bit_exact=False)
    def post(job, kind, fields):
        """Hand ``job`` its next job: the kind and the 11 fields after it (a tuple of integers), then the posted
        count, by a release store after them."""
        job[KIND] = kind
        for i in range(len(fields)):
            job[TRANS_A + i] = fields[i]
        spin.store_release(job.ctypes.data + POSTED * 8, job[POSTED] + 1)

    @jit(nogil=True, bit_exact=False)
    def serve(job, gemm_at, cycles, yield_at, finished, grace):
        """Count the job just run done if ``finished`` (here, where the GIL is already released, so that the caller,
        which polls for it, takes the GIL at once), then run the products posted to ``job`` (by the BLAS ``sgemm``
        at ``gemm_at``) as they come; return True when a Python function's job is posted (the caller runs it and
        counts it done), after ``grace`` more cycles (the poster holds the GIL until its own part's numba code
        starts), False when none has come for about ``cycles`` processor cycles (the caller blocks)."""
        if finished:
            spin.store_release(job.ctypes.data + DONE * 8, job[DONE] + 1)
        while True:
            done = job[DONE]  # only the helper writes it
            if not spin.wait_for_change(job, POSTED, done, cycles, yield_at):
                return False
            if job[KIND] != PRODUCT:
                spin.wait_for_change(job, POSTED, job[POSTED], grace, yield_at)
                return True
            blas._call_gemm(gemm_at, job[TRANS_A], job[TRANS_B], job[M], job[N], job[K], 1.0, job[A], job[LDA],
                            job[B], job[LDB], 0.0, job[C], job[LDC])
            spin.store_release(job.ctypes.data + DONE * 8, done + 1)
