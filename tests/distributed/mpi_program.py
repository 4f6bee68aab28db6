"""The program tests/distributed/test_mpi.py starts with ``mpiexec -n N`` (and alone, for the one-process reference).

``python mpi_program.py SCENARIO OUT_DIR``: each scenario trains a small model and writes what the test compares
(``OUT_DIR/<scenario>_rank<r>.npz``); checks that need every rank at once (weights equal across ranks after every
step) run here and raise, which ends every rank with a non-zero status.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

GLOBAL_BATCH = 12
STEPS = 20


def data(rows: int = 240, features: int = 6, classes: int = 3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, features)).astype("float32")
    y = (x @ rng.normal(size=(features, classes))).argmax(1).astype("int64")
    return x, y


def mlp(keras, batchnorm=None, dropout: float = 0.0):
    keras.utils.set_random_seed(3)
    layers = [keras.Input((6,)), keras.layers.Dense(16, activation="relu")]
    if batchnorm is not None:
        layers.append(batchnorm())
    if dropout:
        layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(3))
    return keras.Sequential(layers)


def compiled(keras, optimizer="adam", **kwargs):
    model = mlp(keras, **kwargs)
    model.compile(optimizer=keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": 0.05}}),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def flat_weights(model) -> np.ndarray:
    return np.concatenate([np.asarray(v.numpy(), np.float64).ravel() for v in model.weights])


def same_on_every_rank(dist, values: np.ndarray, what: str) -> None:
    gathered = dist.allgather(values[None])
    if not (gathered == gathered[0]).all():
        raise AssertionError(f"{what}: rank {dist.rank()} differs from rank 0 by {np.abs(gathered - gathered[0]).max()}")


def steps(tf, keras, dist, out: Path) -> None:
    """STEPS updates on global batches (uneven shares too: 10 rows on 3 ranks), weights checked after each."""
    x, y = data()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = compiled(keras)
    losses = []
    for step in range(STEPS):
        rows = GLOBAL_BATCH if step % 2 == 0 else 10
        start = (step * GLOBAL_BATCH) % (len(x) - GLOBAL_BATCH)
        losses.append(model.train_on_batch(x[start:start + rows], y[start:start + rows])[0])
        same_on_every_rank(dist, flat_weights(model), f"weights after step {step}")
    np.savez(out / f"steps_rank{dist.rank()}.npz", weights=flat_weights(model), losses=np.array(losses))


def fit(tf, keras, dist, out: Path) -> None:
    """fit with shuffling, validation and callbacks that write files: logs as one process, files from rank 0."""
    x, y = data()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = compiled(keras, optimizer="sgd")
    written = out / f"log_rank{dist.rank()}.csv"
    batch_logs = []  # Horovod's idiom: a callback given on rank 0 only (with batch hooks, which read the logs)
    callbacks = [keras.callbacks.CSVLogger(str(written))]
    if dist.rank() == 0:
        callbacks.append(keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batch_logs.append(
            [logs["loss"], logs["accuracy"]])))
    history = model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=2, validation_split=0.25, shuffle=True, verbose=0,
                        callbacks=callbacks)
    if dist.rank() == 0:
        np.save(out / "fit_batch_logs.npy", np.array(batch_logs))
    same_on_every_rank(dist, flat_weights(model), "weights after fit")
    evaluated = model.evaluate(x, y, batch_size=GLOBAL_BATCH, verbose=0, return_dict=True)
    np.savez(out / f"fit_rank{dist.rank()}.npz", weights=flat_weights(model),
             **{f"history_{k}": np.array(v) for k, v in history.history.items()},
             **{f"evaluate_{k}": np.array(v) for k, v in evaluated.items()})


def syncbn(tf, keras, dist, out: Path) -> None:
    """SyncBatchNormalization on N ranks trains as BatchNormalization on the global batch in one process."""
    from chainrule.distributed import SyncBatchNormalization

    x, y = data()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    norm = SyncBatchNormalization if dist.size() > 1 else keras.layers.BatchNormalization
    with strategy.scope():
        model = compiled(keras, batchnorm=norm)
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
    same_on_every_rank(dist, flat_weights(model), "weights after fit with SyncBatchNormalization")
    np.savez(out / f"syncbn_rank{dist.rank()}.npz", weights=flat_weights(model))


def tape(tf, keras, dist, out: Path) -> None:
    """A GradientTape loop with DistributedOptimizer (each rank its own rows, gradients averaged) and the same with
    strategy.run (loss scaled by the global batch, gradients summed) both equal one process's loop."""
    x, y = data()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    results = {}
    for way in ("horovod", "strategy"):
        model = mlp(keras)
        if way == "horovod":
            optimizer = dist.DistributedOptimizer(keras.optimizers.SGD(0.1))
        else:
            strategy = tf.distribute.MultiWorkerMirroredStrategy()
            with strategy.scope():
                optimizer = keras.optimizers.SGD(0.1)
        for step in range(5):
            batch = slice(step * GLOBAL_BATCH, (step + 1) * GLOBAL_BATCH)
            start, stop = dist.DataParallel().bounds(GLOBAL_BATCH)
            xb, yb = x[batch][start:stop], y[batch][start:stop]

            def train_step(xb, yb):
                with tf.GradientTape() as t:
                    per_rank = loss_fn(yb, model(xb, training=True))
                    loss = per_rank / (len(xb) if way == "horovod" else GLOBAL_BATCH)
                grads = t.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(grads, model.trainable_variables))
                return loss

            if way == "horovod":
                train_step(xb, yb)
            else:
                strategy.run(train_step, args=(xb, yb))
            same_on_every_rank(dist, flat_weights(model), f"{way} loop weights after step {step}")
        results[way] = flat_weights(model)
    np.savez(out / f"tape_rank{dist.rank()}.npz", **results)


