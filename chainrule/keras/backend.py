"""``keras.backend``: the default float type, ``clear_session``, the legacy ``get_value``/``set_value``, and the
Keras 2 backend functions that programs still call (``random_normal``, ``int_shape``).

>>> random_normal(shape=(2, 3), seed=1).shape
TensorShape([2, 3])
"""
import numpy as np

from chainrule.backend import floatx, set_floatx
from chainrule.ops.random import normal, uniform


def random_normal(shape, mean: float = 0.0, stddev: float = 1.0, dtype=None, seed=None):
    """Keras 2's ``K.random_normal``: a Tensor of normal draws (the VAE sampling layer's epsilon)."""
    return normal(shape, mean=mean, stddev=stddev, dtype=dtype, seed=seed)


def random_uniform(shape, minval: float = 0.0, maxval: float = 1.0, dtype=None, seed=None):
    """Keras 2's ``K.random_uniform``."""
    return uniform(shape, minval=minval, maxval=maxval, dtype=dtype, seed=seed)


def int_shape(x) -> tuple:
    """The static shape as a tuple of ints (None where unknown, for symbolic tensors)."""
    return tuple(x.shape)


def std(x, axis=None, keepdims: bool = False):
    """Keras 2's ``K.std``: the standard deviation (population, as NumPy's default); on a ``keras.Input`` tensor a
    layer of the functional model, as ``keras.ops.std``."""
    from chainrule.keras.ops import numpy as knp

    return knp.std(x, axis=axis, keepdims=keepdims)


def epsilon() -> float:
    """The fuzz factor Keras uses to keep divisions and logs finite (1e-7)."""
    return 1e-7


def backend() -> str:
    """The name of the backend running Keras's layers: 'chainrule' (so that a program branching on it takes no
    TensorFlow- or JAX-only path by mistake)."""
    return "chainrule"


def image_data_format() -> str:
    """The default layout of image tensors, as the layers read it: 'channels_last' (batch, height, width,
    channels)."""
    return "channels_last"


def clear_session() -> None:
    """Forget the layer names handed out so far: the next Dense is 'dense' again (as in a fresh Keras session)."""
    from chainrule.keras.layers import base

    base._name_counts.clear()


def get_value(x):
    """The value of a Variable (or the optimizer's learning rate) as NumPy; anything else as it is."""
    return x.numpy() if hasattr(x, "numpy") else x


def set_value(x, value) -> None:
    """``x.assign(value)``: a Variable, or ``optimizer.learning_rate`` (TF 2's way to change the rate).

    >>> from chainrule.keras import optimizers
    >>> opt = optimizers.SGD(0.1)
    >>> set_value(opt.learning_rate, 0.01)
    >>> float(opt.learning_rate)
    0.01
    """
    x.assign(value if isinstance(x, float) else np.asarray(value, dtype=x.dtype))


__all__ = ["backend", "clear_session", "epsilon", "floatx", "get_value", "image_data_format", "int_shape",
           "random_normal", "random_uniform", "set_floatx", "set_value", "std"]
