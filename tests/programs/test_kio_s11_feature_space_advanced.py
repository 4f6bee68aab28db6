"""keras-io example "FeatureSpace advanced use cases", run on chainrule.

Source: https://keras.io/examples/structured_data/feature_space_advanced/ (keras-team/keras-io,
examples/structured_data/feature_space_advanced.py, "Last modified: 2023/07/01").

The example's code is kept as written (inside the test function, so that its files go to a temporary folder),
except:
- the import lines: `import keras` -> `from chainrule import keras`, `from keras.utils import FeatureSpace` ->
  `from chainrule.keras.utils import FeatureSpace`, `import tensorflow as tf` -> `import chainrule as tf`
  (and the line setting KERAS_BACKEND is dropped);
- the download (`keras.utils.get_file` of UCI's zip and its extraction) is replaced by the synthetic `bank_like`
  file of 200 rows, read by the program's own `pd.read_csv(..., sep=";")`;
- the 20 training epochs are SHRUNK to EPOCHS = 2;
- lines marked `# test:` check what the program produces.
"""

import os

import numpy as np
from chainrule import keras
from chainrule.keras.utils import FeatureSpace
import pandas as pd
import chainrule as tf

import bank_like

EPOCHS = 2  # SHRUNK from 20


def test_feature_space_advanced(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    keras_datasets_path = str(tmp_path)
    os.makedirs(f"{keras_datasets_path}/bank-additional")
    bank_like.write_csv(f"{keras_datasets_path}/bank-additional/bank-additional.csv")  # test: the download

    dataframe = pd.read_csv(
        f"{keras_datasets_path}/bank-additional/bank-additional.csv", sep=";"
    )

    # Droping `duration` to avoid target leak
    dataframe.drop("duration", axis=1, inplace=True)
    # Creating the new feature `previously_contacted`
    dataframe["previously_contacted"] = dataframe["pdays"].map(
        lambda x: 0 if x == 999 else 1
    )

    print(f"Dataframe shape: {dataframe.shape}")
    print(dataframe.head())

    valid_dataframe = dataframe.sample(frac=0.2, random_state=0)
    train_dataframe = dataframe.drop(valid_dataframe.index)

    print(
        f"Using {len(train_dataframe)} samples for training and "
        f"{len(valid_dataframe)} for validation"
    )

    label_lookup = keras.layers.StringLookup(
        # the order here is important since the first index will be encoded as 0
        vocabulary=["no", "yes"],
        num_oov_indices=0,
    )

    def encode_label(x, y):
        encoded_y = label_lookup(y)
        return x, encoded_y

    def dataframe_to_dataset(dataframe):
        dataframe = dataframe.copy()
        labels = dataframe.pop("y")
        ds = tf.data.Dataset.from_tensor_slices((dict(dataframe), labels))
        ds = ds.map(encode_label, num_parallel_calls=tf.data.AUTOTUNE)
        ds = ds.shuffle(buffer_size=len(dataframe))
        return ds

    train_ds = dataframe_to_dataset(train_dataframe)
    valid_ds = dataframe_to_dataset(valid_dataframe)

    for x, y in dataframe_to_dataset(train_dataframe).take(1):
        print(f"Input: {x}")
        print(f"Target: {y}")

    train_ds_with_no_labels = train_ds.map(lambda x, _: x)

    def example_feature_space(dataset, feature_space, feature_names):
        feature_space.adapt(dataset)
        for x in dataset.take(1):
            inputs = {feature_name: x[feature_name] for feature_name in feature_names}
            preprocessed_x = feature_space(inputs)
            print(f"Input: {[{k:v.numpy()} for k, v in inputs.items()]}")
            print(
                f"Preprocessed output: {[{k:v.numpy()} for k, v in preprocessed_x.items()]}"
            )

    feature_space = FeatureSpace(
        features={
            "campaign": FeatureSpace.integer_hashed(num_bins=4, output_mode="one_hot")
        },
        output_mode="dict",
    )
    example_feature_space(train_ds_with_no_labels, feature_space, ["campaign"])

    feature_space = FeatureSpace(
        features={
            "education": FeatureSpace.string_hashed(num_bins=3, output_mode="one_hot")
        },
        output_mode="dict",
    )
    example_feature_space(train_ds_with_no_labels, feature_space, ["education"])

    feature_space = FeatureSpace(
        features={"age": FeatureSpace.float_discretized(num_bins=3, output_mode="one_hot")},
        output_mode="dict",
    )
    example_feature_space(train_ds_with_no_labels, feature_space, ["age"])

    feature_space = FeatureSpace(
        features={
            "default": FeatureSpace.string_categorical(
                num_oov_indices=1, output_mode="one_hot"
            )
        },
        output_mode="dict",
    )
    example_feature_space(train_ds_with_no_labels, feature_space, ["default"])

    feature_space = FeatureSpace(
        features={
            "previously_contacted": FeatureSpace.integer_categorical(
                num_oov_indices=0, output_mode="one_hot"
            )
        },
        output_mode="dict",
    )
    example_feature_space(train_ds_with_no_labels, feature_space, ["previously_contacted"])

    feature_space = FeatureSpace(
        features={
            "age": FeatureSpace.integer_hashed(num_bins=6, output_mode="one_hot"),
            "job": FeatureSpace.string_categorical(
                num_oov_indices=0, output_mode="one_hot"
            ),
        },
        crosses=[
            FeatureSpace.cross(
                feature_names=("age", "job"),
                crossing_dim=8,
                output_mode="one_hot",
            )
        ],
        output_mode="dict",
    )
    example_feature_space(train_ds_with_no_labels, feature_space, ["age", "job"])

    custom_layer = keras.layers.TextVectorization(output_mode="tf_idf")

    feature_space = FeatureSpace(
        features={
            "education": FeatureSpace.feature(
                preprocessor=custom_layer, dtype="string", output_mode="float"
            )
        },
        output_mode="dict",
    )
    example_feature_space(train_ds_with_no_labels, feature_space, ["education"])

    feature_space = FeatureSpace(
        features={
            # Categorical features encoded as integers
            "previously_contacted": FeatureSpace.integer_categorical(num_oov_indices=0),
            # Categorical features encoded as string
            "marital": FeatureSpace.string_categorical(num_oov_indices=0),
            "education": FeatureSpace.string_categorical(num_oov_indices=0),
            "default": FeatureSpace.string_categorical(num_oov_indices=0),
            "housing": FeatureSpace.string_categorical(num_oov_indices=0),
            "loan": FeatureSpace.string_categorical(num_oov_indices=0),
            "contact": FeatureSpace.string_categorical(num_oov_indices=0),
            "month": FeatureSpace.string_categorical(num_oov_indices=0),
            "day_of_week": FeatureSpace.string_categorical(num_oov_indices=0),
            "poutcome": FeatureSpace.string_categorical(num_oov_indices=0),
            # Categorical features to hash and bin
            "job": FeatureSpace.string_hashed(num_bins=3),
            # Numerical features to hash and bin
            "pdays": FeatureSpace.integer_hashed(num_bins=4),
            # Numerical features to normalize and bin
            "age": FeatureSpace.float_discretized(num_bins=4),
            # Numerical features to normalize
            "campaign": FeatureSpace.float_normalized(),
            "previous": FeatureSpace.float_normalized(),
            "emp.var.rate": FeatureSpace.float_normalized(),
            "cons.price.idx": FeatureSpace.float_normalized(),
            "cons.conf.idx": FeatureSpace.float_normalized(),
            "euribor3m": FeatureSpace.float_normalized(),
            "nr.employed": FeatureSpace.float_normalized(),
        },
        # Specify feature cross with a custom crossing dim.
        crosses=[
            FeatureSpace.cross(feature_names=("age", "job"), crossing_dim=8),
            FeatureSpace.cross(feature_names=("housing", "loan"), crossing_dim=6),
            FeatureSpace.cross(
                feature_names=("poutcome", "previously_contacted"), crossing_dim=2
            ),
        ],
        output_mode="concat",
    )

    train_ds = train_ds.batch(32)
    valid_ds = valid_ds.batch(32)

    train_ds_with_no_labels = train_ds.map(lambda x, _: x)
    feature_space.adapt(train_ds_with_no_labels)

    for x, _ in train_ds.take(1):
        preprocessed_x = feature_space(x)
        print(f"preprocessed_x shape: {preprocessed_x.shape}")
        print(f"preprocessed_x sample: \n{preprocessed_x[0]}")

    feature_space.save("myfeaturespace.keras")

    preprocessed_train_ds = train_ds.map(
        lambda x, y: (feature_space(x), y), num_parallel_calls=tf.data.AUTOTUNE
    ).prefetch(tf.data.AUTOTUNE)

    preprocessed_valid_ds = valid_ds.map(
        lambda x, y: (feature_space(x), y), num_parallel_calls=tf.data.AUTOTUNE
    ).prefetch(tf.data.AUTOTUNE)

    encoded_features = feature_space.get_encoded_features()
    print(encoded_features)

    x = keras.layers.Dense(64, activation="relu")(encoded_features)
    x = keras.layers.Dropout(0.5)(x)
    output = keras.layers.Dense(1, activation="sigmoid")(x)

    model = keras.Model(inputs=encoded_features, outputs=output)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])

    history = model.fit(
        preprocessed_train_ds, validation_data=preprocessed_valid_ds, epochs=EPOCHS, verbose=2
    )
    assert np.isfinite(history.history["loss"][-1])  # test

    loaded_feature_space = keras.saving.load_model("myfeaturespace.keras")

    dict_inputs = loaded_feature_space.get_inputs()
    encoded_features = loaded_feature_space.get_encoded_features()
    print(encoded_features)

    print(dict_inputs)

    outputs = model(encoded_features)
    inference_model = keras.Model(inputs=dict_inputs, outputs=outputs)

    sample = {
        "age": 30,
        "job": "blue-collar",
        "marital": "married",
        "education": "basic.9y",
        "default": "no",
        "housing": "yes",
        "loan": "no",
        "contact": "cellular",
        "month": "may",
        "day_of_week": "fri",
        "campaign": 2,
        "pdays": 999,
        "previous": 0,
        "poutcome": "nonexistent",
        "emp.var.rate": -1.8,
        "cons.price.idx": 92.893,
        "cons.conf.idx": -46.2,
        "euribor3m": 1.313,
        "nr.employed": 5099.1,
        "previously_contacted": 0,
    }

    input_dict = {
        name: keras.ops.convert_to_tensor([value]) for name, value in sample.items()
    }
    predictions = inference_model.predict(input_dict)

    print(
        f"This particular client has a {100 * predictions[0][0]:.2f}% probability "
        "of subscribing a term deposit, as evaluated by our model."
    )
    # test: the loaded FeatureSpace encodes as the saved one did
    batch = next(iter(train_ds_with_no_labels))
    np.testing.assert_allclose(loaded_feature_space(batch).numpy(), feature_space(batch).numpy(), rtol=1e-6)
    assert 0.0 <= predictions[0][0] <= 1.0  # test
    assert "probability of subscribing" in capsys.readouterr().out  # test
