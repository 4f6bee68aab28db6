"""keras-io example "Structured data classification from scratch" (heart disease), run on chainrule.

Source: https://keras.io/examples/structured_data/structured_data_classification_from_scratch/
(keras-team/keras-io, examples/structured_data/structured_data_classification_from_scratch.py).

The example's code is kept as written, except:
- the import lines: `import keras` -> `from chainrule import keras`, `from keras import layers` ->
  `from chainrule.keras import layers`, `import tensorflow as tf` -> `import chainrule as tf`;
  `os.environ["KERAS_BACKEND"] = "torch"` is left out;
- pandas is not installed here: the heart.csv DataFrame (`pd.read_csv(file_url)`) is replaced by
  a dict of 120 synthetic rows per column (int64 columns, `oldpeak` float64, `thal` strings), the
  first 24 for validation (`dataframe.sample(frac=0.2)`); `dataframe[name].unique()` is
  `np.unique`, `dict(dataframe)` the dict itself;
- `epochs=50` is 2; `keras.utils.plot_model` is left out (chainrule has none);
- lines marked `# test:` check what the program produces.

What it relies on: a string tensor's dtype equals "string" (tf.string), so `thal` goes to
StringLookup; keras.Model takes the example's inputs dict, whose numeric entries are Normalization
outputs rather than keras.Input tensors, as Keras 3 does (clone_graph_nodes: each becomes a new
Input, the Normalization layers are not part of the model), and takes data by the dict's keys,
adding the trailing axis of size 1 that the Inputs declare.
"""

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers


def heart_like(n=120, seed=0):
    """test: stands in for pd.read_csv('heart.csv'): the columns of the Cleveland heart data."""
    rng = np.random.default_rng(seed)
    ints = lambda lo, hi: rng.integers(lo, hi, n).astype("int64")  # noqa: E731
    return {
        "age": ints(29, 77), "sex": ints(0, 2), "cp": ints(0, 5), "trestbps": ints(94, 200),
        "chol": ints(126, 564), "fbs": ints(0, 2), "restecg": ints(0, 3), "thalach": ints(71, 202),
        "exang": ints(0, 2), "oldpeak": rng.uniform(0, 6.2, n).round(1), "slope": ints(1, 4), "ca": ints(0, 4),
        "thal": rng.choice(["fixed", "normal", "reversible"], n), "target": ints(0, 2),
    }


