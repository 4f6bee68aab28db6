"""The steps every application function shares around its own layers: check the arguments, make the input, put the
classifier or the pooling on top, make the model and load its weights (Keras writes them out in each file).

>>> from chainrule.keras import backend, layers
>>> image = model_input(None, (32, 32, 3))
>>> top = classifier_top(layers.Conv2D(4, 3)(image), include_top=False, pooling="avg", classes=1000,
...                      classifier_activation="softmax", weights=None)
>>> finished_model(None, image, top, "tiny", weights=None).output_shape
(None, 4)
"""
from __future__ import annotations

import os
import warnings

from chainrule.keras import backend, layers
from chainrule.keras.applications import imagenet_utils
from chainrule.keras.graph import KerasTensor
from chainrule.keras.models import Model
from chainrule.keras.saving import legacy_h5
from chainrule.keras.utils.file_utils import get_file

POOLINGS = (None, "avg", "max")
ARGUMENTS_DOC = """

    Args (Keras's):
        include_top: whether to include {top} at the top of the network.
        weights: `None` (random initialization), `"imagenet"` (pre-training on ImageNet, downloaded through
            `keras.utils.get_file`; needs h5py) or the path to a weights file to load.
        input_tensor: optional Keras tensor (output of `layers.Input()`) to use as the model's image input.
        input_shape: optional shape tuple, only to be specified if `include_top` is False (otherwise it has to be
            `({size}, {size}, 3)`); exactly 3 channels for ImageNet weights, width and height no smaller than
            {min_size}.
        pooling: `None`, `"avg"` or `"max"`: the pooling of the last block's output when `include_top` is False.
        classes: number of classes, only with `include_top=True` and no `weights`. Defaults to 1000.
        classifier_activation: the activation of the "top" layer (`None` gives logits); with pretrained weights
            only `None` or `"softmax"`.
        name: the name of the model.

    Returns:
        A `Model` instance.
"""


def document(function, size: int = 224, min_size: int = 32, top: str = "the fully-connected layer"):
    """``function`` with Keras's description of the arguments the applications share appended to its docstring."""
    function.__doc__ += ARGUMENTS_DOC.format(top=top, size=size, min_size=min_size)
    return function


def application(public_name: str, default_name: str, build, summary: str, **document_options):
    """A public constructor with Keras's signature (``ResNet50(include_top=True, weights="imagenet", ...,
    name="resnet50")``) that calls ``build`` with those arguments by keyword; ``summary`` starts its docstring,
    ``document_options`` go to :func:`document`."""

    def constructor(include_top: bool = True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                    classes: int = 1000, classifier_activation="softmax", name: str = default_name):
        return build(include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                     pooling=pooling, classes=classes, classifier_activation=classifier_activation, name=name)

    constructor.__name__ = constructor.__qualname__ = public_name
    constructor.__doc__ = summary
    return document(constructor, **document_options)


