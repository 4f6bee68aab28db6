"""keras-io example "Classification with Gated Residual and Variable Selection Networks", run on chainrule.

Source: https://keras.io/examples/structured_data/classification_with_grn_and_vsn/ (keras-team/keras-io,
examples/structured_data/classification_with_grn_and_vsn.py, "Last modified: 2021/02/10").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` -> `from
  chainrule import keras`, `from tensorflow.keras import layers` -> `from chainrule.keras import layers`,
  `from tensorflow.keras.layers import StringLookup` -> `from chainrule.keras.layers import StringLookup`;
- the census-income data (two `pd.read_csv(url)`, ~300K rows) are replaced by DataFrames of the same 42 columns with
  500 and 150 synthetic rows; the CSV files go to a temporary working folder;
- `num_epochs = 20` is 2;
- lines marked `# test:` check what the program produces.

What it relies on: make_csv_dataset reading integer-coded categorical columns as strings (their default is "NA"),
tf.cast of a string tensor to tf.string in Dataset.map, (features, target, weight) elements as sample weights, a
layer taking a list of 41 symbolic inputs and calling layers.concatenate, tf.stack and tf.matmul(transpose_a=True)
inside its call, EarlyStopping(restore_best_weights=True).
"""

import math

import numpy as np
import pandas as pd

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

N_TRAIN, N_TEST = 500, 150  # test: the synthetic data's size (census-income: 199,523 and 99,762 rows)
NUM_EPOCHS = 2  # test: the example's 20

# Column names.
CSV_HEADER = ["age", "class_of_worker", "detailed_industry_recode", "detailed_occupation_recode", "education", "wage_per_hour", "enroll_in_edu_inst_last_wk", "marital_stat", "major_industry_code", "major_occupation_code", "race", "hispanic_origin", "sex", "member_of_a_labor_union", "reason_for_unemployment", "full_or_part_time_employment_stat", "capital_gains", "capital_losses", "dividends_from_stocks", "tax_filer_stat", "region_of_previous_residence", "state_of_previous_residence", "detailed_household_and_family_stat", "detailed_household_summary_in_household", "instance_weight", "migration_code-change_in_msa", "migration_code-change_in_reg", "migration_code-move_within_reg", "live_in_this_house_1_year_ago", "migration_prev_res_in_sunbelt", "num_persons_worked_for_employer", "family_members_under_18", "country_of_birth_father", "country_of_birth_mother", "country_of_birth_self", "citizenship", "own_business_or_self_employed", "fill_inc_questionnaire_for_veteran's_admin", "veterans_benefits", "weeks_worked_in_year", "year", "income_level"]
NUMERIC = ["age", "wage_per_hour", "capital_gains", "capital_losses", "dividends_from_stocks", "num_persons_worked_for_employer", "weeks_worked_in_year"]
def census_like(n, seed):
    """test: stands in for census-income.data.gz / .test.gz: the 42 columns, numeric ones as integers, the
    categorical ones as strings (or small integer codes, as the real file has), the income level as the real labels."""
    rng = np.random.default_rng(seed)
    cols = {}
    for name in CSV_HEADER:
        if name in NUMERIC:
            cols[name] = rng.integers(0, 90, n)
        elif name == "instance_weight":
            cols[name] = rng.uniform(100, 5000, n).round(2)
        elif name in ("detailed_industry_recode", "detailed_occupation_recode", "own_business_or_self_employed", "veterans_benefits", "year"):
            cols[name] = rng.integers(0, 4, n)
        elif name == "income_level":
            cols[name] = np.where(cols["age"] + rng.integers(0, 30, n) > 80, " 50000+.", " - 50000.")
        else:
            cols[name] = rng.choice([" Not in universe", " Yes", " No", " ?"], n)
    return pd.DataFrame(cols)