def test_structured_data_classification():
    dataframe = heart_like()
    val_dataframe = {k: v[:24] for k, v in dataframe.items()}
    train_dataframe = {k: v[24:] for k, v in dataframe.items()}

    print(
        f"Using {len(train_dataframe['target'])} samples for training "
        f"and {len(val_dataframe['target'])} for validation"
    )

    COLUMN_NAMES = [
        "age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang", "oldpeak", "slope", "ca",
        "thal", "target",
    ]
    TARGET_FEATURE_NAME = "target"
    NUMERIC_FEATURE_NAMES = ["age", "trestbps", "thalach", "oldpeak", "slope", "chol"]
    CATEGORICAL_FEATURES_WITH_VOCABULARY = {
        feature_name: sorted(
            [
                value if dataframe[feature_name].dtype == "int64" else str(value)
                for value in list(np.unique(dataframe[feature_name]))
            ]
        )
        for feature_name in COLUMN_NAMES
        if feature_name not in list(NUMERIC_FEATURE_NAMES + [TARGET_FEATURE_NAME])
    }
    FEATURE_NAMES = NUMERIC_FEATURE_NAMES + list(
        CATEGORICAL_FEATURES_WITH_VOCABULARY.keys()
    )

    def encode_categorical(features, target):
        for feature_name in features:
            if feature_name in CATEGORICAL_FEATURES_WITH_VOCABULARY:
                lookup_class = (
                    layers.StringLookup
                    if features[feature_name].dtype == "string"
                    else layers.IntegerLookup
                )
                vocabulary = CATEGORICAL_FEATURES_WITH_VOCABULARY[feature_name]
                index = lookup_class(
                    vocabulary=vocabulary,
                    mask_token=None,
                    num_oov_indices=0,
                    output_mode="binary",
                )
                value_index = index(features[feature_name])
                features[feature_name] = value_index
            else:
                pass
        return dict(features), target

    def encode_numerical_feature(feature, name, dataset):
        normalizer = layers.Normalization()
        feature_ds = dataset.map(lambda x, y: x[name])
        feature_ds = feature_ds.map(lambda x: tf.expand_dims(x, -1))
        normalizer.adapt(feature_ds)
        encoded_feature = normalizer(feature)
        return encoded_feature

    def dataframe_to_dataset(dataframe):
        dataframe = dict(dataframe)  # test: instead of dataframe.copy()
        labels = dataframe.pop("target")
        ds = tf.data.Dataset.from_tensor_slices((dict(dataframe), labels)).map(
            encode_categorical
        )
        ds = ds.shuffle(buffer_size=len(labels))
        return ds

    train_ds = dataframe_to_dataset(train_dataframe)
    val_ds = dataframe_to_dataset(val_dataframe)

    for x, y in train_ds.take(1):
        print("Input:", x)
        print("Target:", y)

    train_ds = train_ds.batch(32)
    val_ds = val_ds.batch(32)

    def create_model_inputs():
        inputs = {}

        def create_input_helper(feature_name):
            num_categories = len(CATEGORICAL_FEATURES_WITH_VOCABULARY[feature_name])
            inputs[feature_name] = layers.Input(
                name=feature_name, shape=(num_categories,), dtype="int64"
            )
            return inputs

        for feature_name in FEATURE_NAMES:
            if feature_name in CATEGORICAL_FEATURES_WITH_VOCABULARY:
                create_input_helper(feature_name)
            else:
                feature_input = layers.Input(name=feature_name, shape=(1,), dtype="float32")
                inputs[feature_name] = encode_numerical_feature(
                    feature_input, feature_name, train_ds
                )
        return inputs

    class Classifier(keras.layers.Layer):

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense_1 = layers.Dense(32, activation="relu")
            self.dropout = layers.Dropout(0.5)
            self.dense_2 = layers.Dense(1, activation="sigmoid")

        def call(self, inputs):
            all_features = layers.concatenate(list(inputs.values()))
            x = self.dense_1(all_features)
            x = self.dropout(x)
            output = self.dense_2(x)
            return output

        def build(self, input_shape):
            self.built = True

    def create_model():
        all_inputs = create_model_inputs()
        output = Classifier()(all_inputs)
        model = keras.Model(all_inputs, output)
        return model

    model = create_model()
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])

    history = model.fit(train_ds, epochs=2, validation_data=val_ds)
    assert len(history.history["val_accuracy"]) == 2  # test

    sample = {
        "age": 60, "sex": 1, "cp": 1, "trestbps": 145, "chol": 233, "fbs": 1, "restecg": 2, "thalach": 150,
        "exang": 0, "oldpeak": 2.3, "slope": 3, "ca": 0, "thal": "fixed",
    }

    def get_cat_encoding(cat, cat_value):
        encoding = [0] * len(cat)
        if cat_value in cat:
            encoding[cat.index(cat_value)] = 1
        return encoding

    for name, value in sample.items():
        if name in CATEGORICAL_FEATURES_WITH_VOCABULARY:
            sample.update(
                {
                    name: get_cat_encoding(
                        CATEGORICAL_FEATURES_WITH_VOCABULARY[name], sample[name]
                    )
                }
            )
    input_dict = {name: tf.convert_to_tensor([value]) for name, value in sample.items()}
    predictions = model.predict(input_dict)

    print(
        f"This particular patient had a {100 * predictions[0][0]:.1f} "
        "percent probability of having a heart disease, "
        "as evaluated by our model."
    )
    assert 0.0 <= predictions[0][0] <= 1.0  # test
