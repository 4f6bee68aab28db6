"""``keras.preprocessing.image``: the image utilities of :mod:`chainrule.keras.utils.image_utils`, and
``smart_resize``, and Keras 2's ``ImageDataGenerator``."""
from chainrule.keras.preprocessing.image_data_generator import ImageDataGenerator
from chainrule.keras.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from chainrule.keras.utils.smart_resize import smart_resize

__all__ = ["ImageDataGenerator", "array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
