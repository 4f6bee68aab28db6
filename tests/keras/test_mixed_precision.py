"""keras.mixed_precision: dtype policies, layers computing in float16 with float32 weights (autocast), float16 forward
sanity of the common layers against float32, LossScaleOptimizer's dynamic scaling (eagerly and in fit's replayed
step), the optimizers' loss_scale_factor, and the mixed-precision guide's program."""
import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers, mixed_precision
from chainrule.keras.mixed_precision import DTypePolicy, LossScaleOptimizer


@pytest.fixture(autouse=True)
def float32_policy_after():
    yield
    mixed_precision.set_global_policy("float32")


def test_policies_as_keras():
    policy = DTypePolicy("mixed_float16")
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == ("mixed_float16", "float16", "float32")
    assert repr(policy) == '<DTypePolicy "mixed_float16">' and policy.quantization_mode is None
    assert DTypePolicy("float64").compute_dtype == DTypePolicy("float64").variable_dtype == "float64"
    assert DTypePolicy("float16").variable_dtype == "float16"
    assert DTypePolicy("mixed_float16") == policy and DTypePolicy("float32") != policy
    assert DTypePolicy.from_config(policy.get_config()) == policy
    assert mixed_precision.Policy is DTypePolicy and keras.DTypePolicy is DTypePolicy
    assert mixed_precision.LossScaleOptimizer is keras.optimizers.LossScaleOptimizer
    assert mixed_precision.get(np.float64).name == "float64"
    assert mixed_precision.get({"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float16"},
                                "registered_name": None}).name == "float16"
    with pytest.raises(TypeError, match="'name' must be a string"):
        DTypePolicy(3)
    with pytest.raises(ValueError, match="Cannot convert 'mixed_int8' to a mixed precision DTypePolicy"):
        DTypePolicy("mixed_int8")
    with pytest.raises(ValueError, match="no bfloat16"):
        DTypePolicy("mixed_bfloat16")
    with pytest.raises(ValueError, match="Invalid `policy` argument"):
        mixed_precision.set_global_policy(3)


def test_global_policy_and_config():
    assert mixed_precision.global_policy().name == "float32"
    mixed_precision.set_global_policy("mixed_float16")
    assert keras.config.dtype_policy().name == "mixed_float16"
    assert DTypePolicy().name == "mixed_float16"  # no name: the global policy's
    dense = layers.Dense(2)
    assert (dense.dtype_policy.name, dense.compute_dtype, dense.variable_dtype, dense.dtype) == \
        ("mixed_float16", "float16", "float32", "float32")
    assert layers.Dense(2, dtype="float32").compute_dtype == "float32"  # the guide's output layer
    keras.config.set_dtype_policy("float64")
    assert layers.Dense(2).dtype == "float64"
    keras.config.set_dtype_policy(DTypePolicy("float32"))
    assert layers.Dense(2).dtype_policy == DTypePolicy("float32")


def test_layer_computes_in_float16_with_float32_weights():
    dense = layers.Dense(3, activation="relu", dtype="mixed_float16")
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    y = dense(x)
    assert y.dtype == np.float16
    assert dense.kernel.dtype == np.float32 and dense.bias.dtype == np.float32
    expected = np.maximum(x.astype(np.float16) @ dense.kernel.numpy().astype(np.float16), 0)
    np.testing.assert_allclose(y.numpy(), expected, rtol=2e-3, atol=2e-3)
    config = dense.get_config()
    assert config["dtype"] == "mixed_float16"
    assert layers.Dense.from_config(config).compute_dtype == "float16"
    keras3 = dict(config, dtype={"module": "keras", "class_name": "DTypePolicy",
                                 "config": {"name": "mixed_float16"}, "registered_name": None})
    assert layers.Dense.from_config(keras3).dtype_policy.name == "mixed_float16"
    dense.dtype_policy = "float32"
    assert dense(x).dtype == np.float32


def test_gradients_reach_the_float32_variables():
    dense = layers.Dense(3, dtype="mixed_float16")
    x = tf.constant(np.random.default_rng(1).normal(size=(4, 5)).astype("float32"))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.cast(dense(x), "float32") ** 2)
    grad_k, grad_b = tape.gradient(loss, [dense.kernel, dense.bias])
    assert grad_k.dtype == np.float32 and grad_b.dtype == np.float32
    k, b = dense.kernel.numpy(), dense.bias.numpy()
    out = x.numpy() @ k + b
    np.testing.assert_allclose(grad_k.numpy(), x.numpy().T @ (2 * out), rtol=2e-2, atol=2e-2)


