"""Callbacks on the strict backend (array-api-strict's arrays, which NumPy cannot read): BackupAndRestore's
random state reads and writes a SeedGenerator's state on its device (issue 17)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("array_api_strict")

from chainrule import backend, keras  # noqa: E402
from chainrule.keras.callbacks import backup_and_restore  # noqa: E402


class _Noisy(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.seed_generator = keras.random.SeedGenerator(3)

    def call(self, x):
        return x + keras.random.normal(x.shape, seed=self.seed_generator)


def test_seed_generator_state_saved_and_restored_on_the_device(strict):
    model = keras.Sequential([keras.Input((2,)), _Noisy()])
    generator = model.layers[0].seed_generator
    saved = generator.next().tolist()
    saved[1] += 1
    state, arrays = backup_and_restore._random_state(model)
    assert list(state["layers"].values()) == [saved]
    generator.next(), generator.next()
    backup_and_restore._set_random_state(model, state, dict(arrays))
    assert strict.owns(generator.state.data)
    assert backend.to_host(generator.state.data).tolist() == saved
    assert generator.next().dtype == np.uint32
