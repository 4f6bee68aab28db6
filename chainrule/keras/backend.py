"""``keras.backend``: the default float type and ``clear_session``."""
from chainrule.backend import floatx, set_floatx


def epsilon() -> float:
    """The fuzz factor Keras uses to keep divisions and logs finite (1e-7)."""
    return 1e-7


def clear_session() -> None:
    """Forget the layer names handed out so far: the next Dense is 'dense' again (as in a fresh Keras session)."""
    from chainrule.layers import base

    base._name_counts.clear()


__all__ = ["clear_session", "epsilon", "floatx", "set_floatx"]
