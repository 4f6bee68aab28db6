"""keras-io example "Writing Keras Models With TensorFlow NumPy", run on chainrule.

Source: https://keras.io/examples/keras_recipes/tensorflow_numpy_models/ (keras-team/keras-io,
examples/keras_recipes/tensorflow_numpy_models.py, "Last modified: 2021/08/28").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `import tensorflow.experimental.numpy as
  tnp` -> `import chainrule.experimental.numpy as tnp`, `import keras` -> `from chainrule import keras`,
  `import keras.layers as layers` -> `from chainrule.keras import layers`;
- Boston housing (`tf.keras.datasets.boston_housing.load_data(...)`) is replaced by 404 training and 102 test
  synthetic rows of its 13 features (float64, as the real arrays) with a linear target;
- `epochs=200` is 5; the TensorBoard logs go to a temporary working folder;
- lines marked `# test:` check what the program produces.

What it relies on: tf.experimental.numpy (matmul, maximum, mean, square on tensors and variables, differentiable),
a Model subclass building its weights in build(input_shape), a loss function written with tnp, model.build((None,
13)) then summary(), tf.distribute.get_strategy().scope(), keras.callbacks.TensorBoard.
"""

import chainrule as tf
import chainrule.experimental.numpy as tnp
from chainrule import keras
from chainrule.keras import layers
import numpy as np

EPOCHS = 5  # test: the example's 200

tnp.experimental_enable_numpy_behavior()


def boston_housing_like(seed=0):
    """test: stands in for boston_housing.load_data(test_split=0.2): (404, 13) and (102, 13) float64 features."""
    rng = np.random.default_rng(seed)
    x_all = rng.uniform(0, 100, (506, 13))
    y_all = x_all @ rng.uniform(0, 0.1, 13) + 5
    return (x_all[:404], y_all[:404]), (x_all[404:], y_all[404:])


(x_train, y_train), (x_test, y_test) = boston_housing_like()
ERRORS = []  # test: the percent errors evaluate_model prints, before and after training


def evaluate_model(model: keras.Model):
    [loss, percent_error] = model.evaluate(x_test, y_test, verbose=0)
    print("Mean absolute percent error before training: ", percent_error)
    before = percent_error  # test
    model.fit(x_train, y_train, epochs=EPOCHS, verbose=0)
    [loss, percent_error] = model.evaluate(x_test, y_test, verbose=0)
    print("Mean absolute percent error after training:", percent_error)
    ERRORS.append((before, percent_error))  # test

class TNPForwardFeedRegressionNetwork(keras.Model):
    def __init__(self, blocks=None, **kwargs):
        super(TNPForwardFeedRegressionNetwork, self).__init__(**kwargs)
        if not isinstance(blocks, list):
            raise ValueError(f"blocks must be a list, got blocks={blocks}")
        self.blocks = blocks
        self.block_weights = None
        self.biases = None
    def build(self, input_shape):
        current_shape = input_shape[1]
        self.block_weights = []
        self.biases = []
        for i, block in enumerate(self.blocks):
            self.block_weights.append(self.add_weight(shape=(current_shape, block), trainable=True, name=f"block-{i}"))
            self.biases.append(self.add_weight(shape=(block,), trainable=True, name=f"bias-{i}"))
            current_shape = block
        self.linear_layer = self.add_weight(shape=(current_shape, 1), name="linear_projector", trainable=True)
    def call(self, inputs):
        activations = inputs
        for w, b in zip(self.block_weights, self.biases):
            activations = tnp.matmul(activations, w) + b
            activations = tnp.maximum(activations, 0.0)
        return tnp.matmul(activations, self.linear_layer)


def test_tensorflow_numpy_models(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the TensorBoard logs go to ./logs
    model = TNPForwardFeedRegressionNetwork(blocks=[3, 3])
    model.compile(optimizer="adam", loss="mean_squared_error", metrics=[keras.metrics.MeanAbsolutePercentageError()])
    evaluate_model(model)
    def tnp_mse(y_true, y_pred):
        return tnp.mean(tnp.square(y_true - y_pred), axis=0)
    keras.backend.clear_session()
    model = TNPForwardFeedRegressionNetwork(blocks=[3, 3])
    model.compile(optimizer="adam", loss=tnp_mse, metrics=[keras.metrics.MeanAbsolutePercentageError()])
    evaluate_model(model)
    def tnp_relu(x):
        return tnp.maximum(x, 0)
    class TNPDense(keras.layers.Layer):
        def __init__(self, units, activation=None):
            super().__init__()
            self.units = units
            self.activation = activation
        def build(self, input_shape):
            self.w = self.add_weight(name="weights", shape=(input_shape[1], self.units), initializer="random_normal", trainable=True)
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="random_normal", trainable=True)
        def call(self, inputs):
            outputs = tnp.matmul(inputs, self.w) + self.bias
            if self.activation:
                return self.activation(outputs)
            return outputs
    def create_layered_tnp_model():
        return keras.Sequential([TNPDense(3, activation=tnp_relu), TNPDense(3, activation=tnp_relu), TNPDense(1)])
    model = create_layered_tnp_model()
    model.compile(optimizer="adam", loss="mean_squared_error", metrics=[keras.metrics.MeanAbsolutePercentageError()])
    model.build((None, 13,))
    model.summary()
    evaluate_model(model)
    def create_mixed_model():
        return keras.Sequential([TNPDense(3, activation=tnp_relu), layers.Dense(3, activation="relu"), TNPDense(1)])
    model = create_mixed_model()
    model.compile(optimizer="adam", loss="mean_squared_error", metrics=[keras.metrics.MeanAbsolutePercentageError()])
    model.build((None, 13,))
    model.summary()
    evaluate_model(model)
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        strategy = tf.distribute.MirroredStrategy(gpus)
    else:
        strategy = tf.distribute.get_strategy()
    print("Running with strategy:", str(strategy.__class__.__name__))
    with strategy.scope():
        model = create_layered_tnp_model()
        model.compile(optimizer="adam", loss="mean_squared_error", metrics=[keras.metrics.MeanAbsolutePercentageError()])
        model.build((None, 13,))
        model.summary()
        evaluate_model(model)
    keras.backend.clear_session()
    models = [(TNPForwardFeedRegressionNetwork(blocks=[3, 3]), "TNPForwardFeedRegressionNetwork"), (create_layered_tnp_model(), "layered_tnp_model"), (create_mixed_model(), "mixed_model")]
    for model, model_name in models:
        model.compile(optimizer="adam", loss="mean_squared_error", metrics=[keras.metrics.MeanAbsolutePercentageError()])
        model.fit(x_train, y_train, epochs=EPOCHS, verbose=0, callbacks=[keras.callbacks.TensorBoard(log_dir=f"logs/{model_name}")])

    # test: five models trained through evaluate_model, each ending with a finite error; the TNP layers' weights
    # are the model's (3 blocks: 13*3+3, 3*3+3, 3+1)
    assert len(ERRORS) == 5 and all(np.isfinite(after) for _, after in ERRORS)
    assert sum(after < before for before, after in ERRORS) >= 4
    assert models[1][0].count_params() == 58 and len(models[0][0].trainable_weights) == 5
    assert (tmp_path / "logs" / "mixed_model").is_dir()
