"""A layer whose ``call(self, inputs, training)`` gives ``training`` no default gets it from the framework, as
tf.keras 2 passes it (None when neither the call nor an outer layer sets it), so programs written that way (keras-io's
Switch Transformer block) build and train."""

import numpy as np

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers


class Block(layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(4)
        self.dropout = layers.Dropout(0.5)
        self.seen = []

    def call(self, inputs, training):
        self.seen.append(training)
        return self.dropout(self.dense(inputs), training=training)


def test_a_required_training_argument_is_filled_in():
    block = Block()
    x = np.ones((2, 3), "float32")
    out = block(x)
    assert block.seen == [None]
    np.testing.assert_allclose(out.numpy(), block.dense(x).numpy())  # no training: dropout does nothing
    block(x, training=True)
    assert block.seen[-1] is True


def test_in_a_functional_model_fit_passes_true_and_predict_false():
    inputs = keras.Input((3,))
    block = Block()
    model = keras.Model(inputs, layers.Dense(1)(block(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), epochs=1, verbose=0)
    assert True in block.seen
    block.seen.clear()
    model.predict(np.ones((2, 3), "float32"), verbose=0)
    assert block.seen and all(value in (False, None) for value in block.seen)