def test_autocast_false_weights_and_layers_keep_their_dtype():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.cast_w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
            self.kept_w = self.add_weight(shape=(input_shape[-1],), initializer="ones", autocast=False)

        def call(self, inputs):
            return inputs * self.cast_w, inputs * self.kept_w

    cast_out, kept_out = Scale(dtype="mixed_float16")(np.ones((2, 3), "float32"))
    assert cast_out.dtype == np.float16
    assert kept_out.dtype == np.float32  # float16 * float32 promotes: the weight was read as it is


@pytest.mark.parametrize("make, shape", [
    (lambda: layers.Dense(4, activation="tanh"), (3, 5)),
    (lambda: layers.Conv2D(3, 3, padding="same", activation="relu"), (2, 6, 6, 2)),
    (lambda: layers.DepthwiseConv2D(3), (2, 6, 6, 2)),
    (lambda: layers.SeparableConv2D(3, 3), (2, 6, 6, 2)),
    (lambda: layers.Conv2DTranspose(3, 3, strides=2), (2, 4, 4, 2)),
    (lambda: layers.EinsumDense("abc,cd->abd", (5, 4), bias_axes="d"), (2, 5, 3)),
    (lambda: layers.Normalization(mean=0.5, variance=2.0), (3, 4)),
    (lambda: layers.Conv1D(3, 2), (2, 7, 3)),
    (lambda: layers.MaxPooling2D(), (2, 4, 4, 3)),
    (lambda: layers.GlobalAveragePooling2D(), (2, 4, 4, 3)),
    (lambda: layers.BatchNormalization(), (8, 5)),
    (lambda: layers.LayerNormalization(), (3, 6)),
    (lambda: layers.SimpleRNN(4), (2, 5, 3)),
    (lambda: layers.LSTM(4), (2, 5, 3)),
    (lambda: layers.GRU(4), (2, 5, 3)),
    (lambda: layers.Softmax(), (3, 6)),
])
def test_float16_forward_matches_float32(make, shape):
    x = np.random.default_rng(2).normal(size=shape).astype("float32")
    reference = make()
    expected = reference(x).numpy()
    mixed_precision.set_global_policy("mixed_float16")
    layer = make()
    layer(x)
    layer.set_weights(reference.get_weights())
    got = layer(x)
    assert got.dtype == np.float16
    assert all(w.dtype == np.float32 for w in layer.weights)
    np.testing.assert_allclose(got.numpy().astype("float32"), expected, rtol=2e-2, atol=2e-2)


def test_embedding_and_attention_compute_in_float16():
    mixed_precision.set_global_policy("mixed_float16")
    emb = layers.Embedding(10, 4)
    out = emb(np.array([[1, 2, 3]]))
    assert out.dtype == np.float16 and emb.embeddings.dtype == np.float32
    np.testing.assert_allclose(out.numpy()[0], emb.embeddings.numpy()[[1, 2, 3]], rtol=1e-3, atol=1e-4)
    mha = layers.MultiHeadAttention(2, 4)
    q = np.random.default_rng(3).normal(size=(2, 3, 4)).astype("float32")
    assert mha(q, q).dtype == np.float16
    assert all(w.dtype == np.float32 for w in mha.weights)


def test_loss_scale_optimizer_arguments():
    opt = LossScaleOptimizer(keras.optimizers.SGD(0.1))
    assert opt.initial_scale == 2.0 ** 15 and opt.dynamic_growth_steps == 2000
    assert float(opt.dynamic_scale.numpy()) == 2.0 ** 15 and opt.learning_rate == pytest.approx(0.1)
    opt.learning_rate = 0.05
    assert opt.inner_optimizer.learning_rate == pytest.approx(0.05)
    assert opt.iterations is opt.inner_optimizer.iterations
    with pytest.raises(ValueError, match="no longer supports `dynamic=False`"):
        LossScaleOptimizer(keras.optimizers.SGD(), dynamic=False)
    with pytest.raises(ValueError, match="does not support `clipnorm`"):
        LossScaleOptimizer(keras.optimizers.SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="does not support arguments: `foo`"):
        LossScaleOptimizer(keras.optimizers.SGD(), foo=1)
    config = LossScaleOptimizer(keras.optimizers.Adam(0.01), initial_scale=8.0, dynamic_growth_steps=3).get_config()
    again = keras.optimizers.deserialize({"class_name": "LossScaleOptimizer", "config": config})
    assert isinstance(again.inner_optimizer, keras.optimizers.Adam) and again.initial_scale == 8.0
    assert again.dynamic_growth_steps == 3 and again.learning_rate == pytest.approx(0.01)


