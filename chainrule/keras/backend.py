"""``keras.backend``: the default float type, ``clear_session``, and the legacy ``get_value``/``set_value``."""
import numpy as np

from chainrule.backend import floatx, set_floatx


def epsilon() -> float:
    """The fuzz factor Keras uses to keep divisions and logs finite (1e-7)."""
    return 1e-7


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


__all__ = ["clear_session", "epsilon", "floatx", "get_value", "set_floatx", "set_value"]
