"""``keras.preprocessing.sequence``: ``pad_sequences`` (:mod:`chainrule.keras.utils.sequence_utils`)."""
from chainrule.keras.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