def test_dynamic_scaling_unscales_grows_and_halves():
    w = tf.Variable([1.0, 2.0])
    plain = tf.Variable([1.0, 2.0])
    opt = LossScaleOptimizer(keras.optimizers.Adam(0.1), initial_scale=4.0, dynamic_growth_steps=2)
    ref = keras.optimizers.Adam(0.1)
    g = np.array([0.5, -1.0], "float32")
    opt.apply([tf.constant(g * 4.0)], [w])  # scale 4: the unscaled gradient is g
    ref.apply([tf.constant(g)], [plain])
    np.testing.assert_allclose(w.numpy(), plain.numpy(), rtol=1e-6)
    assert float(opt.dynamic_scale.numpy()) == 4.0 and int(opt.step_counter.numpy()) == 1
    opt.apply([tf.constant(g * 4.0)], [w])  # the second finite step in a row: the scale doubles
    ref.apply([tf.constant(g)], [plain])
    np.testing.assert_allclose(w.numpy(), plain.numpy(), rtol=1e-6)
    assert float(opt.dynamic_scale.numpy()) == 8.0 and int(opt.step_counter.numpy()) == 0
    before = w.numpy()
    opt.apply([tf.constant([np.inf, 1.0])], [w])  # skipped, halved
    np.testing.assert_array_equal(w.numpy(), before)
    assert float(opt.dynamic_scale.numpy()) == 4.0 and int(opt.iterations.numpy()) == 2
    state = opt.get_state()
    fresh = LossScaleOptimizer(keras.optimizers.Adam(0.1), initial_scale=4.0, dynamic_growth_steps=2)
    fresh.build([tf.Variable([0.0, 0.0])])
    fresh.set_state(state)
    assert float(fresh.dynamic_scale.numpy()) == 4.0 and int(fresh.iterations.numpy()) == 2


def test_loss_scale_factor_scales_and_unscales():
    opt = keras.optimizers.SGD(0.1, loss_scale_factor=4.0)
    assert float(opt.scale_loss(tf.constant(2.0))) == 8.0
    w = tf.Variable([1.0])
    opt.apply([tf.constant([4.0])], [w])
    np.testing.assert_allclose(w.numpy(), [0.9])
    assert opt.get_config()["loss_scale_factor"] == 4.0


def small_mixed_model(**compile_args):
    mixed_precision.set_global_policy("mixed_float16")
    inputs = keras.Input(shape=(6,))
    x = layers.Dense(16, activation="relu")(inputs)
    x = layers.Dense(3)(x)
    outputs = layers.Activation("softmax", dtype="float32")(x)
    model = keras.Model(inputs, outputs)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.SGD(0.1), **compile_args)
    return model


def test_compile_wraps_the_optimizer_under_mixed_float16():
    assert isinstance(small_mixed_model().optimizer, LossScaleOptimizer)
    assert isinstance(small_mixed_model(auto_scale_loss=False).optimizer, keras.optimizers.SGD)
    mixed_precision.set_global_policy("float32")
    plain = keras.Sequential([layers.Dense(2)])
    plain.compile(optimizer="sgd", loss="mse")
    assert isinstance(plain.optimizer, keras.optimizers.SGD)


