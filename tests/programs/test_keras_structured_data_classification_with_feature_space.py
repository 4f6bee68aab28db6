"""keras-io example "Structured data classification with FeatureSpace", run on chainrule.

Source: https://keras.io/examples/structured_data/structured_data_classification_with_feature_space/
(keras-team/keras-io, examples/structured_data/structured_data_classification_with_feature_space.py,
"Last modified: 2022/11/09").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `import keras` -> `from chainrule import
  keras`, `from keras.utils import FeatureSpace` -> `from chainrule.keras.utils import FeatureSpace`; the
  `KERAS_BACKEND` line is dropped;
- heart.csv (`pd.read_csv(file_url)`) is a synthetic file of the same 14 columns and 303 rows written by
  tests/programs/heart_like.py to a temporary folder;
- `epochs=20` is 2;
- lines marked `# test:` check what the program produces.

What it relies on: keras.utils.FeatureSpace (integer/string categorical with num_oov_indices=0, float_discretized,
float_normalized, crosses with their own crossing_dim, concat output), adapted on a mapped Dataset of dicts, called
in Dataset.map, its encoded features as the input of a training model and its raw inputs dict as the input of an
inference model that shares the layers; predict on a dict of one-element tensors.
"""

import pandas as pd

import chainrule as tf
from chainrule import keras
from chainrule.keras.utils import FeatureSpace

import heart_like

EPOCHS = 2  # test: the example's 20


def test_structured_data_classification_with_feature_space(tmp_path):
    file_url = heart_like.write_csv(str(tmp_path / "heart.csv"), n=303)
    dataframe = pd.read_csv(file_url)
    print(dataframe.shape)
    dataframe.head()
    val_dataframe = dataframe.sample(frac=0.2, random_state=1337)
    train_dataframe = dataframe.drop(val_dataframe.index)
    print("Using %d samples for training and %d for validation" % (len(train_dataframe), len(val_dataframe)))
    def dataframe_to_dataset(dataframe):
        dataframe = dataframe.copy()
        labels = dataframe.pop("target")
        ds = tf.data.Dataset.from_tensor_slices((dict(dataframe), labels))
        ds = ds.shuffle(buffer_size=len(dataframe))
        return ds
    train_ds = dataframe_to_dataset(train_dataframe)
    val_ds = dataframe_to_dataset(val_dataframe)
    for x, y in train_ds.take(1):
        print("Input:", x)
        print("Target:", y)
    train_ds = train_ds.batch(32)
    val_ds = val_ds.batch(32)
    feature_space = FeatureSpace(
        features={
            "sex": "integer_categorical",
            "cp": "integer_categorical",
            "fbs": "integer_categorical",
            "restecg": "integer_categorical",
            "exang": "integer_categorical",
            "ca": "integer_categorical",
            "thal": "string_categorical",
            "age": "float_discretized",
            "trestbps": "float_normalized",
            "chol": "float_normalized",
            "thalach": "float_normalized",
            "oldpeak": "float_normalized",
            "slope": "float_normalized",
        },
        crosses=[("sex", "age"), ("thal", "ca")],
        crossing_dim=32,
        output_mode="concat",
    )
    feature_space = FeatureSpace(
        features={
            "sex": FeatureSpace.integer_categorical(num_oov_indices=0),
            "cp": FeatureSpace.integer_categorical(num_oov_indices=0),
            "fbs": FeatureSpace.integer_categorical(num_oov_indices=0),
            "restecg": FeatureSpace.integer_categorical(num_oov_indices=0),
            "exang": FeatureSpace.integer_categorical(num_oov_indices=0),
            "ca": FeatureSpace.integer_categorical(num_oov_indices=0),
            "thal": FeatureSpace.string_categorical(num_oov_indices=0),
            "age": FeatureSpace.float_discretized(num_bins=30),
            "trestbps": FeatureSpace.float_normalized(),
            "chol": FeatureSpace.float_normalized(),
            "thalach": FeatureSpace.float_normalized(),
            "oldpeak": FeatureSpace.float_normalized(),
            "slope": FeatureSpace.float_normalized(),
        },
        crosses=[
            FeatureSpace.cross(feature_names=("sex", "age"), crossing_dim=64),
            FeatureSpace.cross(
                feature_names=("thal", "ca"),
                crossing_dim=16,
            ),
        ],
        output_mode="concat",
    )
    train_ds_with_no_labels = train_ds.map(lambda x, _: x)
    feature_space.adapt(train_ds_with_no_labels)
    for x, _ in train_ds.take(1):
        preprocessed_x = feature_space(x)
        print("preprocessed_x.shape:", preprocessed_x.shape)
        print("preprocessed_x.dtype:", preprocessed_x.dtype)
    preprocessed_train_ds = train_ds.map(lambda x, y: (feature_space(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    preprocessed_train_ds = preprocessed_train_ds.prefetch(tf.data.AUTOTUNE)
    preprocessed_val_ds = val_ds.map(lambda x, y: (feature_space(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    preprocessed_val_ds = preprocessed_val_ds.prefetch(tf.data.AUTOTUNE)
    dict_inputs = feature_space.get_inputs()
    encoded_features = feature_space.get_encoded_features()
    x = keras.layers.Dense(32, activation="relu")(encoded_features)
    x = keras.layers.Dropout(0.5)(x)
    predictions = keras.layers.Dense(1, activation="sigmoid")(x)
    training_model = keras.Model(inputs=encoded_features, outputs=predictions)
    training_model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    inference_model = keras.Model(inputs=dict_inputs, outputs=predictions)
    history = training_model.fit(preprocessed_train_ds, epochs=EPOCHS, validation_data=preprocessed_val_ds, verbose=2)
    sample = {"age": 60, "sex": 1, "cp": 1, "trestbps": 145, "chol": 233, "fbs": 1, "restecg": 2, "thalach": 150, "exang": 0, "oldpeak": 2.3, "slope": 3, "ca": 0, "thal": "fixed"}
    input_dict = {name: tf.convert_to_tensor([value]) for name, value in sample.items()}
    predictions = inference_model.predict(input_dict)
    print(f"This particular patient had a {100 * predictions[0][0]:.2f}% probability of having a heart disease, as evaluated by our model.")

    # test: one vector per sample: one-hot categories (no OOV slot), 30 age bins, 5 normalized numbers and the
    # 64 + 16 hashed crosses
    categorical = sum(feature_space.preprocessors[name].vocabulary_size()
                      for name in ("sex", "cp", "fbs", "restecg", "exang", "ca", "thal"))
    assert preprocessed_x.shape == (32, categorical + 30 + 5 + 64 + 16)
    assert encoded_features.shape == (None, preprocessed_x.shape[1])
    assert sorted(dict_inputs) == sorted(sample)
    assert predictions.shape == (1, 1) and 0.0 < predictions[0][0] < 1.0
    assert len(history.history["val_accuracy"]) == EPOCHS
    # test: the inference model computes what the training model does on the FeatureSpace's encoding
    encoded = feature_space({name: tf.convert_to_tensor([value]) for name, value in sample.items()})
    assert abs(float(training_model.predict(encoded, verbose=0)[0][0]) - float(predictions[0][0])) < 1e-5