def check_arguments(weights, include_top: bool, classes: int, pooling=None) -> None:
    """Keras's checks of ``weights`` and ``classes``, and of ``pooling`` (Keras ignores a value it does not know;
    here it is an error). ImageNet weights need h5py: said before anything is built or downloaded."""
    if not (weights in {"imagenet", None} or (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError("The `weights` argument should be either `None` (random initialization), 'imagenet' "
                         "(pre-training on ImageNet), or the path to the weights file to be loaded.  Received: "
                         f"weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(f"If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000.  "
                         f"Received classes={classes}")
    if pooling not in POOLINGS:
        raise ValueError(f"The `pooling` argument should be one of None, 'avg' or 'max'. Received: pooling={pooling!r}")
    if weights is not None and (weights == "imagenet" or legacy_h5.is_legacy_h5_file(weights)):
        legacy_h5.require_h5py()


def image_input(weights, include_top: bool, classes: int, pooling, input_tensor, input_shape, default_size: int = 224,
                min_size: int = 32) -> tuple[KerasTensor, tuple]:
    """What every application does first: check the arguments, settle the input shape (Keras's
    ``obtain_input_shape``) and make the input; returns the image tensor and its shape (no batch axis)."""
    check_arguments(weights, include_top, classes, pooling)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=min_size,
                                                    data_format=backend.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    return model_input(input_tensor, input_shape), input_shape


def default_size(rows, cols, sizes: tuple[int, ...]) -> int:
    """The image size a MobileNet assumes: ``rows`` when the image is square and of a size that has ImageNet
    weights (``sizes``), else 224."""
    return rows if rows == cols and rows in sizes else 224


def imagenet_rows(rows, cols, sizes: tuple[int, ...]) -> int:
    """The image size whose ImageNet weights a MobileNet loads: ``rows`` when square and in ``sizes``, else 224
    with Keras's warning."""
    if rows == cols and rows in sizes:
        return rows
    warnings.warn(f"`input_shape` is undefined or non-square, or `rows` is not in {list(sizes)}. Weights for input "
                  "shape (224, 224) will be loaded as the default.", stacklevel=3)
    return 224


def model_input(input_tensor, input_shape) -> KerasTensor:
    """The tensor the model starts from: a new ``Input(shape=input_shape)``, or ``input_tensor`` when given (a
    KerasTensor, as Keras 3's InputLayer requires)."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not isinstance(input_tensor, KerasTensor):
        raise ValueError(f"Argument `input_tensor` must be a KerasTensor. Received invalid type: "
                         f"input_tensor={input_tensor} (of type {type(input_tensor)})")
    return input_tensor


def classifier_top(x, include_top: bool, pooling, classes: int, classifier_activation, weights,
                   avg_name: str | None = None, max_name: str | None = None, dropout: float = 0.0,
                   dense_initializer="glorot_uniform"):
    """Keras's head: with the top, global average pooling (``avg_name``), optional dropout ('top_dropout') and the
    'predictions' Dense layer; without it, ``pooling`` 'avg' or 'max' (named ``avg_name``/``max_name``) or none."""
    if include_top:
        x = layers.GlobalAveragePooling2D(name=avg_name)(x)
        if dropout > 0:
            x = layers.Dropout(dropout, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        return layers.Dense(classes, activation=classifier_activation, kernel_initializer=dense_initializer,
                            name="predictions")(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x


def get_source_inputs(tensor) -> list[KerasTensor]:
    """The ``keras.Input`` tensors that ``tensor`` is computed from, in the order a depth-first walk meets them
    (Keras's ``operation_utils.get_source_inputs``, walked with a stack: residual graphs are deep and branchy).

    >>> x = layers.Input(shape=(3,))
    >>> get_source_inputs(layers.Dense(2)(x)) == [x]
    True
    """
    sources: list[KerasTensor] = []
    visited: set[int] = set()
    stack = [tensor]
    while stack:
        t = stack.pop()
        node = getattr(t, "node", None)
        if node is not None and node.flat_inputs:  # a layer's output: walk on to that layer's inputs
            if id(node) not in visited:
                visited.add(id(node))
                stack.extend(reversed(node.flat_inputs))
        elif all(t is not known for known in sources):  # an Input (or a tensor with no history)
            sources.append(t)
    return sources


def finished_model(input_tensor, image, outputs, name: str, weights, file_name: str | None = None,
                   origin: str | None = None, file_hash: str | None = None) -> Model:
    """The model from the source inputs of ``input_tensor`` (or ``image``) to ``outputs``, with its weights:
    ImageNet's (``file_name`` downloaded from ``origin`` into ``~/.keras/models`` through ``get_file``, checked
    against ``file_hash``) or those of the file ``weights`` names."""
    inputs = get_source_inputs(input_tensor) if input_tensor is not None else image
    model = Model(inputs, outputs, name=name)
    if weights == "imagenet":
        weights = get_file(file_name, origin, cache_subdir="models", file_hash=file_hash)
    if weights is not None:
        model.load_weights(weights)
    return model
