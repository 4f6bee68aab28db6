"""keras-io example "Structured data learning with Wide, Deep, and Cross networks", run on chainrule.

Source: https://keras.io/examples/structured_data/wide_deep_cross_networks/ (keras-team/keras-io,
examples/structured_data/wide_deep_cross_networks.py, "Last modified: 2021/05/05").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` ->
  `from chainrule import keras`, `from tensorflow.keras import layers` -> `from chainrule.keras import layers`,
  `from tensorflow.keras.layers import StringLookup` -> `from chainrule.keras.layers import StringLookup`;
- the Covertype data (`pd.read_csv(data_url, header=None)`, 581,012 rows) is replaced by a DataFrame of the same 55
  columns (the categorical ones one-hot, as the real file) with 700 synthetic rows; the CSV files go to a
  temporary folder;
- `num_epochs = 50` is 2; `run_experiment` also returns the history and accuracy it prints (for the checks);
- lines marked `# test:` check what the program produces.

What it relies on: make_csv_dataset with column_defaults and a label column; StringLookup with num_oov_indices=0 on
string keras.Inputs of shape () in a functional model, output_mode "binary" (multi_hot) and "int"; tf.expand_dims on
symbolic inputs; `x0 * x + cross` between symbolic tensors; keras.utils.plot_model.
"""

import math

import numpy as np
import pandas as pd
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

N_ROWS = 700  # test: the synthetic data's size (Covertype: 581,012 rows)
NUM_EPOCHS = 2  # test: the example's 50


def covtype_like(n=N_ROWS, seed=0):
    """test: stands in for covtype.data.gz: 10 numeric columns, 4 one-hot wilderness areas, 40 one-hot soil types
    and the cover type (1-7), with no header."""
    rng = np.random.default_rng(seed)
    label = rng.integers(1, 8, n)
    numeric = np.stack([rng.integers(1850, 3860, n), rng.integers(0, 361, n), rng.integers(0, 67, n),
                        rng.integers(0, 1400, n), rng.integers(-170, 600, n), rng.integers(0, 7120, n),
                        rng.integers(0, 255, n), rng.integers(0, 255, n), rng.integers(0, 255, n),
                        rng.integers(0, 7175, n)], axis=1)
    numeric[:, 0] += label * 120  # elevation tells the cover type apart a little
    area = np.eye(4, dtype=int)[(label + rng.integers(0, 2, n)) % 4]
    soil = np.eye(40, dtype=int)[(label * 5 + rng.integers(0, 5, n)) % 40]
    return pd.DataFrame(np.concatenate([numeric, area, soil, label[:, None]], axis=1))


