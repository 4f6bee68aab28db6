"""``keras.utils``: to_categorical, normalize, set_random_seed, Progbar."""
from chainrule.utils import Progbar, normalize, set_random_seed, to_categorical

__all__ = ["Progbar", "normalize", "set_random_seed", "to_categorical"]
