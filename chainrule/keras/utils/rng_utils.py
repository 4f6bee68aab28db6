"""``keras.utils.set_random_seed``: one seed for every source of randomness chainrule and a training script use.

>>> import numpy as np
>>> set_random_seed(0); a = np.random.rand()
>>> set_random_seed(0); a == np.random.rand()
True
"""
from __future__ import annotations

import random

import numpy as np

from chainrule import backend


def set_random_seed(seed: int) -> None:
    """Seed chainrule's generator (initializers, dropout, shuffling), Python's ``random`` and NumPy's legacy global
    generator, so that two runs with the same seed give bit-identical weights on the CPU."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    backend.set_seed(seed)