def rng(tf, keras, dist, out: Path) -> None:
    """In fit, random draws inside a step (Dropout's) differ between ranks while the shuffles agree."""
    from chainrule import backend

    x, y = data()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = compiled(keras, dropout=0.5)
    seen = {}
    distribution = model._distribution
    run_step = distribution.run_step

    def recording(function, batch, m=None):
        def step(local):
            seen.setdefault("draw", backend.rng().random(4))
            return function(local)
        seen.setdefault("global_rows", np.asarray(batch[0][:4]).copy())  # the shuffled global batch
        return run_step(step, batch, m)

    distribution.run_step = recording
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=True, verbose=0, steps_per_epoch=1)
    np.savez(out / f"rng_rank{dist.rank()}.npz", draw=seen["draw"], global_rows=seen["global_rows"])


def save(tf, keras, dist, out: Path) -> None:
    """An epoch whose model file (weights and optimizer state) ModelCheckpoint writes on rank 0."""
    x, y = data()
    with tf.distribute.MultiWorkerMirroredStrategy().scope():
        model = compiled(keras)
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0,
              callbacks=[keras.callbacks.ModelCheckpoint(str(out / "checkpoint.keras"))])


def resume(tf, keras, dist, out: Path) -> None:
    """The model file loaded on every rank (any number of them) and trained for another epoch."""
    x, y = data()
    model = keras.models.load_model(str(out / "checkpoint.keras"))
    with tf.distribute.MultiWorkerMirroredStrategy().scope():
        model.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"])
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
    same_on_every_rank(dist, flat_weights(model), "weights after resuming")
    np.savez(out / f"resume_rank{dist.rank()}.npz", weights=flat_weights(model),
             iterations=int(model.optimizer.iterations.numpy()))


def fail(tf, keras, dist, out: Path, die: bool = False) -> None:
    """Rank 1 raises (or, with ``die``, is killed) in the middle of the first epoch; the others are inside a
    collective by then."""
    import os
    import signal

    x, y = data()

    class Breaks(keras.layers.Layer):
        calls = 0

        def call(self, inputs):
            Breaks.calls += 1
            if dist.rank() == 1 and Breaks.calls == 5:
                if die:
                    os.kill(os.getpid(), signal.SIGKILL)
                raise RuntimeError("rank one's layer broke")
            return inputs

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((6,)), Breaks(), keras.layers.Dense(3)])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", run_eagerly=True)
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=3, verbose=0)


SCENARIOS = {"steps": steps, "fit": fit, "syncbn": syncbn, "tape": tape, "rng": rng, "save": save, "resume": resume,
             "fail": fail,
             "die": lambda *args: fail(*args, die=True)}

if __name__ == "__main__":
    import chainrule as tf
    from chainrule import distributed, keras

    distributed.init()
    out_dir = Path(sys.argv[2])
    for name in sys.argv[1].split(","):
        SCENARIOS[name](tf, keras, distributed, out_dir)
