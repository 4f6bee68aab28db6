"""keras.constraints and the layers' *_constraint arguments: the projections against NumPy, the optimizer applying
``variable.constraint`` after each update (eagerly, in fit's traced and replayed step, in a tf.function step), and
config round trips."""
import json

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras import constraints, layers

EPS = 1e-7


def np_norms(w, axis):
    return np.sqrt(np.sum(w * w, axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=True))


def np_max_norm(w, max_value, axis=0):
    n = np_norms(w, axis)
    return w * (np.clip(n, 0, max_value) / (EPS + n))


@pytest.fixture
def w():
    return np.random.default_rng(0).normal(size=(4, 3, 5)).astype("float32") * 3


@pytest.mark.parametrize("axis", [0, 1, [0, 1]])
def test_projections_match_numpy(w, axis):
    t = tf.constant(w)
    np.testing.assert_allclose(constraints.MaxNorm(1.5, axis=axis)(t).numpy(), np_max_norm(w, 1.5, axis), rtol=1e-6)
    np.testing.assert_allclose(constraints.UnitNorm(axis=axis)(t).numpy(), w / (EPS + np_norms(w, axis)), rtol=1e-6)
    n = np_norms(w, axis)
    desired = 0.3 * np.clip(n, 2.0, 4.0) + 0.7 * n
    np.testing.assert_allclose(constraints.MinMaxNorm(2.0, 4.0, rate=0.3, axis=axis)(t).numpy(),
                               w * (desired / (EPS + n)), rtol=1e-6)
    np.testing.assert_array_equal(constraints.NonNeg()(t).numpy(), np.maximum(w, 0))
    np.testing.assert_array_equal(constraints.Constraint()(t).numpy(), w)


def test_names_get_serialize_deserialize():
    assert constraints.max_norm is constraints.MaxNorm and constraints.non_neg is constraints.NonNeg
    assert constraints.unit_norm is constraints.UnitNorm and constraints.min_max_norm is constraints.MinMaxNorm
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert isinstance(constraints.get("NonNeg"), constraints.NonNeg)
    assert isinstance(constraints.get(constraints.UnitNorm), constraints.UnitNorm)
    assert constraints.get(None) is None
    fn = lambda v: v  # noqa: E731  (a plain callable is a constraint too)
    assert constraints.get(fn) is fn
    spec = constraints.serialize(constraints.MinMaxNorm(0.5, 2.0, rate=0.5, axis=[0, 1]))
    assert spec == {"class_name": "MinMaxNorm",
                    "config": {"min_value": 0.5, "max_value": 2.0, "rate": 0.5, "axis": [0, 1]}}
    back = constraints.deserialize(json.loads(json.dumps(spec)))
    assert isinstance(back, constraints.MinMaxNorm) and back.get_config() == spec["config"]
    assert constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}  # Keras's defaults
    with pytest.raises(ValueError, match="Could not interpret constraint identifier"):
        constraints.get("no_such_constraint")
    with pytest.raises(ValueError, match="Could not interpret constraint identifier"):
        constraints.get(int)
    assert keras.constraints is constraints


def test_variable_and_add_weight_carry_the_constraint():
    v = tf.Variable([1.0, -1.0], constraint=constraints.NonNeg())
    assert isinstance(v.constraint, constraints.NonNeg)
    assert tf.Variable([1.0]).constraint is None
    with pytest.raises(ValueError, match="must be a callable"):
        tf.Variable([1.0], constraint=3)
    layer = layers.Layer()
    assert isinstance(layer.add_weight(shape=(2,), constraint="non_neg").constraint, constraints.NonNeg)


def dense_model(**kwargs):
    model = keras.Sequential([layers.Dense(2, input_shape=(3,), **kwargs)])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    return model


def test_fit_applies_constraints_after_each_update_as_numpy_does():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 3)).astype("float32")
    y = (rng.normal(size=(8, 2)) * 5).astype("float32")
    model = dense_model(kernel_constraint=constraints.MaxNorm(0.8), bias_constraint="non_neg")
    kernel, bias = model.get_weights()
    # several epochs of one batch: the step is traced once and replayed, the constraint with it
    model.fit(x, y, batch_size=8, epochs=4, shuffle=False, verbose=0)
    for _ in range(4):
        err = x @ kernel + bias - y
        grad_k = 2 * x.T @ err / err.size
        grad_b = 2 * err.sum(0) / err.size
        kernel = np_max_norm(kernel - 0.5 * grad_k, 0.8)
        bias = np.maximum(bias - 0.5 * grad_b, 0)
    got_k, got_b = model.get_weights()
    np.testing.assert_allclose(got_k, kernel, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_b, bias, rtol=1e-5, atol=1e-6)
    assert np.all(np.linalg.norm(got_k, axis=0) <= 0.8 + 1e-5)


def test_custom_loop_and_tf_function_apply_constraints():
    layer = layers.Dense(3, kernel_constraint=constraints.UnitNorm())
    layer.build((None, 4))
    opt = keras.optimizers.Adam(0.1)
    x = tf.constant(np.ones((2, 4), "float32"))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x) ** 2)
        grads = tape.gradient(loss, layer.trainable_variables)
        opt.apply_gradients(zip(grads, layer.trainable_variables))

    for _ in range(3):
        step()
        np.testing.assert_allclose(np.linalg.norm(layer.kernel.numpy(), axis=0), 1.0, rtol=1e-5)


