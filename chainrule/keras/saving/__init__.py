"""Model files (``keras.saving``): ``save_model``/``load_model`` and the weights alone, in chainrule's own format.

=====================  ========================================================================================
``model_files.py``     what a model or weights file holds: save_model, load_model, save_weights, load_weights,
                       read_header, model_from_config
``file_format.py``     the checksummed container (a JSON header and raw arrays): write_file, read_file, decode,
                       ModelFileError
``atomic.py``          atomic_write: a file is replaced whole or not at all; temporary files of killed writers
                       are removed by the next write
``weight_budget.py``   what a file's config may make the layers allocate while it is loaded: no more weights than
                       the file holds, no absurd input shapes
=====================  ========================================================================================

``object_registration.py`` holds ``register_keras_serializable``, ``custom_object_scope`` and
``get_custom_objects``: your own classes and functions, found by name when a model is loaded.

>>> from chainrule.keras import saving
>>> saving.load_model("nowhere.keras")
Traceback (most recent call last):
...
FileNotFoundError: [Errno 2] No such file or directory: 'nowhere.keras'
"""
from chainrule.keras.saving.atomic import atomic_write
from chainrule.keras.saving.file_format import FORMAT_VERSION, MAGIC, ModelFileError, decode, read_file, write_file
from chainrule.keras.saving.object_registration import (CustomObjectScope, custom_object_scope, get_custom_objects,
                                                        get_registered_name, get_registered_object,
                                                        register_keras_serializable)
from chainrule.keras.saving.model_files import (load_model, load_weights, model_from_config, read_header, save_model,
                                                save_weights)
from chainrule.keras.saving.serialization_lib import deserialize_keras_object, serialize_keras_object

__all__ = ["CustomObjectScope", "FORMAT_VERSION", "MAGIC", "ModelFileError", "atomic_write", "custom_object_scope",
           "decode", "get_custom_objects", "get_registered_name", "get_registered_object", "load_model",
           "load_weights", "model_from_config", "read_file", "read_header", "register_keras_serializable",
           "save_model", "save_weights", "write_file", "serialize_keras_object", "deserialize_keras_object"]
