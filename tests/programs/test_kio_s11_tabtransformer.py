"""keras-io example "Structured data learning with TabTransformer", run on chainrule.

Source: https://keras.io/examples/structured_data/tabtransformer/ (keras-team/keras-io,
examples/structured_data/tabtransformer.py, "Last modified: 2022/01/18", the Keras 3 version: keras's own AdamW).

The example's code is kept as written (inside the test function, so that its CSV files go to a temporary folder),
except:
- the import lines: `import keras` -> `from chainrule import keras`, `from keras import layers` ->
  `from chainrule.keras import layers`, `from keras import ops` -> `from chainrule.keras import ops`,
  `from tensorflow import data as tf_data` -> `from chainrule import data as tf_data`;
- the two UCI downloads (`pd.read_csv(url, ...)`) read the synthetic `census_like` files (200 and 100 rows);
- NUM_EPOCHS is SHRUNK from 15 to 1, NUM_TRANSFORMER_BLOCKS from 3 to 1 and BATCH_SIZE from 265 to 64;
- lines marked `# test:` check what the program produces.
"""

import math
from functools import partial

import numpy as np
import pandas as pd
import pytest
from chainrule import keras
from chainrule.keras import layers
from chainrule.keras import ops
from chainrule import data as tf_data

import census_like


