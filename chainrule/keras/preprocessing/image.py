"""``keras.preprocessing.image``: the image utilities of :mod:`chainrule.keras.utils.image_utils`."""
from chainrule.keras.utils.image_utils import array_to_img, img_to_array, load_img, save_img

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]