def test_classification_with_grn_and_vsn(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the example writes its CSV files to the working folder
    data = census_like(N_TRAIN, 0)  # test: pd.read_csv(data_url, header=None, names=CSV_HEADER)
    test_data = census_like(N_TEST, 1)  # test: pd.read_csv(test_data_url, ...)
    print(f"Data shape: {data.shape}")
    print(f"Test data shape: {test_data.shape}")
    data["income_level"] = data["income_level"].apply(lambda x: 0 if x == " - 50000." else 1)
    test_data["income_level"] = test_data["income_level"].apply(lambda x: 0 if x == " - 50000." else 1)
    random_selection = np.random.rand(len(data.index)) <= 0.85
    train_data = data[random_selection]
    valid_data = data[~random_selection]
    train_data_file = "train_data.csv"
    valid_data_file = "valid_data.csv"
    test_data_file = "test_data.csv"
    train_data.to_csv(train_data_file, index=False, header=False)
    valid_data.to_csv(valid_data_file, index=False, header=False)
    test_data.to_csv(test_data_file, index=False, header=False)
    TARGET_FEATURE_NAME = "income_level"
    WEIGHT_COLUMN_NAME = "instance_weight"
    NUMERIC_FEATURE_NAMES = ["age", "wage_per_hour", "capital_gains", "capital_losses", "dividends_from_stocks", "num_persons_worked_for_employer", "weeks_worked_in_year"]
    CATEGORICAL_FEATURES_WITH_VOCABULARY = {
        feature_name: sorted([str(value) for value in list(data[feature_name].unique())])
        for feature_name in CSV_HEADER
        if feature_name
        not in list(NUMERIC_FEATURE_NAMES + [WEIGHT_COLUMN_NAME, TARGET_FEATURE_NAME])
    }
    FEATURE_NAMES = NUMERIC_FEATURE_NAMES + list(CATEGORICAL_FEATURES_WITH_VOCABULARY.keys())
    COLUMN_DEFAULTS = [[0.0] if feature_name in NUMERIC_FEATURE_NAMES + [TARGET_FEATURE_NAME, WEIGHT_COLUMN_NAME] else ["NA"] for feature_name in CSV_HEADER]
    from chainrule.keras.layers import StringLookup
    def process(features, target):
        for feature_name in features:
            if feature_name in CATEGORICAL_FEATURES_WITH_VOCABULARY:
                features[feature_name] = tf.cast(features[feature_name], tf.dtypes.string)
        weight = features.pop(WEIGHT_COLUMN_NAME)
        return features, target, weight
    def get_dataset_from_csv(csv_file_path, shuffle=False, batch_size=128):
        dataset = tf.data.experimental.make_csv_dataset(csv_file_path, batch_size=batch_size, column_names=CSV_HEADER, column_defaults=COLUMN_DEFAULTS, label_name=TARGET_FEATURE_NAME, num_epochs=1, header=False, shuffle=shuffle).map(process)
        return dataset
    def create_model_inputs():
        inputs = {}
        for feature_name in FEATURE_NAMES:
            if feature_name in NUMERIC_FEATURE_NAMES:
                inputs[feature_name] = layers.Input(name=feature_name, shape=(), dtype=tf.float32)
            else:
                inputs[feature_name] = layers.Input(name=feature_name, shape=(), dtype=tf.string)
        return inputs
    def encode_inputs(inputs, encoding_size):
        encoded_features = []
        for feature_name in inputs:
            if feature_name in CATEGORICAL_FEATURES_WITH_VOCABULARY:
                vocabulary = CATEGORICAL_FEATURES_WITH_VOCABULARY[feature_name]
                index = StringLookup(vocabulary=vocabulary, mask_token=None, num_oov_indices=0)
                value_index = index(inputs[feature_name])
                embedding_ecoder = layers.Embedding(input_dim=len(vocabulary), output_dim=encoding_size)
                encoded_feature = embedding_ecoder(value_index)
            else:
                encoded_feature = tf.expand_dims(inputs[feature_name], -1)
                encoded_feature = layers.Dense(units=encoding_size)(encoded_feature)
            encoded_features.append(encoded_feature)
        return encoded_features
    class GatedLinearUnit(layers.Layer):
        def __init__(self, units):
            super(GatedLinearUnit, self).__init__()
            self.linear = layers.Dense(units)
            self.sigmoid = layers.Dense(units, activation="sigmoid")
        def call(self, inputs):
            return self.linear(inputs) * self.sigmoid(inputs)
    class GatedResidualNetwork(layers.Layer):
        def __init__(self, units, dropout_rate):
            super(GatedResidualNetwork, self).__init__()
            self.units = units
            self.elu_dense = layers.Dense(units, activation="elu")
            self.linear_dense = layers.Dense(units)
            self.dropout = layers.Dropout(dropout_rate)
            self.gated_linear_unit = GatedLinearUnit(units)
            self.layer_norm = layers.LayerNormalization()
            self.project = layers.Dense(units)
        def call(self, inputs):
            x = self.elu_dense(inputs)
            x = self.linear_dense(x)
            x = self.dropout(x)
            if inputs.shape[-1] != self.units:
                inputs = self.project(inputs)
            x = inputs + self.gated_linear_unit(x)
            x = self.layer_norm(x)
            return x
    class VariableSelection(layers.Layer):
        def __init__(self, num_features, units, dropout_rate):
            super(VariableSelection, self).__init__()
            self.grns = list()
            for idx in range(num_features):
                grn = GatedResidualNetwork(units, dropout_rate)
                self.grns.append(grn)
            self.grn_concat = GatedResidualNetwork(units, dropout_rate)
            self.softmax = layers.Dense(units=num_features, activation="softmax")
        def call(self, inputs):
            v = layers.concatenate(inputs)
            v = self.grn_concat(v)
            v = tf.expand_dims(self.softmax(v), axis=-1)
            x = []
            for idx, input in enumerate(inputs):
                x.append(self.grns[idx](input))
            x = tf.stack(x, axis=1)
            outputs = tf.squeeze(tf.matmul(v, x, transpose_a=True), axis=1)
            return outputs
    def create_model(encoding_size):
        inputs = create_model_inputs()
        feature_list = encode_inputs(inputs, encoding_size)
        num_features = len(feature_list)
        features = VariableSelection(num_features, encoding_size, dropout_rate)(feature_list)
        outputs = layers.Dense(units=1, activation="sigmoid")(features)
        model = keras.Model(inputs=inputs, outputs=outputs)
        return model
    learning_rate = 0.001
    dropout_rate = 0.15
    batch_size = 265
    num_epochs = NUM_EPOCHS
    encoding_size = 16
    model = create_model(encoding_size)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=keras.losses.BinaryCrossentropy(), metrics=[keras.metrics.BinaryAccuracy(name="accuracy")])
    early_stopping = tf.keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    print("Start training the model...")
    train_dataset = get_dataset_from_csv(train_data_file, shuffle=True, batch_size=batch_size)
    valid_dataset = get_dataset_from_csv(valid_data_file, batch_size=batch_size)
    history = model.fit(train_dataset, epochs=num_epochs, validation_data=valid_dataset, callbacks=[early_stopping])
    print("Model training finished.")
    print("Evaluating model performance...")
    test_dataset = get_dataset_from_csv(test_data_file, batch_size=batch_size)
    _, accuracy = model.evaluate(test_dataset)
    print(f"Test accuracy: {round(accuracy * 100, 2)}%")

    # test: 40 features (7 numeric, 33 categorical; the instance weight is no feature) each encoded to
    # encoding_size, weighted into one vector by a softmax over the features
    assert len(FEATURE_NAMES) == 40 and len(CATEGORICAL_FEATURES_WITH_VOCABULARY) == 33
    assert len(history.history["loss"]) == NUM_EPOCHS and np.isfinite(history.history["val_loss"]).all()
    assert 0.0 <= accuracy <= 1.0
    selection = [layer for layer in model.layers if isinstance(layer, VariableSelection)][0]
    assert len(selection.grns) == 40 and selection.softmax.kernel.shape == (encoding_size, 40)
