"""Run by tests/tuner/test_mpi_search.py under ``mpiexec -n 3``: a random search with ``workers="mpi"``."""
import sys

import numpy as np

from chainrule import keras
from chainrule.keras_tuner import RandomSearch


def build(hp):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(hp.Float("lr", 1e-4, 1e-1, sampling="log")), loss="mse")
    return model


def main(directory: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]])).astype("float32")
    tuner = RandomSearch(build, objective="val_loss", max_trials=6, seed=1, directory=directory, project_name="p",
                         overwrite=True, workers="mpi", verbose=0)
    tuner.search(x, y, epochs=2, validation_split=0.25, verbose=0)
    best = tuner.get_best_hyperparameters()[0].values["lr"]
    print(f"RESULT trials={len(tuner.oracle.trials)} best_lr={best:.6g}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