def test_fit_replays_read_the_current_scale():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int32") + (x[:, 1] > 1).astype("int32")
    model = small_mixed_model()
    # a scale so large that float16 gradients overflow: each skipped step halves it until the updates go through
    model.optimizer = LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=2.0 ** 28)
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0)
    scale = float(model.optimizer.dynamic_scale.numpy())
    assert scale <= 2.0 ** 18  # halved on each of the first steps
    assert int(model.optimizer.iterations.numpy()) > 0  # some steps applied once the scale came down
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_the_mixed_precision_guide_program():
    """keras-io's Mixed precision guide, scaled down (4096 units -> 64, MNIST -> random digits)."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    inputs = keras.Input(shape=(784,), name="digits")
    dense1 = layers.Dense(64, activation="relu", name="dense_1")
    x = dense1(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    print(dense1.dtype_policy)
    print("x.dtype: %s" % x.dtype.name)
    print("dense1.kernel.dtype: %s" % dense1.kernel.dtype.name)
    x = layers.Dense(10, name="dense_logits")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="predictions")(x)
    print("Outputs dtype: %s" % outputs.dtype.name)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.RMSprop(),
                  metrics=["accuracy"])
    rng = np.random.default_rng(5)
    x_train = rng.random((600, 784)).astype("float32")
    y_train = (x_train[:, :392].sum(1) > x_train[:, 392:].sum(1)).astype("int64")
    initial_weights = model.get_weights()
    history = model.fit(x_train, y_train, batch_size=100, epochs=3, validation_split=0.2, verbose=0)
    test_scores = model.evaluate(x_train, y_train, verbose=0)
    assert x.dtype.name == "float16" and outputs.dtype.name == "float32"
    assert dense1.kernel.dtype.name == "float32"
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert np.isfinite(test_scores[0]) and 0.0 <= test_scores[1] <= 1.0
    model.set_weights(initial_weights)
    loss_scale_optimizer = model.optimizer
    assert isinstance(loss_scale_optimizer, keras.mixed_precision.LossScaleOptimizer)


def test_keras_file_round_trip_keeps_policies_and_the_loss_scale_optimizer(tmp_path):
    model = small_mixed_model()
    x = np.random.default_rng(6).normal(size=(8, 6)).astype("float32")
    model.fit(x, np.arange(8) % 3, verbose=0)
    model.save(tmp_path / "mixed.keras")
    mixed_precision.set_global_policy("float32")
    again = keras.models.load_model(tmp_path / "mixed.keras")
    assert [layer.dtype_policy.name for layer in again.layers[1:]] == ["mixed_float16", "mixed_float16", "float32"]
    assert isinstance(again.optimizer, LossScaleOptimizer)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-3, atol=1e-3)


def test_tensorflow_guide_custom_loop_with_get_scaled_loss():
    """TensorFlow's mixed-precision guide's custom training loop (TF 2's get_scaled_loss/get_unscaled_gradients),
    in a tf.function, scaled down; its updates match plain RMSprop's on the unscaled gradients."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    inputs = keras.Input(shape=(8,))
    x = layers.Dense(16, activation="relu")(inputs)
    x = layers.Dense(4)(x)
    outputs = layers.Activation("softmax", dtype="float32")(x)
    model = keras.Model(inputs, outputs)
    twin = keras.models.clone_model(model)
    twin.set_weights(model.get_weights())
    optimizer = keras.mixed_precision.LossScaleOptimizer(keras.optimizers.RMSprop(0.01), initial_scale=1024.0)
    plain = keras.optimizers.RMSprop(0.01)
    loss_object = keras.losses.SparseCategoricalCrossentropy()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            predictions = model(x)
            loss = loss_object(y, predictions)
            scaled_loss = optimizer.get_scaled_loss(loss)
        scaled_gradients = tape.gradient(scaled_loss, model.trainable_variables)
        gradients = optimizer.get_unscaled_gradients(scaled_gradients)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    rng = np.random.default_rng(7)
    xs = rng.normal(size=(4, 16, 8)).astype("float32")
    ys = rng.integers(0, 4, size=(4, 16))
    for x_batch, y_batch in zip(xs, ys):
        train_step(tf.constant(x_batch), tf.constant(y_batch))
        with tf.GradientTape() as tape:
            loss = loss_object(y_batch, twin(x_batch)) * 1024.0
        scaled = tape.gradient(loss, twin.trainable_variables)
        plain.apply_gradients(zip([g / 1024.0 for g in scaled], twin.trainable_variables))
    for got, want in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert float(optimizer.loss_scale.numpy()) == 1024.0 and int(optimizer.iterations.numpy()) == 4


def cnn_losses(policy: str) -> list:
    keras.utils.set_random_seed(1)
    mixed_precision.set_global_policy(policy)
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"),
                              layers.BatchNormalization(), layers.MaxPooling2D(), layers.SeparableConv2D(4, 2),
                              layers.Flatten(), layers.Dense(3), layers.Activation("softmax", dtype="float32")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 8, 8, 1)).astype("float32")
    y = (x[:, :4].mean((1, 2, 3)) > 0).astype(int) + (x[:, 4:].mean((1, 2, 3)) > 0).astype(int)
    return model.fit(x, y, epochs=4, batch_size=32, verbose=0).history["loss"]


def test_a_cnn_trains_in_mixed_precision_as_in_float32():
    """Backward through float16 convolutions, pooling and BatchNormalization (float32 inside): the losses of a few
    epochs follow float32's."""
    np.testing.assert_allclose(cnn_losses("mixed_float16"), cnn_losses("float32"), rtol=1e-2)
