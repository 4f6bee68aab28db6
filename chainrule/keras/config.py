"""``keras.config``: Keras 3's global settings, read by programs that print or branch on them.

chainrule runs one backend (its own), in float32 by default, with images laid out channels-last.

>>> from chainrule import keras
>>> keras.config.backend(), keras.config.floatx(), keras.config.image_data_format()
('chainrule', 'float32', 'channels_last')
"""
from chainrule.backend import floatx, set_floatx
from chainrule.keras.backend import backend, epsilon, image_data_format, set_epsilon, set_image_data_format
from chainrule.keras.mixed_precision.policy import dtype_policy, set_dtype_policy

__all__ = ["backend", "dtype_policy", "epsilon", "floatx", "image_data_format", "set_dtype_policy", "set_epsilon",
           "set_floatx", "set_image_data_format"]
