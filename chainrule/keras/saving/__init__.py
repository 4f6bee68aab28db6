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

>>> from chainrule.keras import saving
>>> saving.load_model("nowhere.keras")
Traceback (most recent call last):
...
FileNotFoundError: [Errno 2] No such file or directory: 'nowhere.keras'
"""
from chainrule.keras.saving.atomic import atomic_write
from chainrule.keras.saving.file_format import FORMAT_VERSION, MAGIC, ModelFileError, decode, read_file, write_file
from chainrule.keras.saving.model_files import (load_model, load_weights, model_from_config, read_header, save_model,
                                                save_weights)

__all__ = ["FORMAT_VERSION", "MAGIC", "ModelFileError", "atomic_write", "decode", "load_model", "load_weights",
           "model_from_config", "read_file", "read_header", "save_model", "save_weights", "write_file"]
