"""The program tests/distributed/test_overlap.py starts with ``mpiexec -n N``: each scenario trains the same model
twice from the same start, with the gradient exchange overlapped with backward and without, checks on every rank
that the two end with the very same weights (bit for bit) and that the overlapped run started its buckets during
backward, and writes what it saw to ``OUT_DIR/overlap_rank<r>.json``. A failed check raises, which ends every rank
with a non-zero status.

``python overlap_program.py OUT_DIR``
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

GLOBAL_BATCH = 12


def data(rows: int = 96):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, size=rows)
    return x, y


def model(keras):
    """A small CNN: with a first bucket of 2 KiB, the dense layers fill the first bucket and the convolution's
    gradients the second, which backward finishes last."""
    keras.utils.set_random_seed(5)
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                             keras.layers.Flatten(), keras.layers.Dense(32, activation="relu"),
                             keras.layers.Dense(3)])


def flat_weights(m) -> np.ndarray:
    return np.concatenate([np.asarray(v.numpy()).ravel() for v in m.weights])


def distributed_optimizer(keras, dist, overlap: bool):
    optimizer = dist.DistributedOptimizer(keras.optimizers.Adam(0.01), overlap=overlap)
    optimizer._reducer.first_bucket_bytes = 2048  # (small buckets, so that this small model has two)
    return optimizer


def fit(tf, keras, dist, overlap: bool) -> tuple[np.ndarray, list]:
    """``fit`` under MultiWorkerMirroredStrategy, with a non-finite batch that stops it (so the exchange its
    backward started is taken by no apply), then ``fit`` again."""
    x, y = data()
    bad = x.copy()
    bad[3 * GLOBAL_BATCH] = np.nan
    with tf.distribute.MultiWorkerMirroredStrategy().scope():
        m = model(keras)
        m.compile(optimizer=distributed_optimizer(keras, dist, overlap),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    started = []
    seen = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: started.append(
        m.optimizer._reducer.started_in_backward))
    with np.errstate(invalid="ignore"):
        m.fit(bad, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[seen])
    m.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[seen])
    return flat_weights(m), started


def tape(tf, keras, dist, overlap: bool, clip: bool = False) -> tuple[np.ndarray, list]:
    """A GradientTape loop with DistributedOptimizer; with ``clip``, the gradients are clipped between the tape and
    the optimizer (so the arrays applied are not those backward finished)."""
    x, y = data()
    m = model(keras)
    optimizer = distributed_optimizer(keras, dist, overlap)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    start, stop = dist.DataParallel().bounds(GLOBAL_BATCH)
    started = []
    for step in range(6):
        batch = slice(step * GLOBAL_BATCH, (step + 1) * GLOBAL_BATCH)
        with tf.GradientTape() as t:
            loss = loss_fn(y[batch][start:stop], m(x[batch][start:stop], training=True))
        grads = t.gradient(loss, m.trainable_variables)
        if clip:
            grads, _ = tf.clip_by_global_norm(grads, 0.5)
        optimizer.apply_gradients(zip(grads, m.trainable_variables))
        started.append(optimizer._reducer.started_in_backward)
    return flat_weights(m), started


SCENARIOS = {"fit": fit, "tape": tape, "tape_clipped": lambda *args: tape(*args, clip=True)}

if __name__ == "__main__":
    import chainrule as tf
    from chainrule import distributed, keras

    distributed.init()
    report = {}
    for name, scenario in SCENARIOS.items():
        on, started_on = scenario(tf, keras, distributed, True)
        off, started_off = scenario(tf, keras, distributed, False)
        if not np.array_equal(on, off):
            raise AssertionError(f"{name}: overlapped and plain exchanges differ by {np.abs(on - off).max()}")
        gathered = distributed.allgather(on[None])
        if not (gathered == gathered[0]).all():
            raise AssertionError(f"{name}: rank {distributed.rank()}'s weights differ from rank 0's")
        report[name] = {"started_in_backward": started_on, "started_without_overlap": started_off}
    Path(sys.argv[1], f"overlap_rank{distributed.rank()}.json").write_text(json.dumps(report))
