"""``keras.config``: Keras 3's global settings, read by programs that print or branch on them.

chainrule runs one backend (its own), in float32 by default, with images laid out channels-last.

>>> from chainrule import keras
>>> keras.config.backend(), keras.config.floatx(), keras.config.image_data_format()
('chainrule', 'float32', 'channels_last')
"""
from chainrule.backend import floatx, set_floatx
from chainrule.keras.backend import backend, epsilon, image_data_format, set_epsilon, set_image_data_format
from chainrule.keras.mixed_precision.policy import dtype_policy, set_dtype_policy
from chainrule.keras.global_settings import (disable_flash_attention, disable_traceback_filtering,
                                             enable_flash_attention, enable_traceback_filtering,
                                             enable_unsafe_deserialization, is_flash_attention_enabled,
                                             is_nnx_enabled, is_traceback_filtering_enabled, max_epochs,
                                             max_steps_per_epoch, set_backend, set_max_epochs,
                                             set_max_steps_per_epoch)
from chainrule.utils.io_utils import (disable_interactive_logging, enable_interactive_logging,
                                      is_interactive_logging_enabled)

__all__ = ["backend", "dtype_policy", "epsilon", "floatx", "image_data_format", "set_dtype_policy", "set_epsilon",
           "set_floatx", "set_image_data_format", "disable_flash_attention", "disable_traceback_filtering",
           "enable_flash_attention", "enable_traceback_filtering", "enable_unsafe_deserialization",
           "is_flash_attention_enabled", "is_nnx_enabled", "is_traceback_filtering_enabled", "max_epochs",
           "max_steps_per_epoch", "set_backend", "set_max_epochs", "set_max_steps_per_epoch",
           "disable_interactive_logging", "enable_interactive_logging", "is_interactive_logging_enabled"]
