"""``keras.preprocessing`` (Keras 2's names, kept in Keras 3): ``keras.preprocessing.image`` (array_to_img,
img_to_array, load_img, save_img), ``keras.preprocessing.sequence`` (pad_sequences), and the
``*_dataset_from_directory`` functions TensorFlow 2's tutorials reach here for.

>>> from chainrule.keras.preprocessing import sequence
>>> sequence.pad_sequences([[1, 2], [3]]).tolist()
[[1, 2], [0, 3]]
"""
from chainrule.keras.preprocessing import image, sequence
from chainrule.keras.utils.image_dataset_utils import image_dataset_from_directory
from chainrule.keras.utils.text_dataset_utils import text_dataset_from_directory
from chainrule.keras.utils.timeseries_dataset_utils import timeseries_dataset_from_array

__all__ = ["image", "image_dataset_from_directory", "sequence", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]
