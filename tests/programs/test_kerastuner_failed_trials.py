"""KerasTuner guide "Handling failed trials in KerasTuner", run on chainrule.

Source: https://keras.io/guides/keras_tuner/failed_trials/ (keras-team/keras-io,
guides/keras_tuner/failed_trials.py, "Last modified: 2023/02/28").

The guide's code is kept as written, one test per section, except:
- the import lines: `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`,
  `import keras_tuner` -> `from chainrule import keras_tuner`;
- `epochs=10` is EPOCHS; the tuner's default directory (".") is the test's temporary folder;
- lines marked `# test:` check what the search did.
"""

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import layers
from chainrule import keras_tuner

EPOCHS = 2  # the guide: 10


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the tuner's "./untitled_project" in a temporary folder


def _too_large(tuner):  # test: the grid's combinations whose model has more than 1200 weights
    return [t for t in tuner.oracle.trials.values()
            if 21 * t.hyperparameters.get("units_1") + 2 * t.hyperparameters.get("units_2")
            + t.hyperparameters.get("units_1") * t.hyperparameters.get("units_2") + 1 > 1200]


def test_tolerate_failed_trials():
    def build_model(hp):
        # Define the 2 hyperparameters for the units in dense layers
        units_1 = hp.Int("units_1", 10, 40, step=10)
        units_2 = hp.Int("units_2", 10, 30, step=10)

        # Define the model
        model = keras.Sequential([
            layers.Dense(units=units_1, input_shape=(20,)),
            layers.Dense(units=units_2),
            layers.Dense(units=1),
        ])
        model.compile(loss="mse")

        # Raise an error when the model is too large
        n_params = model.count_params()
        if n_params > 1200:
            raise ValueError(
                f"Model too large! It contains {n_params} params.")
        return model

    tuner = keras_tuner.GridSearch(
        hypermodel=build_model,
        objective="val_loss",
        overwrite=True,
        max_retries_per_trial=3,
        max_consecutive_failed_trials=8,
    )

    # Use random data to train the model.
    tuner.search(
        x=np.random.rand(100, 20),
        y=np.random.rand(100, 1),
        validation_data=(
            np.random.rand(100, 20),
            np.random.rand(100, 1),
        ),
        epochs=EPOCHS,
    )

    # Print the results.
    tuner.results_summary()

    assert len(tuner.oracle.trials) == 12  # test: the whole grid, 4 x 3
    failed = _too_large(tuner)  # test
    assert len(failed) == 5 and all(t.status == "FAILED" for t in failed)  # test
    assert all(tuner.oracle._run_times[t.trial_id] == 4 for t in failed)  # test: 1 run + 3 retries
    assert all("Model too large!" in t.message for t in failed)  # test
    done = [t for t in tuner.oracle.trials.values() if t not in failed]  # test
    assert all(t.status == "COMPLETED" and tuner.oracle._run_times[t.trial_id] == 1 for t in done)  # test


def test_mark_a_trial_as_failed():
    def build_model(hp):
        # Define the 2 hyperparameters for the units in dense layers
        units_1 = hp.Int("units_1", 10, 40, step=10)
        units_2 = hp.Int("units_2", 10, 30, step=10)

        # Define the model
        model = keras.Sequential([
            layers.Dense(units=units_1, input_shape=(20,)),
            layers.Dense(units=units_2),
            layers.Dense(units=1),
        ])
        model.compile(loss="mse")

        # Raise an error when the model is too large
        n_params = model.count_params()
        if n_params > 1200:
            # When this error is raised, it skips the retries.
            raise keras_tuner.errors.FailedTrialError(
                f"Model too large! It contains {n_params} params.")
        return model

    tuner = keras_tuner.GridSearch(
        hypermodel=build_model,
        objective="val_loss",
        overwrite=True,
        max_retries_per_trial=3,
        max_consecutive_failed_trials=8,
    )

    # Use random data to train the model.
    tuner.search(
        x=np.random.rand(100, 20),
        y=np.random.rand(100, 1),
        validation_data=(
            np.random.rand(100, 20),
            np.random.rand(100, 1),
        ),
        epochs=EPOCHS,
    )

    # Print the results.
    tuner.results_summary()

    failed = _too_large(tuner)  # test
    assert len(tuner.oracle.trials) == 12 and len(failed) == 5  # test
    assert all(t.status == "FAILED" and tuner.oracle._run_times[t.trial_id] == 1 for t in failed)  # test: no retry


def test_terminate_the_search_programmatically(capsys):
    def build_model(hp):
        # Define the 2 hyperparameters for the units in dense layers
        units_1 = hp.Int("units_1", 10, 40, step=10)
        units_2 = hp.Int("units_2", 10, 30, step=10)

        # Define the model
        model = keras.Sequential([
            layers.Dense(units=units_1, input_shape=(20,)),
            layers.Dense(units=units_2),
            layers.Dense(units=1),
        ])
        model.compile(loss="mse")

        # Raise an error when the model is too large
        n_params = model.count_params()
        if n_params > 1200:
            # When this error is raised, the search is terminated.
            raise keras_tuner.errors.FatalError(
                f"Model too large! It contains {n_params} params.")
        return model

    tuner = keras_tuner.GridSearch(
        hypermodel=build_model,
        objective="val_loss",
        overwrite=True,
        max_retries_per_trial=3,
        max_consecutive_failed_trials=8,
    )

    try:
        # Use random data to train the model.
        tuner.search(
            x=np.random.rand(100, 20),
            y=np.random.rand(100, 1),
            validation_data=(
                np.random.rand(100, 20),
                np.random.rand(100, 1),
            ),
            epochs=EPOCHS,
        )
    except keras_tuner.errors.FatalError:
        print("The search is terminated.")

    assert "The search is terminated." in capsys.readouterr().out  # test
    assert len(tuner.oracle.trials) < 12 and len(_too_large(tuner)) == 1  # test: stopped at the first one
    assert issubclass(keras_tuner.errors.FatalValueError, (keras_tuner.errors.FatalError, ValueError))  # test
