"""``keras.preprocessing`` (Keras 2's names, kept in Keras 3): ``keras.preprocessing.image`` (array_to_img,
img_to_array, load_img, save_img) and ``keras.preprocessing.sequence`` (pad_sequences).

>>> from chainrule.keras.preprocessing import sequence
>>> sequence.pad_sequences([[1, 2], [3]]).tolist()
[[1, 2], [0, 3]]
"""
from chainrule.keras.preprocessing import image, sequence

__all__ = ["image", "sequence"]
