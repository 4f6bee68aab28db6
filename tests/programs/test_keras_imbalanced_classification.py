"""keras-io example "Imbalanced classification: credit card fraud detection", run on chainrule.

Source: https://keras.io/examples/structured_data/imbalanced_classification/ (keras-team/keras-io,
examples/structured_data/imbalanced_classification.py, "Last modified: 2020/04/17").

The example's code is kept as written, except:
- the import line: `from tensorflow import keras` -> `from chainrule import keras`;
- Kaggle's creditcard.csv (`fname = "/Users/fchollet/Downloads/creditcard.csv"`, 284,807 rows) is replaced by a file
  of the same 31 columns (Time, V1-V28, Amount, a quoted "Class") with 3000 synthetic rows, 1% of them frauds that
  differ in V1-V4, written to a temporary folder;
- `epochs=30` is 3;
- lines marked `# test:` check what the program produces.

What it relies on: Dense(input_shape=...) in a Sequential, the confusion-matrix metrics and Precision/Recall with
their names, class_weight in fit, ModelCheckpoint writing an .h5 file per epoch.
"""

import numpy as np

from chainrule import keras  # test: the example imports it after reading the CSV; here at the top

EPOCHS = 3  # test: the example's 30


def write_creditcard_like(fname, n=3000, seed=0):
    """test: stands in for Kaggle's creditcard.csv."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 30)).astype("float32")
    X[:, 0] = rng.uniform(0, 172792, n)
    X[:, 29] = rng.exponential(88, n)
    y = (rng.random(n) < 0.01).astype(int)
    X[y == 1, 1:5] += 3
    with open(fname, "w") as f:
        f.write(",".join(['"Time"'] + [f'"V{i}"' for i in range(1, 29)] + ['"Amount"', '"Class"']) + "\n")
        for row, t in zip(X, y):
            f.write(",".join(f"{v:.6f}" for v in row) + f',"{t}"\n')


def test_imbalanced_classification(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the checkpoints go to the working folder
    fname = "creditcard.csv"
    write_creditcard_like(fname)

    all_features = []
    all_targets = []
    with open(fname) as f:
        for i, line in enumerate(f):
            if i == 0:
                print("HEADER:", line.strip())
                continue  # Skip header
            fields = line.strip().split(",")
            all_features.append([float(v.replace('"', "")) for v in fields[:-1]])
            all_targets.append([int(fields[-1].replace('"', ""))])
            if i == 1:
                print("EXAMPLE FEATURES:", all_features[-1])
    features = np.array(all_features, dtype="float32")
    targets = np.array(all_targets, dtype="uint8")
    print("features.shape:", features.shape)
    print("targets.shape:", targets.shape)
    num_val_samples = int(len(features) * 0.2)
    train_features = features[:-num_val_samples]
    train_targets = targets[:-num_val_samples]
    val_features = features[-num_val_samples:]
    val_targets = targets[-num_val_samples:]
    print("Number of training samples:", len(train_features))
    print("Number of validation samples:", len(val_features))
    counts = np.bincount(train_targets[:, 0])
    print("Number of positive samples in training data: {} ({:.2f}% of total)".format(counts[1], 100 * float(counts[1]) / len(train_targets)))
    weight_for_0 = 1.0 / counts[0]
    weight_for_1 = 1.0 / counts[1]
    mean = np.mean(train_features, axis=0)
    train_features -= mean
    val_features -= mean
    std = np.std(train_features, axis=0)
    train_features /= std
    val_features /= std
    model = keras.Sequential(
        [
            keras.layers.Dense(
                256, activation="relu", input_shape=(train_features.shape[-1],)
            ),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.summary()
    metrics = [
        keras.metrics.FalseNegatives(name="fn"),
        keras.metrics.FalsePositives(name="fp"),
        keras.metrics.TrueNegatives(name="tn"),
        keras.metrics.TruePositives(name="tp"),
        keras.metrics.Precision(name="precision"),
        keras.metrics.Recall(name="recall"),
    ]
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=metrics)
    callbacks = [keras.callbacks.ModelCheckpoint("fraud_model_at_epoch_{epoch}.h5")]
    class_weight = {0: weight_for_0, 1: weight_for_1}
    history = model.fit(train_features, train_targets, batch_size=2048, epochs=EPOCHS, verbose=2, callbacks=callbacks, validation_data=(val_features, val_targets), class_weight=class_weight)

    # test: the four counts add up to the samples seen; the recall of the rare class is high thanks to class_weight;
    # one checkpoint per epoch, which loads back into the same predictions
    last = {key: values[-1] for key, values in history.history.items()}
    assert last["val_tp"] + last["val_fn"] + last["val_fp"] + last["val_tn"] == len(val_features)
    assert last["tp"] + last["fn"] + last["fp"] + last["tn"] == len(train_features)
    assert last["recall"] > 0.5
    for epoch in range(1, EPOCHS + 1):
        assert (tmp_path / f"fraud_model_at_epoch_{epoch}.h5").is_file()
    reloaded = keras.models.load_model(f"fraud_model_at_epoch_{EPOCHS}.h5")
    np.testing.assert_allclose(reloaded.predict(val_features[:8], verbose=0),
                               model.predict(val_features[:8], verbose=0), rtol=1e-5, atol=1e-6)
