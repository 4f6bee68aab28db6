"""``keras.utils``: to_categorical, normalize, set_random_seed, Progbar, PyDataset (Sequence), pad_sequences,
array_to_img / img_to_array / load_img / save_img, text_, image_ and audio_dataset_from_directory,
and the custom-object registry that Keras exports here too (custom_object_scope, register_keras_serializable,
get_custom_objects), get_file, and plot_model / model_to_dot."""
from chainrule.keras.saving.object_registration import (CustomObjectScope, custom_object_scope, get_custom_objects,
                                                        get_registered_name, get_registered_object,
                                                        register_keras_serializable)
from chainrule.keras.saving.serialization_lib import deserialize_keras_object, serialize_keras_object
from chainrule.keras.utils.audio_dataset_utils import audio_dataset_from_directory
from chainrule.keras.utils.config_container import Config
from chainrule.keras.utils.data_utils import pack_x_y_sample_weight, split_dataset, unpack_x_y_sample_weight
from chainrule.keras.utils.file_utils import get_file
from chainrule.keras.layers.preprocessing.feature_space import FeatureSpace
from chainrule.keras.utils.image_dataset_utils import image_dataset_from_directory
from chainrule.keras.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from chainrule.keras.utils.graph_utils import get_source_inputs, is_keras_tensor
from chainrule.keras.utils.model_visualization import model_to_dot, plot_model
from chainrule.keras.utils.numerical_utils import normalize, to_categorical
from chainrule.keras.utils.py_dataset import PyDataset, Sequence
from chainrule.keras.utils.rng_utils import set_random_seed
from chainrule.keras.utils.sequence_utils import pad_sequences
from chainrule.keras.utils.text_dataset_utils import text_dataset_from_directory
from chainrule.keras.utils.timeseries_dataset_utils import timeseries_dataset_from_array
from chainrule.utils.io_utils import (disable_interactive_logging, enable_interactive_logging,
                                      is_interactive_logging_enabled)
from chainrule.utils.progbar import Progbar


def clear_session(free_memory: bool = True) -> None:
    """Start a fresh Keras session: layer names count from the start again (``dense``, not ``dense_7``), and with
    ``free_memory`` the garbage collector runs so that the arrays of dropped models are released now."""
    import gc

    from chainrule.keras.backend import clear_session as reset_names

    reset_names()
    if free_memory:
        gc.collect()


def standardize_dtype(dtype) -> str:
    """Keras's name for a dtype ('float32', 'int64', 'bool', ...) from a NumPy dtype, a type or a name."""
    from chainrule.keras.ops.core import standardize_dtype as standardize

    return standardize(dtype)

__all__ = ["CustomObjectScope", "Progbar", "custom_object_scope", "get_custom_objects", "get_registered_name",
           "get_registered_object", "normalize", "register_keras_serializable", "set_random_seed", "to_categorical",
           "PyDataset", "Sequence", "pad_sequences", "array_to_img", "img_to_array", "load_img", "save_img",
           "text_dataset_from_directory", "image_dataset_from_directory", "get_file", "timeseries_dataset_from_array",
           "serialize_keras_object", "deserialize_keras_object", "model_to_dot", "plot_model",
           "audio_dataset_from_directory", "Config", "clear_session", "get_source_inputs", "is_keras_tensor",
           "pack_x_y_sample_weight", "unpack_x_y_sample_weight", "split_dataset", "standardize_dtype",
           "disable_interactive_logging", "enable_interactive_logging", "is_interactive_logging_enabled",
           "FeatureSpace"]
