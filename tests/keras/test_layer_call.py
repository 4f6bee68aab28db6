"""Layer.__call__ as Keras 3: several positional inputs, ``training`` from the outer call, ``mask`` filled in, the
``add_weight`` signature, and ``add_loss`` losses in ``losses``, ``fit``, ``evaluate`` and a GradientTape loop."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


# --- several inputs ----------------------------------------------------------------------------------------------
class Attention(layers.Layer):
    """``softmax(query @ key.T) @ value`` with one projection: two positional inputs, a build per input."""

    def build(self, query_shape, value_shape):
        self.shapes = (query_shape, value_shape)
        self.proj = self.add_weight(shape=(value_shape[-1], query_shape[-1]), name="proj")

    def call(self, query, value):
        keys = cr.matmul(value, self.proj)
        scores = cr.nn.softmax(cr.matmul(query, cr.transpose(keys, (0, 2, 1))), axis=-1)
        return cr.matmul(scores, value)


def test_two_positional_inputs_reach_call_and_build():
    layer = Attention()
    q, v = rand(2, 3, 4), rand(2, 5, 6, seed=1)
    out = layer(q, v)
    assert out.shape == (2, 3, 6)
    assert layer.shapes == ((None, 3, 4), (None, 5, 6))  # build(query_shape, value_shape), batch left open
    assert [w.shape for w in layer.weights] == [(6, 4)]
    assert layer(query=q, value=v).shape == (2, 3, 6)  # the main input by keyword works too


def test_two_positional_symbolic_inputs_make_a_functional_model():
    q_in, v_in = keras.Input((3, 4)), keras.Input((5, 6))
    out = Attention()(q_in, v_in)
    assert out.shape == (None, 3, 6)
    model = keras.Model([q_in, v_in], out)
    q, v = rand(2, 3, 4), rand(2, 5, 6, seed=1)
    np.testing.assert_allclose(model([q, v]).numpy(), model.layers[-1](q, v).numpy(), rtol=1e-6)


def test_calling_without_an_input_or_with_an_unknown_keyword_names_the_layer():
    layer = layers.Dense(2, name="head")
    with pytest.raises(TypeError, match="Layer 'head' .*called without an input"):
        layer()
    with pytest.raises(TypeError, match="Layer 'head' .*unexpected keyword argument 'scale'"):
        layer(rand(1, 3), scale=2)
    with pytest.raises(ValueError, match="only input tensors may be passed as positional arguments"):
        Attention()(rand(1, 2, 2), "value")


# --- training from the outer call ----------------------------------------------------------------------------------
class Probe(layers.Layer):
    """Records the ``training`` value its call receives."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, inputs, training=None):
        self.seen.append(training)
        return inputs


class Outer(layers.Layer):
    def __init__(self):
        super().__init__()
        self.probe = Probe()
        self.dense = layers.Dense(2)

    def call(self, inputs):  # passes no training: the inner layers get the outer call's
        return self.dense(self.probe(inputs))


def test_training_is_taken_from_the_outer_call_else_from_the_call_default():
    outer = Outer()
    x = rand(2, 3)
    outer(x)
    outer(x, training=True)
    outer(x, training=False)
    outer.probe(x, training=True)
    assert outer.probe.seen == [None, True, False, True]

    class Explicit(layers.Layer):
        def __init__(self):
            super().__init__()
            self.first, self.second = Probe(), Probe()

        def call(self, inputs):
            return self.second(self.first(inputs, training=False))  # an explicit value wins for that call only

    explicit = Explicit()
    explicit(x, training=True)
    assert explicit.first.seen == [False] and explicit.second.seen == [True]


def test_fit_and_predict_pass_training_through_a_subclassed_model():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.block = Outer()

        def call(self, inputs):
            return self.block(inputs)

    model = Net()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(rand(4, 3), rand(4, 2), batch_size=4, verbose=0)
    assert set(model.block.probe.seen) == {True}
    model.block.probe.seen.clear()
    model.predict(rand(4, 3), verbose=0)
    assert model.block.probe.seen == [False]


# --- masks ---------------------------------------------------------------------------------------------------------
class MaskedSum(layers.Layer):
    """Reads the mask and pools the steps away, so its output has no mask (as GlobalAveragePooling1D)."""

    def compute_mask(self, inputs, mask=None):
        return None

    def call(self, inputs, mask=None):
        self.mask_seen = mask
        if mask is None:
            return cr.reduce_sum(inputs, axis=1)
        return cr.reduce_sum(inputs * cr.cast(cr.expand_dims(mask, -1), inputs.dtype), axis=1)


class MakeMask(layers.Layer):
    """Marks the steps whose features are all zero as padding (as Masking does)."""

    def call(self, inputs):
        return inputs

    def compute_mask(self, inputs, mask=None):
        return cr.Tensor(np.any(inputs.numpy() != 0, axis=-1))


