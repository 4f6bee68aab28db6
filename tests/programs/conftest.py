"""Shared set-up for the public Keras/TensorFlow programs run in this folder.

Every test starts from the same random state (NumPy's and chainrule's), so what a
program prints and what the tests assert about it does not change from run to run.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

# The programs import the data helper `mnist_like` from this folder.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _seeded():
    import chainrule as tf

    np.random.seed(0)
    tf.random.set_seed(0)
    yield
