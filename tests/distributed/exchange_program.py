"""The program tests/distributed/test_exchange.py starts with ``mpiexec -n N`` (and alone, for the one-process
reference): ``train_on_batch`` under MultiWorkerMirroredStrategy on a model with a gradient large enough to travel
alone (summed in place where backward left it), Adam (whose update takes the exchange's weight), global batches
that split evenly and unevenly, and one batch whose loss is NaN on one rank only. It trains twice from the same
start: with the exchange as ``fit`` runs it, and with its shortcuts off (every gradient packed into a bucket and
weighted there, the loss in an allreduce of its own). Checks that need every rank (weights equal across ranks after
every step, the NaN step skipped everywhere, the shortcuts taken) raise here, which ends every rank with a non-zero
status; ``OUT_DIR/exchange_rank<r>.npz`` holds both runs' weights and losses for the test.

``python exchange_program.py OUT_DIR``
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from mpi_program import flat_weights, same_on_every_rank  # (this folder is the script's path)

FEATURES, HIDDEN, CLASSES = 140, 500, 3  # the hidden kernel's gradient: 280 KB, over fusion.SOLO_BYTES
BATCHES = [12, 12, 10, 13, 12, 11, 12, 12]  # rows of each global batch (10, 11 and 13 split unevenly on 2 or 3 ranks)
NAN_STEP = 5


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(sum(BATCHES), FEATURES)).astype("float32")
    y = (x @ rng.normal(size=(FEATURES, CLASSES))).argmax(1).astype("int64")
    return x, y


def train(tf, keras, dist, shortcuts: bool) -> tuple[np.ndarray, np.ndarray, dict]:
    from chainrule.distributed import data_parallel, optimizer as dist_optimizer

    x, y = data()
    keras.utils.set_random_seed(7)
    with tf.distribute.MultiWorkerMirroredStrategy().scope():
        model = keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(HIDDEN, activation="relu"),
                                  keras.layers.Dense(CLASSES)])
        model.compile(optimizer=keras.optimizers.Adam(0.001),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    reducer = model.optimizer._reducer
    seen = {"summed_in_place": 0, "scaled_by_the_update": 0, "loss_carried": 0}
    free = dist_optimizer.scales_gradients_for_free
    if not shortcuts:
        reducer.solo_bytes = 1 << 40  # (no bucket of one gradient: all packed)
        dist_optimizer.scales_gradients_for_free = lambda optimizer: False
        original = data_parallel.DataParallel.apply_step

        def apart(self, optimizer, grads, variables, value, rows):  # the loss in an allreduce of its own first
            value = self.global_loss(value, rows)
            if grads is not None and np.isfinite(value):
                optimizer.apply(grads, variables)
            return value
        data_parallel.DataParallel.apply_step = apart
    else:
        scaled = type(model.optimizer)._apply_update

        def counting(self, work, scales, lr, keep, only_if_finite=None):
            seen["scaled_by_the_update"] += self._gradient_scale != 1.0
            return scaled(self, work, scales, lr, keep, only_if_finite)
        type(model.optimizer)._apply_update = counting
    losses, start = [], 0
    try:
        for step, rows in enumerate(BATCHES):
            xb, yb = x[start:start + rows].copy(), y[start:start + rows]
            start += rows
            if step == NAN_STEP:
                xb[-1] = np.nan  # (the last rank's rows only)
            before = flat_weights(model)
            with np.errstate(invalid="ignore"):
                losses.append(float(model.train_on_batch(xb, yb)))
            after = flat_weights(model)
            same_on_every_rank(dist, after, f"weights after step {step} (shortcuts {shortcuts})")
            if step == NAN_STEP and not (np.isnan(losses[-1]) and (after == before).all()):
                raise AssertionError(f"rank {dist.rank()}: the step whose loss is NaN on one rank was applied")
            seen["summed_in_place"] += reducer.summed_in_place
            seen["loss_carried"] += any(plan.carrier is not None for plan in reducer._plans.values())
    finally:
        if not shortcuts:
            dist_optimizer.scales_gradients_for_free = free
            data_parallel.DataParallel.apply_step = original
    return flat_weights(model), np.array(losses), seen


def main(out: Path) -> None:
    import chainrule as tf
    from chainrule import distributed as dist
    from chainrule import keras

    dist.init()
    fast, fast_losses, seen = train(tf, keras, dist, shortcuts=True)
    plain, plain_losses, _ = train(tf, keras, dist, shortcuts=False)
    if dist.size() > 1 and not (seen["summed_in_place"] and seen["scaled_by_the_update"] and seen["loss_carried"]):
        raise AssertionError(f"the exchange's shortcuts were not taken: {seen}")
    np.savez(out / f"exchange_rank{dist.rank()}.npz", fast=fast, plain=plain, fast_losses=fast_losses,
             plain_losses=plain_losses, **{k: np.array(v) for k, v in seen.items()})


if __name__ == "__main__":
    main(Path(sys.argv[1]))
