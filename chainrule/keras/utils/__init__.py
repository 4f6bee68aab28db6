"""``keras.utils``: to_categorical, normalize, set_random_seed, Progbar."""
from chainrule.keras.utils.numerical_utils import normalize, to_categorical
from chainrule.keras.utils.rng_utils import set_random_seed
from chainrule.utils.progbar import Progbar

__all__ = ["Progbar", "normalize", "set_random_seed", "to_categorical"]
