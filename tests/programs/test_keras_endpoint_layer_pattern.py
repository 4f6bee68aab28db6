"""keras-io example "Endpoint layer pattern", run on chainrule.

Source: https://keras.io/examples/keras_recipes/endpoint_layer_pattern/ (keras-team/keras-io,
examples/keras_recipes/endpoint_layer_pattern.py, "Last modified: 2019/05/10").

The example's code is kept as written, one test per section, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow import keras` -> `from chainrule import keras`;
- the random data has 256 rows instead of 1000 (`N`);
- lines marked `# test:` check what the program produces.
"""

import numpy as np

import chainrule as tf
from chainrule import keras

N = 256  # test: the example's 1000 random rows


class LogisticEndpoint(keras.layers.Layer):
    def __init__(self, name=None):
        super(LogisticEndpoint, self).__init__(name=name)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
        self.accuracy_fn = keras.metrics.BinaryAccuracy(name="accuracy")

    def call(self, logits, targets=None, sample_weight=None):
        if targets is not None:
            # Compute the training-time loss value and add it
            # to the layer using `self.add_loss()`.
            loss = self.loss_fn(targets, logits, sample_weight)
            self.add_loss(loss)

            # Log the accuracy as a metric (we could log arbitrary metrics,
            # including different metrics for training and inference.
            self.add_metric(self.accuracy_fn(targets, logits, sample_weight))

        # Return the inference-time prediction tensor (for `.predict()`).
        return tf.nn.softmax(logits)


def _functional_model():
    inputs = keras.Input((764,), name="inputs")
    logits = keras.layers.Dense(1)(inputs)
    targets = keras.Input((1,), name="targets")
    sample_weight = keras.Input((1,), name="sample_weight")
    preds = LogisticEndpoint()(logits, targets, sample_weight)
    model = keras.Model([inputs, targets, sample_weight], preds)

    data = {
        "inputs": np.random.random((N, 764)),
        "targets": np.random.random((N, 1)),
        "sample_weight": np.random.random((N, 1)),
    }

    model.compile(keras.optimizers.Adam(1e-3))
    history = model.fit(data, epochs=2)
    return model, data, history


def test_endpoint_layer_in_functional_model():
    model, data, history = _functional_model()

    # test: the loss comes from add_loss and the accuracy from add_metric, both logged by fit
    assert "loss" in history.history and "accuracy" in history.history
    assert len(history.history["loss"]) == 2
    assert all(np.isfinite(history.history["loss"]))
    # test: BinaryAccuracy compares the targets with 0/1 predictions, and random targets in (0, 1) never equal them
    assert history.history["accuracy"] == [0.0, 0.0]
    # test: the model's add_loss value is the weighted binary cross-entropy of the logits
    (dense,) = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    logits = data["inputs"].astype("float32") @ np.asarray(dense.kernel) + np.asarray(dense.bias)
    t, w = data["targets"], data["sample_weight"]
    bce = np.maximum(logits, 0) - logits * t + np.log1p(np.exp(-np.abs(logits)))
    expected = float(np.sum(bce[:, 0] * w[:, 0]) / N)
    assert np.isclose(float(model.evaluate(data, verbose=0, batch_size=N)[0]), expected, rtol=1e-4)


def test_exporting_an_inference_only_model():
    model, _, _ = _functional_model()

    inputs = keras.Input((764,), name="inputs")
    logits = keras.layers.Dense(1)(inputs)
    preds = LogisticEndpoint()(logits, targets=None, sample_weight=None)
    inference_model = keras.Model(inputs, preds)

    inference_model.set_weights(model.get_weights())

    preds = inference_model.predict(np.random.random((N, 764)))

    # test: the weights are the trained model's; softmax over one logit is 1 everywhere
    for a, b in zip(inference_model.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert preds.shape == (N, 1)
    np.testing.assert_allclose(preds, 1.0)


class LogReg(keras.Model):
    def __init__(self):
        super(LogReg, self).__init__()
        self.dense = keras.layers.Dense(1)
        self.logistic_endpoint = LogisticEndpoint()

    def call(self, inputs):
        # Note that all inputs should be in the first argument
        # since we want to be able to call `model.fit(inputs)`.
        logits = self.dense(inputs["inputs"])
        preds = self.logistic_endpoint(
            logits=logits,
            targets=inputs["targets"],
            sample_weight=inputs["sample_weight"],
        )
        return preds


def test_endpoint_layer_in_subclassed_model():
    model = LogReg()
    data = {
        "inputs": np.random.random((N, 764)),
        "targets": np.random.random((N, 1)),
        "sample_weight": np.random.random((N, 1)),
    }

    model.compile(keras.optimizers.Adam(1e-3))
    history = model.fit(data, epochs=2)

    # test: fit trained on the endpoint's loss and logged its accuracy
    assert "loss" in history.history and "accuracy" in history.history
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_endpoint_metric_is_reset_and_reported_by_evaluate():
    # test: 0/1 targets: evaluate's accuracy is the endpoint metric's value on the evaluated data only
    model = LogReg()
    data = {
        "inputs": np.random.random((N, 764)),
        "targets": (np.random.random((N, 1)) > 0.5).astype("float64"),
        "sample_weight": np.ones((N, 1)),
    }
    model.compile(keras.optimizers.Adam(1e-3))
    model.fit(data, epochs=1, verbose=0)
    logs = model.evaluate(data, return_dict=True, verbose=0)
    logits = data["inputs"].astype("float32") @ np.asarray(model.dense.kernel) + np.asarray(model.dense.bias)
    expected = np.mean((logits > 0.5) == (data["targets"] > 0.5))
    assert set(logs) == {"loss", "accuracy"}
    assert np.isclose(logs["accuracy"], expected)
