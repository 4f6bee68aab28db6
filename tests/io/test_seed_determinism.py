"""``set_random_seed``: the same seed gives bit-identical training on the CPU; another seed does not."""
import random

import numpy as np

from chainrule.keras import layers
from chainrule.keras.models import Sequential
from chainrule.keras.utils import set_random_seed

DATA = np.random.default_rng(0)
X = DATA.random((40, 8, 8, 1), dtype=np.float32)
Y = DATA.integers(0, 4, 40)


def train(seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """A few shuffled steps of a network that draws random numbers everywhere: initializers, Dropout, shuffling."""
    set_random_seed(seed)
    model = Sequential([
        layers.Conv2D(4, (3, 3), activation="relu", input_shape=(8, 8, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(4, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(X, Y, epochs=2, batch_size=8, shuffle=True, validation_split=0.2, verbose=0)
    return model.get_weights(), model.predict(X, verbose=0)


def test_the_same_seed_trains_bit_identically():
    (weights_a, out_a), (weights_b, out_b) = train(7), train(7)
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(out_a, out_b)


def test_another_seed_trains_differently():
    (weights_a, _), (weights_b, _) = train(7), train(8)
    assert any(not np.array_equal(a, b) for a, b in zip(weights_a, weights_b))


def test_python_and_numpy_global_generators_are_seeded_too():
    set_random_seed(3)
    first = random.random(), np.random.random()
    set_random_seed(3)
    assert (random.random(), np.random.random()) == first
