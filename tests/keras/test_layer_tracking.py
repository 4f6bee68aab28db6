"""A layer tracks the layers and Variables assigned to its attributes (Keras 3's ``Layer.__setattr__``): their
weights, trainable setting, saving and training are the outer layer's."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


class MLPBlock(layers.Layer):
    """A layer of layers (Keras's guide), with a config so that models holding it can be saved."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.linear_1 = layers.Dense(8, activation="relu")
        self.linear_2 = layers.Dense(units)

    def call(self, inputs):
        return self.linear_2(self.linear_1(inputs))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Stack(layers.Layer):
    """Layers held in a list and a dict."""

    def __init__(self):
        super().__init__()
        self.blocks = [layers.Dense(5), layers.Dense(4)]
        self.heads = {"a": layers.Dense(2), "b": layers.Dense(3)}

    def call(self, inputs):
        x = inputs
        for block in self.blocks:
            x = block(x)
        return cr.concat([self.heads["a"](x), self.heads["b"](x)], axis=-1)


def test_a_layer_of_layers_owns_their_weights_in_assignment_order():
    block = MLPBlock()
    assert block.weights == [] and block._layers == [block.linear_1, block.linear_2]
    y = block(rand(3, 6))
    assert y.shape == (3, 4)
    expected = [block.linear_1.kernel, block.linear_1.bias, block.linear_2.kernel, block.linear_2.bias]
    assert block.weights == expected and block.trainable_weights == expected
    assert block.count_params() == 6 * 8 + 8 + 8 * 4 + 4
    assert block._flatten_layers() == [block, block.linear_1, block.linear_2]
    # get/set_weights follow the same order
    values = [np.full(w.shape, i, "float32") for i, w in enumerate(block.weights)]
    block.set_weights(values)
    for got, want in zip(block.get_weights(), values):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(block.linear_2.bias.numpy(), np.full(4, 3.0))


def test_lists_and_dicts_of_layers_are_tracked_with_later_additions():
    stack = Stack()
    stack(rand(2, 3))
    a, b = stack.heads["a"], stack.heads["b"]
    assert stack._layers == [*stack.blocks, a, b]
    assert len(stack.weights) == 8
    extra = layers.Dense(1)
    stack.blocks.append(extra)  # appended after assignment: tracked too
    assert stack._layers[-1] is extra
    stack.blocks.pop()
    assert extra not in stack._layers
    del stack.heads["b"]
    assert b not in stack._layers and len(stack.weights) == 6
    stack.tail = (layers.Dense(2), [layers.Dense(3)])  # a tuple holding a list
    assert stack._layers[-2:] == [stack.tail[0], stack.tail[1][0]]


def test_reassigning_or_deleting_an_attribute_untracks_its_layer():
    block = MLPBlock()
    block(rand(2, 6))
    old = block.linear_2
    block.linear_2 = layers.Dense(3)
    assert old not in block._layers and block._layers[-1] is block.linear_2
    block(rand(2, 6))
    assert [w.shape for w in block.weights] == [(6, 8), (8,), (8, 3), (3,)]
    alias = block.linear_1
    block.first = alias  # a second reference: deleting one keeps the layer
    del block.linear_1
    assert alias in block._layers
    del block.first
    assert alias not in block._layers


def test_variables_assigned_to_attributes_are_weights():
    class Scale(layers.Layer):
        def __init__(self):
            super().__init__()
            self.factor = cr.Variable(2.0)
            self.count = cr.Variable(0.0, trainable=False)
            self.table = [cr.Variable([1.0, 2.0])]

        def call(self, inputs):
            self.count.assign_add(1.0)
            return inputs * self.factor * self.table[0]

    layer = Scale()
    assert layer.weights == [layer.factor, layer.table[0], layer.count]  # trainable first, as Keras
    assert layer.non_trainable_weights == [layer.count]
    layer(np.ones((1, 2), "float32"))
    assert float(layer.count.numpy()) == 1.0


def test_a_shared_variable_or_layer_counts_once():
    shared = layers.Dense(3)

    class Twice(layers.Layer):
        def __init__(self):
            super().__init__()
            self.first = shared
            self.second = shared
            self.kernel_alias = None

        def call(self, inputs):
            return self.second(self.first(inputs))

    class Tied(layers.Layer):
        def __init__(self, dense):
            super().__init__()
            self.dense = dense

        def build(self, input_shape):
            self.tied = self.dense.kernel  # the same Variable the Dense holds

        def call(self, inputs):
            return cr.matmul(self.dense(inputs), cr.transpose(self.tied))

    twice = Twice()
    twice(rand(2, 3))
    assert twice.weights == [shared.kernel, shared.bias] and twice.count_params() == 12
    dense = layers.Dense(4)
    dense(rand(1, 3))
    tied = Tied(dense)
    assert tied(rand(2, 3)).shape == (2, 3)
    assert tied.weights == [dense.kernel, dense.bias]


def test_trainable_false_freezes_the_nested_layers():
    block = MLPBlock()
    block(rand(2, 6))
    block.trainable = False
    assert block.trainable_weights == [] and len(block.non_trainable_weights) == 4
    assert not block.linear_1.trainable and not block.linear_1.kernel.requires_grad
    model = keras.Sequential([keras.Input((6,)), block, layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    before = block.get_weights()
    model.fit(rand(8, 6), rand(8, 1), epochs=1, verbose=0)
    for a, b in zip(before, block.get_weights()):
        np.testing.assert_array_equal(a, b)
    block.trainable = True
    assert len(block.trainable_weights) == 4 and block.linear_2.kernel.requires_grad


def _check_all_change(before, after):
    for a, b in zip(before, after):
        assert not np.array_equal(a, b)


def test_a_layer_of_layers_trains_all_its_weights_with_fit_and_with_a_tape():
    keras.utils.set_random_seed(0)
    x, y = rand(16, 6, seed=1), rand(16, 4, seed=2)
    inputs = keras.Input((6,))
    model = keras.Model(inputs, MLPBlock()(inputs))
    assert len(model.trainable_weights) == 4
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = model.get_weights()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    _check_all_change(before, model.get_weights())

    block = MLPBlock()
    optimizer = keras.optimizers.SGD(0.1)
    block(x)
    before = block.get_weights()
    for _ in range(2):
        with cr.GradientTape() as tape:
            loss = cr.reduce_mean(cr.square(block(x) - y))
        grads = tape.gradient(loss, block.trainable_weights)
        assert all(g is not None for g in grads)
        optimizer.apply_gradients(zip(grads, block.trainable_weights))
    _check_all_change(before, block.get_weights())


class Regressor(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = MLPBlock(units=3)
        self.norm = layers.BatchNormalization()
        self.out = layers.Dense(1)
        self.offset = cr.Variable(0.5)  # a weight of the model itself

    def call(self, inputs, training=False):
        return self.out(self.norm(self.block(inputs), training=training)) + self.offset


def test_a_subclassed_model_saves_and_loads_all_nested_weights(tmp_path):
    keras.utils.set_random_seed(1)
    x, y = rand(12, 6, seed=3), rand(12, 1, seed=4)
    model = Regressor()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert model.layers == [model.block, model.norm, model.out]
    assert len(model.weights) == 1 + 4 + 4 + 2  # its offset, the block's two Dense, BatchNormalization, the Dense
    assert model.weights[0] is model.offset and float(model.offset.numpy()) != 0.5  # trained too
    model.save_weights(tmp_path / "m.weights.bin")
    other = Regressor()
    other(x[:1])
    other.load_weights(tmp_path / "m.weights.bin")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", custom_objects={"Regressor": Regressor})
    for rebuilt in (other, loaded):
        for a, b in zip(model.get_weights(), rebuilt.get_weights()):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(rebuilt(x).numpy(), model(x).numpy(), rtol=1e-6)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_a_model_holding_a_custom_layer_of_layers_saves_and_loads_it(tmp_path, kind):
    keras.utils.set_random_seed(2)
    x, y = rand(10, 6, seed=5), rand(10, 3, seed=6)
    if kind == "sequential":
        model = keras.Sequential([keras.Input((6,)), MLPBlock(units=3)])
    else:
        inputs = keras.Input((6,))
        model = keras.Model(inputs, MLPBlock(units=3)(inputs))
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"MLPBlock": MLPBlock})
    assert len(loaded.weights) == 4
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_subclassed_model_layers_are_the_tracked_ones_not_its_bookkeeping():
    model = Regressor()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(rand(4, 6), rand(4, 1), verbose=0)
    # the training loop keeps the variables it updates on the model: they are no extra weights of its own
    assert model._trainable_variables == [model.offset] and model._non_trainable_variables == []
    assert model.layers == [model.block, model.norm, model.out]


def test_forgetting_super_init_is_keras_error():
    class Broken(layers.Layer):
        def __init__(self):
            self.dense = layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    layer = Broken()
    with pytest.raises(RuntimeError, match=r"In layer 'Broken', you forgot to call `super\(\).__init__\(\)`"):
        layer(rand(1, 2))


def test_layer_names_are_checked():
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        layers.Dense(2, name="a/b")
