"""KerasTuner guide "Tailor the search space", run on chainrule.

Source: https://keras.io/guides/keras_tuner/tailor_the_search_space/ (keras-team/keras-io,
guides/keras_tuner/tailor_the_search_space.py, "Last modified: 2021/10/27").

The guide's code is kept as written, except:
- the import lines: `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`,
  `import keras_tuner` -> `from chainrule import keras_tuner`;
- the last section (tuning the learning rate of `keras_tuner.applications.HyperXception`) is a test of its own,
  marked slow, on the same random data;
- "my_dir" is in the test's temporary folder; lines marked `# test:` check what the program produces.
"""

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import layers
from chainrule import keras_tuner


def test_tailor_the_search_space(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # test: my_dir/ in a temporary folder

    def build_model(hp):
        model = keras.Sequential()
        model.add(layers.Flatten())
        model.add(
            layers.Dense(
                units=hp.Int("units", min_value=32, max_value=128, step=32, default=64)
            )
        )
        if hp.Boolean("dropout"):
            model.add(layers.Dropout(rate=0.25))
        model.add
        model.compile(
            optimizer=keras.optimizers.Adam(
                learning_rate=hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
            ),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    hp = keras_tuner.HyperParameters()

    # This will override the `learning_rate` parameter with your
    # own selection of choices
    hp.Float("learning_rate", min_value=1e-4, max_value=1e-2, sampling="log")

    tuner = keras_tuner.RandomSearch(
        hypermodel=build_model,
        hyperparameters=hp,
        # Prevents unlisted parameters from being tuned
        tune_new_entries=False,
        objective="val_accuracy",
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="search_a_few",
    )

    # Generate random data
    x_train = np.random.rand(100, 28, 28, 1)
    y_train = np.random.randint(0, 10, (100, 1))
    x_val = np.random.rand(20, 28, 28, 1)
    y_val = np.random.randint(0, 10, (20, 1))

    # Run the search
    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))

    trials = list(tuner.oracle.trials.values())  # test
    assert len(trials) == 3 and all(t.status == "COMPLETED" for t in trials)  # test
    assert all(t.hyperparameters.get("units") == 64 and t.hyperparameters.get("dropout") is False
               for t in trials)  # test: only the learning rate is tuned, the rest keep their defaults
    assert all(1e-4 <= t.hyperparameters.get("learning_rate") <= 1e-2 for t in trials)  # test
    assert len({t.hyperparameters.get("learning_rate") for t in trials}) == 3  # test: a Float now, not a Choice
    assert tuner.get_best_models()[0].layers[1].units == 64  # test: units kept at its default

    capsys.readouterr()  # test
    tuner.search_space_summary()

    out = capsys.readouterr().out  # test
    assert "Default search space size: 1" in out and "learning_rate (Float)" in out  # test
    assert "units" not in out  # test

    hp = keras_tuner.HyperParameters()
    hp.Fixed("learning_rate", value=1e-4)

    tuner = keras_tuner.RandomSearch(
        build_model,
        hyperparameters=hp,
        tune_new_entries=True,
        objective="val_accuracy",
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="fix_a_few",
    )

    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))

    trials = list(tuner.oracle.trials.values())  # test
    assert all(t.hyperparameters.get("learning_rate") == 1e-4 for t in trials)  # test
    assert all(set(t.hyperparameters.values) == {"learning_rate", "units", "dropout"} for t in trials)  # test

    capsys.readouterr()  # test
    tuner.search_space_summary()

    out = capsys.readouterr().out  # test
    assert "Default search space size: 3" in out and "learning_rate (Fixed)" in out  # test
    assert "units (Int)" in out and "dropout (Boolean)" in out  # test

    tuner = keras_tuner.RandomSearch(
        build_model,
        optimizer=keras.optimizers.Adam(1e-3),
        loss="mse",
        metrics=[
            "sparse_categorical_crossentropy",
        ],
        objective="val_loss",
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="override_compile",
    )

    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))

    loss = tuner.get_best_models()[0].loss
    assert loss == "mse"  # test: the loss given to the tuner, not the hypermodel's
    assert "val_sparse_categorical_crossentropy" in tuner.oracle.get_best_trials()[0].metrics  # test


@pytest.mark.slow
def test_tailor_the_search_space_of_pre_built_hypermodels(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: my_dir/ in a temporary folder
    x_train = np.random.rand(100, 28, 28, 1)  # test: the guide's random data, made earlier in the guide
    y_train = np.random.randint(0, 10, (100, 1))  # test
    x_val = np.random.rand(20, 28, 28, 1)  # test
    y_val = np.random.randint(0, 10, (20, 1))  # test

    hypermodel = keras_tuner.applications.HyperXception(input_shape=(28, 28, 1), classes=10)

    hp = keras_tuner.HyperParameters()

    # This will override the `learning_rate` parameter with your
    # own selection of choices
    hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])

    tuner = keras_tuner.RandomSearch(
        hypermodel,
        hyperparameters=hp,
        # Prevents unlisted parameters from being tuned
        tune_new_entries=False,
        # Override the loss.
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        objective="val_accuracy",
        max_trials=3,
        overwrite=True,
        directory="my_dir",
        project_name="helloworld",
    )

    # Run the search
    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val))
    tuner.search_space_summary()

    trials = list(tuner.oracle.trials.values())  # test
    assert len(trials) == 3 and all(t.status == "COMPLETED" for t in trials), [t.message for t in trials]  # test
    assert sorted(t.hyperparameters.get("learning_rate") for t in trials) == [1e-4, 1e-3, 1e-2]  # test
    assert all(t.hyperparameters.get("sep_num_filters") == 256 for t in trials)  # test: the rest at defaults
    assert tuner.get_best_models()[0].loss == "sparse_categorical_crossentropy"  # test
