"""What a custom ``train_step`` receives from ``fit``: as Keras's ``pack_x_y_sample_weight``, ``x`` alone when
``fit`` has no targets (a VAE's images as they are), ``(x,)`` when x is a tuple or list, ``(x, y)`` otherwise."""

import numpy as np

from chainrule import keras


class _Recorder(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1)
        self.seen = []

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        self.seen.append(data)
        return {}


def test_fit_without_targets_hands_x_itself():
    model = _Recorder()
    model.compile(optimizer="sgd", run_eagerly=True)
    model.fit(np.ones((4, 3), "float32"), batch_size=4, epochs=1, verbose=0)
    data = model.seen[0]
    assert not isinstance(data, tuple) and tuple(data.shape) == (4, 3)


def test_fit_with_targets_hands_a_pair():
    model = _Recorder()
    model.compile(optimizer="sgd", run_eagerly=True)
    model.fit(np.ones((4, 3), "float32"), np.ones((4, 1), "float32"), batch_size=4, epochs=1, verbose=0)
    x, y = model.seen[0]
    assert tuple(x.shape) == (4, 3) and tuple(y.shape) == (4, 1)
