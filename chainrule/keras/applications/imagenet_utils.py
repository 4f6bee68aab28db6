"""``keras.applications.imagenet_utils``: ImageNet preprocessing, decoding of predictions, and the input-shape rules
the applications share (Keras 3's functions, with its defaults and messages).

>>> import numpy as np
>>> preprocess_input(np.array([[[255.0, 0.0, 127.5]]]), mode="tf")
array([[[ 1., -1.,  0.]]])
>>> obtain_input_shape(None, default_size=224, min_size=32, data_format="channels_last", require_flatten=False)
(None, None, 3)
"""
from __future__ import annotations

import json
import warnings

import numpy as np

from chainrule.keras import activations, backend
from chainrule.keras import ops
from chainrule.keras.graph import KerasTensor
from chainrule.keras.utils.file_utils import get_file

CLASS_INDEX = None
CLASS_INDEX_PATH = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"

# the ImageNet statistics each mode uses: caffe subtracts BGR means from 0..255 pixels; torch standardizes 0..1 RGB
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN, _TORCH_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def preprocess_input(x, data_format: str | None = None, mode: str = "caffe"):
    """Preprocess a batch of images (or one image) with values in [0, 255] for an ImageNet model.

    ``mode``: ``"caffe"`` (RGB to BGR, then each channel zero-centered on ImageNet's means, no scaling), ``"tf"``
    (scaled to [-1, 1]) or ``"torch"`` (scaled to [0, 1], then each channel standardized with ImageNet's means and
    standard deviations). ``data_format``: ``"channels_last"`` or ``"channels_first"`` (None: the global setting).
    A float NumPy array is changed in place and returned, as in Keras; other arrays are converted to floatx first;
    a tensor gives a new tensor.

    >>> preprocess_input(np.zeros((1, 1, 1, 3)), mode="torch").round(3)
    array([[[[-2.118, -2.036, -1.804]]]])
    """
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError(f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}")
    if data_format is None:
        data_format = backend.image_data_format()
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError(f"Expected data_format to be one of `channels_first` or `channels_last`. Received: "
                         f"data_format={data_format}")
    if isinstance(x, np.ndarray):
        if not issubclass(x.dtype.type, np.floating):
            x = x.astype(backend.floatx(), copy=False)
        numpy_input = True
    else:
        x = x if isinstance(x, KerasTensor) else ops.convert_to_tensor(x)  # symbolic inputs stay symbolic
        if np.dtype(x.dtype).kind != "f":  # pixels as integers: the ImageNet statistics need floats
            x = ops.cast(x, backend.floatx())
        numpy_input = False
    channel_axis = -1 if data_format == "channels_last" else (0 if x.ndim == 3 else 1)
    if mode == "tf":
        return _in_place(x, x / 127.5 - 1.0, numpy_input)
    if mode == "torch":
        scale, mean, std = 255.0, _TORCH_MEAN, _TORCH_STD
    else:
        x = np.flip(x, axis=channel_axis) if numpy_input else ops.flip(x, axis=channel_axis)
        scale, mean, std = 1.0, _CAFFE_MEAN_BGR, (1.0, 1.0, 1.0)
    shape = [1] * x.ndim
    shape[channel_axis] = 3
    mean = np.reshape(np.asarray(mean) * scale, shape).astype(x.dtype)
    std = np.reshape(np.asarray(std) * scale, shape).astype(x.dtype)
    return _in_place(x, (x - mean) / std, numpy_input)


MODE_DESCRIPTIONS = {"caffe": "RGB to BGR, each channel zero-centered on ImageNet's means, no scaling",
                     "tf": "pixels scaled to [-1, 1]",
                     "torch": "pixels scaled to [0, 1], each channel standardized on ImageNet's means and stds"}


def preprocess_input_for(mode: str):
    """The ``preprocess_input(x, data_format=None)`` of a model's module: :func:`preprocess_input` in ``mode``.

    >>> preprocess_input_for("tf")(np.array([0.0, 255.0]))
    array([-1.,  1.])
    """
    def model_preprocess_input(x, data_format: str | None = None):
        return preprocess_input(x, data_format=data_format, mode=mode)

    model_preprocess_input.__name__ = model_preprocess_input.__qualname__ = "preprocess_input"
    model_preprocess_input.__doc__ = f"``imagenet_utils.preprocess_input`` in {mode!r} mode: {MODE_DESCRIPTIONS[mode]}."
    return model_preprocess_input