def test_the_input_mask_reaches_call_and_supporting_layers_pass_it_on():
    x = rand(2, 4, 3)
    x[:, 2:] = 0.0
    masked = MakeMask()(x)
    keep = np.array([[True, True, False, False]] * 2)
    np.testing.assert_array_equal(masked._keras_mask.numpy(), keep)
    dense = layers.Dense(3)
    out = dense(masked)  # Dense supports masking: its output keeps the mask
    np.testing.assert_array_equal(out._keras_mask.numpy(), keep)
    summed = MaskedSum()
    y = summed(out)
    np.testing.assert_array_equal(summed.mask_seen.numpy(), keep)
    np.testing.assert_allclose(y.numpy(), out.numpy()[:, :2].sum(axis=1), rtol=1e-6)
    given = np.array([[True, False, False, False]] * 2)
    summed(out, mask=given)  # an explicit mask wins
    np.testing.assert_array_equal(summed.mask_seen, given)
    assert layers.Dense(3).supports_masking and not layers.Flatten().supports_masking
    assert MakeMask().supports_masking  # it defines compute_mask (Keras 3's default)


def test_a_layer_without_masking_support_drops_the_mask_with_a_warning():
    masked = MakeMask()(rand(2, 4, 3))
    with pytest.warns(UserWarning, match="does not support masking"):
        out = layers.Flatten()(masked)
    assert getattr(out, "_keras_mask", None) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layers.Flatten()(rand(2, 4, 3))  # no mask: no warning


def test_global_average_pooling_1d_and_lambda_use_the_mask():
    x = rand(2, 4, 3)
    keep = np.array([[True, True, False, False], [True, True, True, False]])
    pooled = layers.GlobalAveragePooling1D()(x, mask=keep)
    expected = [x[i][keep[i]].mean(axis=0) for i in range(2)]
    np.testing.assert_allclose(pooled.numpy(), expected, rtol=1e-6)
    assert getattr(pooled, "_keras_mask", None) is None
    seen = []
    marked = layers.Lambda(lambda t, mask=None: seen.append(mask) or t * 2, mask=lambda t, m: m)(x, mask=keep)
    assert seen[0] is keep and marked._keras_mask is keep  # the function gets the mask; compute_mask passes it on


def test_merge_layers_combine_masks():
    a, b = MakeMask()(rand(1, 3, 2)), MakeMask()(np.zeros((1, 3, 2), "float32"))
    added = layers.Add()([a, b])
    np.testing.assert_array_equal(added._keras_mask.numpy(), [[True, True, True]])  # any input keeps a step
    joined = layers.Concatenate(axis=1)([a, b])
    assert joined._keras_mask.shape == (1, 6)


# --- add_weight ----------------------------------------------------------------------------------------------------
def test_add_weight_has_keras3_signature_and_defaults():
    layer = layers.Layer(name="holder")
    scalar = layer.add_weight()
    assert scalar.shape == () and scalar.dtype == np.float32 and scalar.trainable
    kernel = layer.add_weight(shape=(3, 4), name="kernel")
    assert kernel.name == "holder/kernel" and kernel.numpy().std() > 0  # glorot_uniform for floats
    steps = layer.add_weight(shape=(2,), dtype="int64", trainable=False, name="steps")
    assert steps.dtype == np.int64 and not steps.numpy().any()  # zeros for other dtypes
    positional = layer.add_weight((2, 2), "ones", "float64")  # Keras 3's (shape, initializer, dtype)
    assert positional.dtype == np.float64 and positional.numpy().sum() == 4
    tf2 = layer.add_weight("bias", shape=(5,), initializer="zeros")  # TensorFlow 2's name first
    assert tf2.name == "holder/bias" and tf2.shape == (5,)
    var = layer.add_variable((3,), "zeros", name="v")
    assert layer.weights == [scalar, kernel, positional, tf2, var, steps]
    assert layer.non_trainable_weights == [steps]


def test_add_weight_refuses_bad_arguments_naming_the_layer():
    layer = layers.Layer(name="holder")
    with pytest.raises(ValueError, match="Layer 'holder'.*'w'.*unknown size"):
        layer.add_weight(shape=(None, 3), name="w")
    with pytest.raises(ValueError, match="Layer 'holder'.*non-negative ints"):
        layer.add_weight(shape=(2, -1))
    with pytest.raises(ValueError, match="Layer 'holder'.*cannot convert"):
        layer.add_weight(shape=object())
    with pytest.raises(ValueError, match="aggregation"):
        layer.add_weight(shape=(1,), aggregation="max")
    with pytest.raises(ValueError, match="Could not interpret constraint identifier"):
        layer.add_weight(shape=(1,), constraint="nope")
    with pytest.raises(TypeError, match="both positionally and as a keyword"):
        layer.add_weight((1,), shape=(1,))


def test_add_weight_regularizer_gives_a_loss_of_the_trainable_weight():
    layer = layers.Layer()
    w = layer.add_weight(shape=(3,), initializer="ones", regularizer=keras.regularizers.L2(0.5))
    assert len(layer.losses) == 1 and float(layer.losses[0]) == pytest.approx(1.5)
    layer.trainable = False  # Keras 3 regularizes trainable weights only
    assert layer.losses == [] and not w.requires_grad