@pytest.mark.slow
def test_wide_deep_cross_networks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the example writes its CSV files to the working folder
    raw_data = covtype_like()
    print(f"Dataset shape: {raw_data.shape}")
    raw_data.head()
    soil_type_values = [f"soil_type_{idx+1}" for idx in range(40)]
    wilderness_area_values = [f"area_type_{idx+1}" for idx in range(4)]

    soil_type = raw_data.loc[:, 14:53].apply(
        lambda x: soil_type_values[0::1][x.to_numpy().nonzero()[0][0]], axis=1
    )
    wilderness_area = raw_data.loc[:, 10:13].apply(
        lambda x: wilderness_area_values[0::1][x.to_numpy().nonzero()[0][0]], axis=1
    )

    CSV_HEADER = [
        "Elevation",
        "Aspect",
        "Slope",
        "Horizontal_Distance_To_Hydrology",
        "Vertical_Distance_To_Hydrology",
        "Horizontal_Distance_To_Roadways",
        "Hillshade_9am",
        "Hillshade_Noon",
        "Hillshade_3pm",
        "Horizontal_Distance_To_Fire_Points",
        "Wilderness_Area",
        "Soil_Type",
        "Cover_Type",
    ]

    data = pd.concat(
        [raw_data.loc[:, 0:9], wilderness_area, soil_type, raw_data.loc[:, 54]],
        axis=1,
        ignore_index=True,
    )
    data.columns = CSV_HEADER

    # Convert the target label indices into a range from 0 to 6 (there are 7 labels in total).
    data["Cover_Type"] = data["Cover_Type"] - 1

    print(f"Dataset shape: {data.shape}")
    data.head().T

    train_splits = []
    test_splits = []

    for _, group_data in data.groupby("Cover_Type"):
        random_selection = np.random.rand(len(group_data.index)) <= 0.85
        train_splits.append(group_data[random_selection])
        test_splits.append(group_data[~random_selection])

    train_data = pd.concat(train_splits).sample(frac=1).reset_index(drop=True)
    test_data = pd.concat(test_splits).sample(frac=1).reset_index(drop=True)

    print(f"Train split size: {len(train_data.index)}")
    print(f"Test split size: {len(test_data.index)}")

    train_data_file = "train_data.csv"
    test_data_file = "test_data.csv"

    train_data.to_csv(train_data_file, index=False)
    test_data.to_csv(test_data_file, index=False)

    TARGET_FEATURE_NAME = "Cover_Type"

    TARGET_FEATURE_LABELS = ["0", "1", "2", "3", "4", "5", "6"]

    NUMERIC_FEATURE_NAMES = [
        "Aspect",
        "Elevation",
        "Hillshade_3pm",
        "Hillshade_9am",
        "Hillshade_Noon",
        "Horizontal_Distance_To_Fire_Points",
        "Horizontal_Distance_To_Hydrology",
        "Horizontal_Distance_To_Roadways",
        "Slope",
        "Vertical_Distance_To_Hydrology",
    ]

    CATEGORICAL_FEATURES_WITH_VOCABULARY = {
        "Soil_Type": list(data["Soil_Type"].unique()),
        "Wilderness_Area": list(data["Wilderness_Area"].unique()),
    }

    CATEGORICAL_FEATURE_NAMES = list(CATEGORICAL_FEATURES_WITH_VOCABULARY.keys())

    FEATURE_NAMES = NUMERIC_FEATURE_NAMES + CATEGORICAL_FEATURE_NAMES

    COLUMN_DEFAULTS = [
        [0] if feature_name in NUMERIC_FEATURE_NAMES + [TARGET_FEATURE_NAME] else ["NA"]
        for feature_name in CSV_HEADER
    ]

    NUM_CLASSES = len(TARGET_FEATURE_LABELS)


    def get_dataset_from_csv(csv_file_path, batch_size, shuffle=False):

        dataset = tf.data.experimental.make_csv_dataset(
            csv_file_path,
            batch_size=batch_size,
            column_names=CSV_HEADER,
            column_defaults=COLUMN_DEFAULTS,
            label_name=TARGET_FEATURE_NAME,
            num_epochs=1,
            header=True,
            shuffle=shuffle,
        )
        return dataset.cache()


    learning_rate = 0.001
    dropout_rate = 0.1
    batch_size = 265
    num_epochs = NUM_EPOCHS

    hidden_units = [32, 32]


    def run_experiment(model):

        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=[keras.metrics.SparseCategoricalAccuracy()],
        )

        train_dataset = get_dataset_from_csv(train_data_file, batch_size, shuffle=True)

        test_dataset = get_dataset_from_csv(test_data_file, batch_size)

        print("Start training the model...")
        history = model.fit(train_dataset, epochs=num_epochs)
        print("Model training finished")

        _, accuracy = model.evaluate(test_dataset, verbose=0)

        print(f"Test accuracy: {round(accuracy * 100, 2)}%")
        return history, accuracy


    def create_model_inputs():
        inputs = {}
        for feature_name in FEATURE_NAMES:
            if feature_name in NUMERIC_FEATURE_NAMES:
                inputs[feature_name] = layers.Input(
                    name=feature_name, shape=(), dtype=tf.float32
                )
            else:
                inputs[feature_name] = layers.Input(
                    name=feature_name, shape=(), dtype=tf.string
                )
        return inputs


    from chainrule.keras.layers import StringLookup


    def encode_inputs(inputs, use_embedding=False):
        encoded_features = []
        for feature_name in inputs:
            if feature_name in CATEGORICAL_FEATURE_NAMES:
                vocabulary = CATEGORICAL_FEATURES_WITH_VOCABULARY[feature_name]
                # Create a lookup to convert string values to an integer indices.
                # Since we are not using a mask token nor expecting any out of vocabulary
                # (oov) token, we set mask_token to None and  num_oov_indices to 0.
                lookup = StringLookup(
                    vocabulary=vocabulary,
                    mask_token=None,
                    num_oov_indices=0,
                    output_mode="int" if use_embedding else "binary",
                )
                if use_embedding:
                    # Convert the string input values into integer indices.
                    encoded_feature = lookup(inputs[feature_name])
                    embedding_dims = int(math.sqrt(len(vocabulary)))
                    # Create an embedding layer with the specified dimensions.
                    embedding = layers.Embedding(
                        input_dim=len(vocabulary), output_dim=embedding_dims
                    )
                    # Convert the index values to embedding representations.
                    encoded_feature = embedding(encoded_feature)
                else:
                    # Convert the string input values into a one hot encoding.
                    encoded_feature = lookup(tf.expand_dims(inputs[feature_name], -1))
            else:
                # Use the numerical features as-is.
                encoded_feature = tf.expand_dims(inputs[feature_name], -1)

            encoded_features.append(encoded_feature)

        all_features = layers.concatenate(encoded_features)
        return all_features


    def create_baseline_model():
        inputs = create_model_inputs()
        features = encode_inputs(inputs)

        for units in hidden_units:
            features = layers.Dense(units)(features)
            features = layers.BatchNormalization()(features)
            features = layers.ReLU()(features)
            features = layers.Dropout(dropout_rate)(features)

        outputs = layers.Dense(units=NUM_CLASSES, activation="softmax")(features)
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model


    baseline_model = create_baseline_model()
    keras.utils.plot_model(baseline_model, show_shapes=True, rankdir="LR")

    baseline = run_experiment(baseline_model)


    def create_wide_and_deep_model():

        inputs = create_model_inputs()
        wide = encode_inputs(inputs)
        wide = layers.BatchNormalization()(wide)

        deep = encode_inputs(inputs, use_embedding=True)
        for units in hidden_units:
            deep = layers.Dense(units)(deep)
            deep = layers.BatchNormalization()(deep)
            deep = layers.ReLU()(deep)
            deep = layers.Dropout(dropout_rate)(deep)

        merged = layers.concatenate([wide, deep])
        outputs = layers.Dense(units=NUM_CLASSES, activation="softmax")(merged)
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model


    wide_and_deep_model = create_wide_and_deep_model()
    keras.utils.plot_model(wide_and_deep_model, show_shapes=True, rankdir="LR")

    wide_and_deep = run_experiment(wide_and_deep_model)


    def create_deep_and_cross_model():

        inputs = create_model_inputs()
        x0 = encode_inputs(inputs, use_embedding=True)

        cross = x0
        for _ in hidden_units:
            units = cross.shape[-1]
            x = layers.Dense(units)(cross)
            cross = x0 * x + cross
        cross = layers.BatchNormalization()(cross)

        deep = x0
        for units in hidden_units:
            deep = layers.Dense(units)(deep)
            deep = layers.BatchNormalization()(deep)
            deep = layers.ReLU()(deep)
            deep = layers.Dropout(dropout_rate)(deep)

        merged = layers.concatenate([cross, deep])
        outputs = layers.Dense(units=NUM_CLASSES, activation="softmax")(merged)
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model


    deep_and_cross_model = create_deep_and_cross_model()
    keras.utils.plot_model(deep_and_cross_model, show_shapes=True, rankdir="LR")

    deep_and_cross = run_experiment(deep_and_cross_model)

    # test: the three models train and evaluate; the wide part one-hot encodes 40 soil types and 4 areas, the deep
    # part embeds them in int(sqrt(n)) dimensions
    for history, accuracy in (baseline, wide_and_deep, deep_and_cross):
        assert len(history.history["loss"]) == NUM_EPOCHS and np.isfinite(history.history["loss"]).all()
        assert 0.0 <= accuracy <= 1.0
    assert baseline_model.layers[-1].output.shape == (None, NUM_CLASSES)
    wide_width = 10 + len(CATEGORICAL_FEATURES_WITH_VOCABULARY["Soil_Type"]) + len(
        CATEGORICAL_FEATURES_WITH_VOCABULARY["Wilderness_Area"])
    first_dense = [layer for layer in baseline_model.layers if isinstance(layer, layers.Dense)][0]
    assert first_dense.kernel.shape == (wide_width, 32)
    deep_width = 10 + int(math.sqrt(len(CATEGORICAL_FEATURES_WITH_VOCABULARY["Soil_Type"]))) + int(
        math.sqrt(len(CATEGORICAL_FEATURES_WITH_VOCABULARY["Wilderness_Area"])))
    cross_dense = [layer for layer in deep_and_cross_model.layers if isinstance(layer, layers.Dense)][0]
    assert cross_dense.kernel.shape == (deep_width, deep_width)