def _in_place(x, value, numpy_input: bool):
    """Keras writes the result over a float NumPy input; a tensor input gets the new tensor."""
    if not numpy_input:
        return value
    x[...] = value
    return x


def decode_predictions(preds, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The ``top`` classes of each ImageNet prediction, as ``(class_name, class_description, score)`` tuples, best
    first. The class index (a JSON file) is downloaded once through ``keras.utils.get_file`` into
    ``~/.keras/models`` (``KERAS_HOME``), from the URL Keras uses, and checked against Keras's hash.

    >>> decode_predictions(np.zeros((1, 10)))
    Traceback (most recent call last):
    ...
    ValueError: `decode_predictions` expects a batch of predictions (i.e. a 2D array of shape (samples, 1000)). \
Received array with shape: (1, 10)
    """
    global CLASS_INDEX
    preds = np.asarray(preds.numpy() if hasattr(preds, "numpy") else preds)
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape (samples, "
                         f"1000)). Received array with shape: {preds.shape}")
    if CLASS_INDEX is None:
        path = get_file("imagenet_class_index.json", CLASS_INDEX_PATH, cache_subdir="models",
                        file_hash=CLASS_INDEX_HASH)
        with open(path) as file:
            CLASS_INDEX = json.load(file)
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(CLASS_INDEX[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda entry: entry[2], reverse=True)
        results.append(result)
    return results


def obtain_input_shape(input_shape, default_size: int, min_size: int, data_format: str, require_flatten: bool,
                       weights=None) -> tuple:
    """The input shape (without the batch axis) a model gets from the shape asked for: the default
    ``(default_size, default_size, 3)`` when none is given and the top needs a static shape, ``(None, None, 3)``
    without a top, else ``input_shape`` checked (three axes, at least ``min_size`` pixels, 3 channels for ImageNet
    weights, exactly the default with ImageNet weights and the top).

    >>> obtain_input_shape((16, 16, 3), default_size=224, min_size=32, data_format="channels_last",
    ...                    require_flatten=False)
    Traceback (most recent call last):
    ...
    ValueError: Input size must be at least 32x32; Received: input_shape=(16, 16, 3)
    """
    channels_first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if channels_first else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn(f"This model usually expects 1 or 3 input channels. However, it was passed an "
                          f"input_shape with {channels} input channels.", stacklevel=3)
        default_shape = ((channels, default_size, default_size) if channels_first
                         else (default_size, default_size, channels))
    else:
        default_shape = (3, default_size, default_size) if channels_first else (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError(f"When setting `include_top=True` and loading `imagenet` weights, `input_shape` should "
                             f"be {default_shape}.  Received: input_shape={input_shape}")
        return default_shape
    if input_shape:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        channels, rows, cols = ((input_shape[0], *input_shape[1:]) if channels_first
                                else (input_shape[-1], *input_shape[:2]))
        if channels != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
        if (rows is not None and rows < min_size) or (cols is not None and cols < min_size):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: "
                             f"input_shape={input_shape}")
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if channels_first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError(f"If `include_top` is True, you should specify a static `input_shape`. Received: "
                         f"input_shape={input_shape}")
    return input_shape


def correct_pad(inputs, kernel_size) -> tuple[tuple[int, int], tuple[int, int]]:
    """The zero padding ``((top, bottom), (left, right))`` before a strided 'valid' convolution that makes it
    downsample as TensorFlow's 'same' padding does (one pixel less before the image when a size is even).

    >>> from chainrule.keras.layers import Input
    >>> correct_pad(Input(shape=(224, 224, 3)), 3)
    ((0, 1), (0, 1))
    """
    image_axis = 2 if backend.image_data_format() == "channels_first" else 1
    input_size = inputs.shape[image_axis:image_axis + 2]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if input_size[0] is None else (1 - input_size[0] % 2, 1 - input_size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return (correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1])


def validate_activation(classifier_activation, weights) -> None:
    """Pretrained weights go with a softmax or no activation on the top only (Keras's rule).

    >>> validate_activation("sigmoid", "imagenet")
    Traceback (most recent call last):
    ...
    ValueError: Only `None` and `softmax` activations are allowed for the `classifier_activation` argument when \
using pretrained weights, with `include_top=True`; Received: classifier_activation=sigmoid
    """
    if weights is None:
        return
    if activations.get(classifier_activation) not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError("Only `None` and `softmax` activations are allowed for the `classifier_activation` argument "
                         "when using pretrained weights, with `include_top=True`; Received: "
                         f"classifier_activation={classifier_activation}")
