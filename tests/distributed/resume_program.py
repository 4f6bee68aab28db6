"""The program tests/distributed/test_resume_ranks.py starts, alone or with ``mpiexec -n N``: fit with
``keras.callbacks.BackupAndRestore`` under ``MultiWorkerMirroredStrategy``, interrupted or not.

``python resume_program.py MODE BACKUP_DIR OUT_DIR``:

- ``interrupt``: backs up every 7 batches, and a callback on rank 0 raises in the middle of the second epoch (with
  several ranks the exception ends all of them), after the backup of batch 7 of that epoch;
- ``run``: the same fit with the same callback and no interruption, which resumes from BACKUP_DIR when a backup is
  there; each rank writes ``OUT_DIR/final_rank<r>.npz``: its weights, the optimizer's step count and the history;
- ``lonely``: the callback given on rank 0 alone (Horovod's idiom for the other callbacks), which fit refuses.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

GLOBAL_BATCH, EPOCHS, SAVE_EVERY = 12, 3, 7
STOP_AT = (1, 10)  # (epoch, batch): after the backups of batches 7 and 14 of epoch 0, the epoch's end, batch 7


class Interrupted(RuntimeError):
    pass


def data(rows: int = 240, features: int = 6, classes: int = 3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, features)).astype("float32")
    y = (x @ rng.normal(size=(features, classes))).argmax(1).astype("int64")
    return x, y


def train(tf, keras, dist, mode: str, backup: Path, out: Path) -> None:
    x, y = data()
    with tf.distribute.MultiWorkerMirroredStrategy().scope():
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(3)])
        model.compile(optimizer=keras.optimizers.Adam(0.02),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    callbacks = [keras.callbacks.BackupAndRestore(str(backup), save_freq=SAVE_EVERY)]
    if mode == "lonely" and dist.rank() != 0:
        callbacks = []
    if mode == "interrupt":
        class Stop(keras.callbacks.Callback):
            epoch = 0

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch = epoch

            def on_train_batch_end(self, batch, logs=None):
                if (self.epoch, batch + 1) == STOP_AT:
                    raise Interrupted(f"stopped at epoch {self.epoch} batch {batch + 1}")

        callbacks.insert(0, Stop())
    history = model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=EPOCHS, shuffle=True, verbose=0, callbacks=callbacks)
    weights = np.concatenate([np.asarray(w, np.float64).ravel() for w in model.get_weights()])
    np.savez(out / f"final_rank{dist.rank()}.npz", weights=weights,
             iterations=int(model.optimizer.iterations.numpy()),
             **{f"history_{k}": np.array(v) for k, v in history.history.items()})


if __name__ == "__main__":
    import chainrule as tf
    from chainrule import distributed, keras

    distributed.init()
    train(tf, keras, distributed, sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