# --- add_loss ------------------------------------------------------------------------------------------------------
class ActivityLoss(layers.Layer):
    def __init__(self, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * cr.reduce_mean(cr.square(inputs)))
        return inputs

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


class Wrapped(layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(3, kernel_regularizer=keras.regularizers.L2(0.01))
        self.reg = ActivityLoss()

    def call(self, inputs):
        return self.reg(self.dense(inputs))


def test_losses_of_nested_layers_are_collected_and_cleared_per_call():
    layer = Wrapped()
    assert layer.losses == []
    x = rand(4, 2)
    y = layer(x)
    assert len(layer.losses) == 2  # the add_loss of the inner layer, then the kernel's penalty
    np.testing.assert_allclose(float(layer.losses[0]), 0.1 * np.mean(y.numpy() ** 2), rtol=1e-5)
    np.testing.assert_allclose(float(layer.losses[1]), 0.01 * np.sum(layer.dense.kernel.numpy() ** 2), rtol=1e-5)
    layer(x)
    assert len(layer.losses) == 2  # the latest call's, not accumulated
    layer.reg(x)  # a call of the inner layer alone replaces its loss
    np.testing.assert_allclose(float(layer.reg.losses[0]), 0.1 * np.mean(x ** 2), rtol=1e-5)


def test_a_callable_loss_stays_and_is_recomputed():
    layer = layers.Dense(2)
    layer(rand(1, 3))
    layer.add_loss(lambda: cr.reduce_sum(cr.abs(layer.kernel)))
    first = float(layer.losses[0])
    layer.kernel.assign(layer.kernel.numpy() * 2)
    layer(rand(1, 3))
    assert len(layer.losses) == 1 and float(layer.losses[0]) == pytest.approx(2 * first, rel=1e-6)
    with pytest.raises(ValueError, match="add_loss"):
        layer.add_loss(0.5)


def _add_loss_model():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((4,))
    hidden = ActivityLoss(0.05)(layers.Dense(6, activation="tanh")(inputs))
    return keras.Model(inputs, layers.Dense(2)(hidden))


def _eager_loss(model, x, y):
    """mse plus the add_loss term, computed outside fit from the same weights."""
    first, _, last = model.layers[1], model.layers[2], model.layers[3]
    hidden = np.tanh(x @ first.kernel.numpy() + first.bias.numpy())
    pred = hidden @ last.kernel.numpy() + last.bias.numpy()
    return np.mean((pred - y) ** 2) + 0.05 * np.mean(hidden ** 2)


def test_fit_adds_add_loss_losses_on_every_step_and_evaluate_too():
    x, y = rand(8, 4, seed=1), rand(8, 2, seed=2)
    model = _add_loss_model()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    expected = []

    class Before(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            expected.append(_eager_loss(model, x, y))

    # one batch per epoch: each epoch's loss is its step's; the later steps are replays of the traced step
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0, callbacks=[Before()])
    np.testing.assert_allclose(history.history["loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=8, verbose=0), _eager_loss(model, x, y), rtol=1e-5)


def test_fit_with_only_add_loss_losses():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, ActivityLoss(1.0)(layers.Dense(6)(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.1))  # no compiled loss: the added losses are minimized
    x = rand(8, 4, seed=4)
    history = model.fit(x, rand(8, 6), batch_size=8, epochs=3, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]


def test_a_callable_loss_of_the_model_is_in_every_step():
    x, y = rand(8, 4, seed=1), rand(8, 2, seed=2)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    model.add_loss(lambda: 0.1 * cr.reduce_sum(cr.square(model.layers[0].kernel)))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    expected = []

    class Before(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            dense = model.layers[0]
            pred = x @ dense.kernel.numpy() + dense.bias.numpy()
            expected.append(np.mean((pred - y) ** 2) + 0.1 * np.sum(dense.kernel.numpy() ** 2))

    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0, callbacks=[Before()])
    np.testing.assert_allclose(history.history["loss"], expected, rtol=1e-5)


def test_add_loss_losses_train_in_a_gradient_tape_loop():
    keras.utils.set_random_seed(5)
    layer = Wrapped()
    optimizer = keras.optimizers.SGD(0.05)
    x = rand(16, 2, seed=6)
    totals = []
    for _ in range(5):
        with cr.GradientTape() as tape:
            y = layer(x)
            loss = cr.reduce_mean(cr.square(y - 1.0))
            loss += sum(layer.losses)
        grads = tape.gradient(loss, layer.trainable_weights)
        assert all(g is not None for g in grads)
        optimizer.apply_gradients(zip(grads, layer.trainable_weights))
        totals.append(float(loss))
    assert totals[-1] < totals[0]
    (dx,) = cr.grad(layer.losses[0], [layer.dense.kernel])  # the added loss is differentiable to the weights
    assert np.any(dx.numpy() != 0)
