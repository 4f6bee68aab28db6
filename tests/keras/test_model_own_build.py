"""A subclassed model with a ``build`` of its own has it called before its first call, as Keras's
``Layer.__call__`` does (keras-io's Perceiver makes its latent weight and modules in ``build``); its
``super().build(input_shape)`` then only marks it built (Keras 3's ``Layer.build``)."""

import numpy as np

from chainrule import keras


class OwnBuild(keras.Model):
    def __init__(self):
        super().__init__()
        self.shapes = []

    def build(self, input_shape):
        self.shapes.append(tuple(input_shape))
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")
        self.dense = keras.layers.Dense(2)
        super().build(input_shape)

    def call(self, x):
        return self.dense(x * self.scale)


def test_build_runs_once_before_the_first_call():
    model = OwnBuild()
    out = model(np.ones((4, 3), "float32"))
    assert tuple(out.shape) == (4, 2) and model.built
    assert model.shapes == [(None, 3)]
    model(np.ones((1, 3), "float32"))
    assert model.shapes == [(None, 3)] and len(model.weights) == 3


def test_fit_builds_through_the_models_own_build():
    model = OwnBuild()
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(np.ones((8, 3), "float32"), np.zeros((8, 2), "float32"), epochs=2, verbose=0)
    assert model.shapes == [(None, 3)] and len(history.history["loss"]) == 2
    assert len(model.trainable_weights) == 3


def test_explicit_build_calls_the_own_build_without_running_call():
    model = OwnBuild()
    model.build((None, 5))
    assert model.built and model.shapes == [(None, 5)] and tuple(model.scale.shape) == (5,)
    assert tuple(model(np.ones((2, 5), "float32")).shape) == (2, 2) and model.shapes == [(None, 5)]


def test_a_model_without_its_own_build_still_builds_by_calling():
    class Plain(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    model = Plain()
    model.build((None, 4))
    assert len(model.weights) == 2 and tuple(model.dense.kernel.shape) == (4, 3)
