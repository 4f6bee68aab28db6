"""Names derived from class names, as Keras 3 derives them (``keras.src.utils.naming.to_snake_case``).

>>> [to_snake_case(name) for name in ("Dense", "Conv2D", "MaxPooling2D", "ReLU", "BatchNormalization")]
['dense', 'conv2d', 'max_pooling2d', 're_lu', 'batch_normalization']
>>> to_snake_case("TopKCategoricalAccuracy"), to_snake_case("KLDivergence")
('top_k_categorical_accuracy', 'kl_divergence')
"""
from __future__ import annotations

import re


def to_snake_case(name: str) -> str:
    """``CamelCase`` -> ``camel_case``: an underscore before each capitalised word and between a lower-case letter
    and a capital; a digit joins the word before it (Conv2D -> conv2d); characters other than letters, digits and
    underscores are dropped."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