def test_a_subclass_update_step_is_followed_by_the_constraint():
    class HalfStep(keras.optimizers.Optimizer):
        def update_step(self, gradient, variable, slots, learning_rate):
            variable -= 0.5 * gradient

    v = tf.Variable([1.0, 2.0], constraint=lambda t: tf.clip_by_value(t, 0.0, 1.5))
    HalfStep().apply_gradients([(tf.constant([4.0, -4.0]), v)])
    np.testing.assert_array_equal(v.numpy(), [0.0, 1.5])


def nonneg_everywhere(model, x, y):
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    model.fit(x, y, epochs=2, batch_size=len(x), verbose=0)


@pytest.mark.parametrize("make, shape, constrained", [
    (lambda: layers.Conv2D(2, 3, kernel_constraint="non_neg", bias_constraint="non_neg"), (5, 5, 2),
     ["kernel", "bias"]),
    (lambda: layers.Conv1D(2, 3, kernel_constraint="non_neg"), (6, 2), ["kernel"]),
    (lambda: layers.Conv2DTranspose(2, 3, kernel_constraint="non_neg"), (4, 4, 2), ["kernel"]),
    (lambda: layers.DepthwiseConv2D(3, depthwise_constraint="non_neg", bias_constraint="non_neg"), (5, 5, 2),
     ["kernel", "bias"]),
    (lambda: layers.SeparableConv2D(2, 3, depthwise_constraint="non_neg", pointwise_constraint="non_neg"),
     (5, 5, 2), ["depthwise_kernel", "pointwise_kernel"]),
    (lambda: layers.EinsumDense("ab,bc->ac", output_shape=2, bias_axes="c", kernel_constraint="non_neg",
                                bias_constraint="non_neg"), (3,), ["kernel", "bias"]),
    (lambda: layers.LSTM(2, kernel_constraint="non_neg", recurrent_constraint="non_neg", bias_constraint="non_neg"),
     (4, 3), ["kernel", "recurrent_kernel", "bias"]),
    (lambda: layers.GRU(2, recurrent_constraint="non_neg"), (4, 3), ["recurrent_kernel"]),
    (lambda: layers.SimpleRNN(2, kernel_constraint="non_neg"), (4, 3), ["kernel"]),
])
def test_layers_take_and_apply_their_constraints(make, shape, constrained):
    rng = np.random.default_rng(2)
    layer = make()
    model = keras.Sequential([keras.Input(shape), layer, layers.Flatten(), layers.Dense(1)])
    x = rng.normal(size=(4,) + shape).astype("float32")
    y = rng.normal(size=(4, 1)).astype("float32") * 10
    nonneg_everywhere(model, x, y)
    found = {v.name.split("/")[-1]: v for v in layer.weights}
    for name in constrained:
        assert isinstance(found[name].constraint, constraints.NonNeg), name
        assert found[name].numpy().min() >= 0, name
    config = layer.get_config()
    for key in (k for k in config if k.endswith("_constraint") and config[k] is not None):
        assert config[key] == {"class_name": "NonNeg", "config": {}}
    again = type(layer).from_config(config)
    assert {k: v for k, v in again.get_config().items() if k.endswith("_constraint")} == \
        {k: v for k, v in config.items() if k.endswith("_constraint")}


def test_embedding_normalization_and_attention_constraints():
    emb = layers.Embedding(5, 3, embeddings_constraint=constraints.MaxNorm(0.1, axis=1))
    model = keras.Sequential([keras.Input((2,), dtype="int32"), emb, layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    model.fit(np.array([[1, 2], [3, 4]]), np.array([[5.0], [-5.0]], "float32"), epochs=2, verbose=0)
    assert np.all(np.linalg.norm(emb.embeddings.numpy(), axis=1) <= 0.1 + 1e-6)

    for norm in (layers.BatchNormalization(gamma_constraint="non_neg", beta_constraint="non_neg"),
                 layers.LayerNormalization(gamma_constraint="non_neg", beta_constraint="non_neg")):
        norm.build((None, 3))
        assert isinstance(norm.gamma.constraint, constraints.NonNeg)
        assert isinstance(norm.beta.constraint, constraints.NonNeg)
        assert norm.get_config()["gamma_constraint"] == {"class_name": "NonNeg", "config": {}}

    mha = layers.MultiHeadAttention(2, 4, kernel_constraint="unit_norm", bias_constraint="non_neg")
    q = np.ones((1, 3, 4), "float32")
    mha(q, q)
    kinds = {v.name.split("/")[-1]: type(v.constraint) for v in mha.weights}
    assert kinds == {"kernel": constraints.UnitNorm, "bias": constraints.NonNeg}
    assert mha.get_config()["kernel_constraint"] == {"class_name": "UnitNorm", "config": {"axis": 0}}


def test_model_json_round_trip_keeps_constraints():
    model = dense_model(kernel_constraint=constraints.MaxNorm(3, axis=[0]))
    again = keras.models.model_from_json(model.to_json())
    assert again.layers[0].kernel_constraint.get_config() == {"max_value": 3, "axis": [0]}


def test_keras_file_round_trip_keeps_constraints(tmp_path):
    model = dense_model(kernel_constraint=constraints.MaxNorm(0.5), bias_constraint="non_neg")
    model.fit(np.ones((4, 3), "float32"), np.full((4, 2), 9.0, "float32"), verbose=0)
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    dense = again.layers[0]
    assert dense.kernel_constraint.get_config() == {"max_value": 0.5, "axis": 0}
    assert isinstance(dense.kernel.constraint, constraints.MaxNorm)
    assert isinstance(dense.bias.constraint, constraints.NonNeg)
    again.fit(np.ones((4, 3), "float32"), np.full((4, 2), 9.0, "float32"), epochs=3, verbose=0)
    assert np.all(np.linalg.norm(dense.kernel.numpy(), axis=0) <= 0.5 + 1e-6)
