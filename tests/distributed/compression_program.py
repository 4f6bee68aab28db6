"""The program tests/distributed/test_compression_ranks.py starts with ``mpiexec -n N`` (and alone, for the
one-process reference): float16 compression across real ranks, which sums with a user-defined MPI operation.

- ``GradientReducer("fp16")`` on gradients that differ per rank, with values whose weighted sums float16 holds
  exactly, and on values off its grid (the sum then within float16's rounding);
- ``allreduce`` of a float16 array by every operation (MPI has no float16 type: user-defined operations);
- ``fit`` under MultiWorkerMirroredStrategy with ``DistributedOptimizer(..., compression='fp16')``: the weights the
  same on every rank after each epoch (checked here), written for the test to hold against one process's.

Checks that need every rank raise here, which ends every rank with a non-zero status;
``OUT_DIR/compression_rank<r>.npz`` holds what the test compares.

``python compression_program.py OUT_DIR``
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from mpi_program import data, flat_weights, mlp, same_on_every_rank  # (this folder is the script's path)

GLOBAL_BATCH = 12


def reducer_sums(dist) -> dict:
    """The fp16 exchange's results on this rank: exact sums (every rank's weighted gradient and every partial sum is
    a float16 number) and rounded ones."""
    from chainrule.distributed.fusion import GradientReducer

    r, n = dist.rank(), dist.size()
    exact = [np.arange(6, dtype=np.float32).reshape(2, 3) * (r + 1), np.full(5, 0.25 * (r + 1), np.float32)]
    rounded = [np.linspace(-1, 1, 7, dtype=np.float32) / 3 * (r + 1)]
    weight = 0.5
    out = GradientReducer("fp16").reduce(exact + rounded, weight)
    if any(o.dtype != np.float32 for o in out):
        raise AssertionError(f"rank {r}: the fp16 exchange returned {[o.dtype for o in out]}, not the gradients' dtype")
    return {"exact_0": out[0], "exact_1": out[1], "rounded": out[2], "ranks": np.array(n)}


def allreduce_half(dist) -> dict:
    r = dist.rank()
    half = np.array([1.5, -2.0, 0.125], np.float16) * (r + 1)
    return {f"half_{op}": dist.allreduce(half, op=op) for op in ("sum", "average", "min", "max", "prod")}


def fit_compressed(tf, keras, dist) -> dict:
    x, y = data()
    with tf.distribute.MultiWorkerMirroredStrategy().scope():
        model = mlp(keras)
        model.compile(optimizer=dist.DistributedOptimizer(keras.optimizers.Adam(1e-3), compression="fp16"),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    for epoch in range(2):
        model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
        same_on_every_rank(dist, flat_weights(model), f"weights after epoch {epoch} with fp16 compression")
    wires = sorted({b.dtype.name for plan in model.optimizer._reducer._plans.values() for b in plan.buckets})
    return {"weights": flat_weights(model), "wires": np.array(wires)}


def main(out: Path) -> None:
    import chainrule as tf
    from chainrule import distributed as dist
    from chainrule import keras

    dist.init()
    results = {**reducer_sums(dist), **allreduce_half(dist), **fit_compressed(tf, keras, dist)}
    np.savez(out / f"compression_rank{dist.rank()}.npz", **results)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