@pytest.mark.slow  # two models trained and evaluated on CSV pipelines: ~25 s on a shared CPU
def test_tabtransformer(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    train_data_url, test_data_url = census_like.write("adult.data", "adult.test")  # test: the downloads' stand-in

    CSV_HEADER = [
        "age",
        "workclass",
        "fnlwgt",
        "education",
        "education_num",
        "marital_status",
        "occupation",
        "relationship",
        "race",
        "gender",
        "capital_gain",
        "capital_loss",
        "hours_per_week",
        "native_country",
        "income_bracket",
    ]

    train_data = pd.read_csv(train_data_url, header=None, names=CSV_HEADER)
    test_data = pd.read_csv(test_data_url, header=None, names=CSV_HEADER)

    print(f"Train dataset shape: {train_data.shape}")
    print(f"Test dataset shape: {test_data.shape}")

    test_data = test_data[1:]
    test_data.income_bracket = test_data.income_bracket.apply(
        lambda value: value.replace(".", "")
    )

    train_data_file = "train_data.csv"
    test_data_file = "test_data.csv"

    train_data.to_csv(train_data_file, index=False, header=False)
    test_data.to_csv(test_data_file, index=False, header=False)

    # A list of the numerical feature names.
    NUMERIC_FEATURE_NAMES = [
        "age",
        "education_num",
        "capital_gain",
        "capital_loss",
        "hours_per_week",
    ]
    # A dictionary of the categorical features and their vocabulary.
    CATEGORICAL_FEATURES_WITH_VOCABULARY = {
        "workclass": sorted(list(train_data["workclass"].unique())),
        "education": sorted(list(train_data["education"].unique())),
        "marital_status": sorted(list(train_data["marital_status"].unique())),
        "occupation": sorted(list(train_data["occupation"].unique())),
        "relationship": sorted(list(train_data["relationship"].unique())),
        "race": sorted(list(train_data["race"].unique())),
        "gender": sorted(list(train_data["gender"].unique())),
        "native_country": sorted(list(train_data["native_country"].unique())),
    }
    # Name of the column to be used as instances weight.
    WEIGHT_COLUMN_NAME = "fnlwgt"
    # A list of the categorical feature names.
    CATEGORICAL_FEATURE_NAMES = list(CATEGORICAL_FEATURES_WITH_VOCABULARY.keys())
    # A list of all the input features.
    FEATURE_NAMES = NUMERIC_FEATURE_NAMES + CATEGORICAL_FEATURE_NAMES
    # A list of column default values for each feature.
    COLUMN_DEFAULTS = [
        [0.0] if feature_name in NUMERIC_FEATURE_NAMES + [WEIGHT_COLUMN_NAME] else ["NA"]
        for feature_name in CSV_HEADER
    ]
    # The name of the target feature.
    TARGET_FEATURE_NAME = "income_bracket"
    # A list of the labels of the target features.
    TARGET_LABELS = [" <=50K", " >50K"]

    LEARNING_RATE = 0.001
    WEIGHT_DECAY = 0.0001
    DROPOUT_RATE = 0.2
    BATCH_SIZE = 64  # SHRUNK from 265
    NUM_EPOCHS = 1  # SHRUNK from 15

    NUM_TRANSFORMER_BLOCKS = 1  # Number of transformer blocks.  SHRUNK from 3
    NUM_HEADS = 4  # Number of attention heads.
    EMBEDDING_DIMS = 16  # Embedding dimensions of the categorical features.
    MLP_HIDDEN_UNITS_FACTORS = [
        2,
        1,
    ]  # MLP hidden layer units, as factors of the number of inputs.
    NUM_MLP_BLOCKS = 2  # Number of MLP blocks in the baseline model.

    target_label_lookup = layers.StringLookup(
        vocabulary=TARGET_LABELS, mask_token=None, num_oov_indices=0
    )

    def prepare_example(features, target):
        target_index = target_label_lookup(target)
        weights = features.pop(WEIGHT_COLUMN_NAME)
        return features, target_index, weights

    lookup_dict = {}
    for feature_name in CATEGORICAL_FEATURE_NAMES:
        vocabulary = CATEGORICAL_FEATURES_WITH_VOCABULARY[feature_name]
        # Create a lookup to convert a string values to an integer indices.
        # Since we are not using a mask token, nor expecting any out of vocabulary
        # (oov) token, we set mask_token to None and num_oov_indices to 0.
        lookup = layers.StringLookup(
            vocabulary=vocabulary, mask_token=None, num_oov_indices=0
        )
        lookup_dict[feature_name] = lookup

    def encode_categorical(batch_x, batch_y, weights):
        for feature_name in CATEGORICAL_FEATURE_NAMES:
            batch_x[feature_name] = lookup_dict[feature_name](batch_x[feature_name])

        return batch_x, batch_y, weights

    def get_dataset_from_csv(csv_file_path, batch_size=128, shuffle=False):
        dataset = (
            tf_data.experimental.make_csv_dataset(
                csv_file_path,
                batch_size=batch_size,
                column_names=CSV_HEADER,
                column_defaults=COLUMN_DEFAULTS,
                label_name=TARGET_FEATURE_NAME,
                num_epochs=1,
                header=False,
                na_value="?",
                shuffle=shuffle,
            )
            .map(prepare_example, num_parallel_calls=tf_data.AUTOTUNE, deterministic=False)
            .map(encode_categorical)
        )
        return dataset.cache()

    def run_experiment(
        model,
        train_data_file,
        test_data_file,
        num_epochs,
        learning_rate,
        weight_decay,
        batch_size,
    ):
        optimizer = keras.optimizers.AdamW(
            learning_rate=learning_rate, weight_decay=weight_decay
        )

        model.compile(
            optimizer=optimizer,
            loss=keras.losses.BinaryCrossentropy(),
            metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
        )

        train_dataset = get_dataset_from_csv(train_data_file, batch_size, shuffle=True)
        validation_dataset = get_dataset_from_csv(test_data_file, batch_size)

        print("Start training the model...")
        history = model.fit(
            train_dataset, epochs=num_epochs, validation_data=validation_dataset
        )
        print("Model training finished")

        _, accuracy = model.evaluate(validation_dataset, verbose=0)

        print(f"Validation accuracy: {round(accuracy * 100, 2)}%")

        return history

    def create_model_inputs():
        inputs = {}
        for feature_name in FEATURE_NAMES:
            if feature_name in NUMERIC_FEATURE_NAMES:
                inputs[feature_name] = layers.Input(
                    name=feature_name, shape=(), dtype="float32"
                )
            else:
                inputs[feature_name] = layers.Input(
                    name=feature_name, shape=(), dtype="float32"
                )
        return inputs

    def encode_inputs(inputs, embedding_dims):
        encoded_categorical_feature_list = []
        numerical_feature_list = []

        for feature_name in inputs:
            if feature_name in CATEGORICAL_FEATURE_NAMES:
                vocabulary = CATEGORICAL_FEATURES_WITH_VOCABULARY[feature_name]
                # Create an embedding layer with the specified dimensions.
                embedding = layers.Embedding(
                    input_dim=len(vocabulary), output_dim=embedding_dims
                )

                # Convert the index values to embedding representations.
                encoded_categorical_feature = embedding(inputs[feature_name])
                encoded_categorical_feature_list.append(encoded_categorical_feature)

            else:
                # Use the numerical features as-is.
                numerical_feature = ops.expand_dims(inputs[feature_name], -1)
                numerical_feature_list.append(numerical_feature)

        return encoded_categorical_feature_list, numerical_feature_list

    def create_mlp(hidden_units, dropout_rate, activation, normalization_layer, name=None):
        mlp_layers = []
        for units in hidden_units:
            mlp_layers.append(normalization_layer()),
            mlp_layers.append(layers.Dense(units, activation=activation))
            mlp_layers.append(layers.Dropout(dropout_rate))

        return keras.Sequential(mlp_layers, name=name)

    def create_baseline_model(
        embedding_dims, num_mlp_blocks, mlp_hidden_units_factors, dropout_rate
    ):
        # Create model inputs.
        inputs = create_model_inputs()
        # encode features.
        encoded_categorical_feature_list, numerical_feature_list = encode_inputs(
            inputs, embedding_dims
        )
        # Concatenate all features.
        features = layers.concatenate(
            encoded_categorical_feature_list + numerical_feature_list
        )
        # Compute Feedforward layer units.
        feedforward_units = [features.shape[-1]]

        # Create several feedforwad layers with skip connections.
        for layer_idx in range(num_mlp_blocks):
            features = create_mlp(
                hidden_units=feedforward_units,
                dropout_rate=dropout_rate,
                activation=keras.activations.gelu,
                normalization_layer=layers.LayerNormalization,
                name=f"feedforward_{layer_idx}",
            )(features)

        # Compute MLP hidden_units.
        mlp_hidden_units = [
            factor * features.shape[-1] for factor in mlp_hidden_units_factors
        ]
        # Create final MLP.
        features = create_mlp(
            hidden_units=mlp_hidden_units,
            dropout_rate=dropout_rate,
            activation=keras.activations.selu,
            normalization_layer=layers.BatchNormalization,
            name="MLP",
        )(features)

        # Add a sigmoid as a binary classifer.
        outputs = layers.Dense(units=1, activation="sigmoid", name="sigmoid")(features)
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model

    baseline_model = create_baseline_model(
        embedding_dims=EMBEDDING_DIMS,
        num_mlp_blocks=NUM_MLP_BLOCKS,
        mlp_hidden_units_factors=MLP_HIDDEN_UNITS_FACTORS,
        dropout_rate=DROPOUT_RATE,
    )

    print("Total model weights:", baseline_model.count_params())
    keras.utils.plot_model(baseline_model, show_shapes=True, rankdir="LR")

    history = run_experiment(
        model=baseline_model,
        train_data_file=train_data_file,
        test_data_file=test_data_file,
        num_epochs=NUM_EPOCHS,
        learning_rate=LEARNING_RATE,
        weight_decay=WEIGHT_DECAY,
        batch_size=BATCH_SIZE,
    )
    assert np.isfinite(history.history["loss"][0])  # test

    def create_tabtransformer_classifier(
        num_transformer_blocks,
        num_heads,
        embedding_dims,
        mlp_hidden_units_factors,
        dropout_rate,
        use_column_embedding=False,
    ):
        # Create model inputs.
        inputs = create_model_inputs()
        # encode features.
        encoded_categorical_feature_list, numerical_feature_list = encode_inputs(
            inputs, embedding_dims
        )
        # Stack categorical feature embeddings for the Tansformer.
        encoded_categorical_features = ops.stack(encoded_categorical_feature_list, axis=1)
        # Concatenate numerical features.
        numerical_features = layers.concatenate(numerical_feature_list)

        # Add column embedding to categorical feature embeddings.
        if use_column_embedding:
            num_columns = encoded_categorical_features.shape[1]
            column_embedding = layers.Embedding(
                input_dim=num_columns, output_dim=embedding_dims
            )
            column_indices = ops.arange(start=0, stop=num_columns, step=1)
            encoded_categorical_features = encoded_categorical_features + column_embedding(
                column_indices
            )

        # Create multiple layers of the Transformer block.
        for block_idx in range(num_transformer_blocks):
            # Create a multi-head attention layer.
            attention_output = layers.MultiHeadAttention(
                num_heads=num_heads,
                key_dim=embedding_dims,
                dropout=dropout_rate,
                name=f"multihead_attention_{block_idx}",
            )(encoded_categorical_features, encoded_categorical_features)
            # Skip connection 1.
            x = layers.Add(name=f"skip_connection1_{block_idx}")(
                [attention_output, encoded_categorical_features]
            )
            # Layer normalization 1.
            x = layers.LayerNormalization(name=f"layer_norm1_{block_idx}", epsilon=1e-6)(x)
            # Feedforward.
            feedforward_output = create_mlp(
                hidden_units=[embedding_dims],
                dropout_rate=dropout_rate,
                activation=keras.activations.gelu,
                normalization_layer=partial(
                    layers.LayerNormalization, epsilon=1e-6
                ),  # using partial to provide keyword arguments before initialization
                name=f"feedforward_{block_idx}",
            )(x)
            # Skip connection 2.
            x = layers.Add(name=f"skip_connection2_{block_idx}")([feedforward_output, x])
            # Layer normalization 2.
            encoded_categorical_features = layers.LayerNormalization(
                name=f"layer_norm2_{block_idx}", epsilon=1e-6
            )(x)

        # Flatten the "contextualized" embeddings of the categorical features.
        categorical_features = layers.Flatten()(encoded_categorical_features)
        # Apply layer normalization to the numerical features.
        numerical_features = layers.LayerNormalization(epsilon=1e-6)(numerical_features)
        # Prepare the input for the final MLP block.
        features = layers.concatenate([categorical_features, numerical_features])

        # Compute MLP hidden_units.
        mlp_hidden_units = [
            factor * features.shape[-1] for factor in mlp_hidden_units_factors
        ]
        # Create final MLP.
        features = create_mlp(
            hidden_units=mlp_hidden_units,
            dropout_rate=dropout_rate,
            activation=keras.activations.selu,
            normalization_layer=layers.BatchNormalization,
            name="MLP",
        )(features)

        # Add a sigmoid as a binary classifer.
        outputs = layers.Dense(units=1, activation="sigmoid", name="sigmoid")(features)
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model

    tabtransformer_model = create_tabtransformer_classifier(
        num_transformer_blocks=NUM_TRANSFORMER_BLOCKS,
        num_heads=NUM_HEADS,
        embedding_dims=EMBEDDING_DIMS,
        mlp_hidden_units_factors=MLP_HIDDEN_UNITS_FACTORS,
        dropout_rate=DROPOUT_RATE,
    )

    print("Total model weights:", tabtransformer_model.count_params())
    keras.utils.plot_model(tabtransformer_model, show_shapes=True, rankdir="LR")

    history = run_experiment(
        model=tabtransformer_model,
        train_data_file=train_data_file,
        test_data_file=test_data_file,
        num_epochs=NUM_EPOCHS,
        learning_rate=LEARNING_RATE,
        weight_decay=WEIGHT_DECAY,
        batch_size=BATCH_SIZE,
    )
    assert np.isfinite(history.history["loss"][0])  # test
    printed = capsys.readouterr().out
    assert "Train dataset shape: (200, 15)" in printed  # test
    assert "Test dataset shape: (101, 15)" in printed  # test
    assert printed.count("Validation accuracy:") == 2  # test
