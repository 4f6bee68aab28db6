"""Image files as tensors: ``tf.io.decode_jpeg`` / ``decode_png`` / ``decode_bmp`` / ``decode_gif`` /
``decode_image`` and ``encode_jpeg`` / ``encode_png`` (also under ``tf.image``), read and written with Pillow.

The contents are the file's bytes (``tf.io.read_file``'s 0-d tensor); the images are uint8 arrays of shape
``(height, width, channels)`` (GIFs: ``(frames, height, width, 3)``), channels as TensorFlow chooses them.

>>> import chainrule as tf
>>> png = tf.io.encode_png(tf.constant([[[0, 128, 255]]], tf.uint8))
>>> tf.io.decode_png(png).numpy().tolist(), tf.io.decode_image(png, channels=1).shape
([[[0, 128, 255]]], TensorShape([1, 1, 1]))
"""
from __future__ import annotations

import io

import numpy as np

from chainrule import backend
from chainrule.compat.tf.errors import InvalidArgumentError
from chainrule.engine.tensor import Tensor, TensorLike

_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_SIGNATURES = {b"\xff\xd8\xff": "jpeg", b"\x89PNG": "png", b"GIF8": "gif", b"BM": "bmp"}


def _contents(contents) -> bytes:
    value = contents.numpy() if isinstance(contents, Tensor) else contents
    value = np.asarray(value).item() if isinstance(value, np.ndarray) else value
    if isinstance(value, str):
        value = value.encode("latin-1")
    if not isinstance(value, (bytes, bytearray)):
        raise TypeError(f"the image contents must be a scalar string tensor (a file's bytes), got "
                        f"{type(contents).__name__}")
    return bytes(value)


def _format(data: bytes) -> str | None:
    return next((kind for signature, kind in _SIGNATURES.items() if data.startswith(signature)), None)


def _open(data: bytes, kind: str, op: str):
    from PIL import Image, UnidentifiedImageError

    found = _format(data)
    if found is None or (found != kind and kind in ("bmp", "gif")):  # (decode_jpeg/png read the others, as in TF)
        raise InvalidArgumentError(None, None, f"{op}: the contents are not a {kind.upper()} image")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as error:
        raise InvalidArgumentError(None, None, f"{op}: invalid {kind.upper()} data ({error})") from None
    return image


def _pixels(image, channels: int, op: str, allowed: tuple) -> np.ndarray:
    """The image as a (height, width, channels) array: ``channels`` 0 keeps the file's own."""
    if channels not in allowed:
        raise InvalidArgumentError(None, None, f"{op}: channels must be one of {list(allowed)}, got {channels}")
    if channels == 0:
        bands = len(image.getbands()) if image.mode not in ("P", "I", "I;16", "F", "1") else None
        if image.mode == "P":
            bands = 4 if "transparency" in image.info else 3
        channels = bands or 1
    converted = image if image.mode == _MODES[channels] and image.mode != "P" else image.convert(_MODES[channels])
    pixels = np.asarray(converted, dtype=np.uint8)
    return pixels.reshape(pixels.shape[0], pixels.shape[1], channels)


def decode_jpeg(contents, channels: int = 0, ratio: int = 1, fancy_upscaling: bool = True,
                try_recover_truncated: bool = False, acceptable_fraction: float = 1, dct_method: str = "",
                name=None) -> Tensor:
    """A JPEG file's pixels as uint8 ``(height, width, channels)``: ``channels`` 0 (the file's), 1 or 3. As in
    TensorFlow, PNG, BMP and (the first frame of) GIF files are read too."""
    image = _open(_contents(contents), "jpeg", "decode_jpeg")
    if ratio != 1:
        image = image.reduce(int(ratio))
    return Tensor._wrap(_pixels(image, channels, "decode_jpeg", (0, 1, 3)))


def decode_png(contents, channels: int = 0, dtype=np.uint8, name=None) -> Tensor:
    """A PNG file's pixels as ``(height, width, channels)``: ``channels`` 0 (the file's), 1, 2, 3 or 4; ``dtype``
    uint8 or uint16 (8-bit values scaled by 257, as TensorFlow)."""
    target = np.dtype(backend.as_dtype(dtype))
    if target not in (np.uint8, np.uint16):
        raise InvalidArgumentError(None, None, f"decode_png: dtype must be uint8 or uint16, got {target.name}")
    image = _open(_contents(contents), "png", "decode_png")
    if image.mode in ("I", "I;16", "I;16B") and target == np.uint16 and channels in (0, 1):
        pixels = np.asarray(image, dtype=np.uint16)[..., None]
    else:
        pixels = _pixels(image, channels, "decode_png", (0, 1, 2, 3, 4))
        if target == np.uint16:
            pixels = pixels.astype(np.uint16) * 257
    return Tensor._wrap(pixels)


def decode_bmp(contents, channels: int = 0, name=None) -> Tensor:
    """A BMP file's pixels as uint8 ``(height, width, channels)``: ``channels`` 0 (the file's), 1, 3 or 4."""
    image = _open(_contents(contents), "bmp", "decode_bmp")
    return Tensor._wrap(_pixels(image, channels, "decode_bmp", (0, 1, 3, 4)))


def decode_gif(contents, name=None) -> Tensor:
    """Every frame of a GIF as uint8 RGB: ``(frames, height, width, 3)``."""
    from PIL import ImageSequence

    image = _open(_contents(contents), "gif", "decode_gif")
    frames = [np.asarray(frame.convert("RGB"), dtype=np.uint8) for frame in ImageSequence.Iterator(image)]
    return Tensor._wrap(np.stack(frames))


def decode_image(contents, channels: int | None = None, dtype=np.uint8, name=None,
                 expand_animations: bool = True) -> Tensor:
    """Whichever of JPEG, PNG, GIF or BMP the bytes are, decoded: ``(height, width, channels)``, a GIF
    ``(frames, height, width, 3)`` (its first frame when not ``expand_animations``); a float ``dtype`` scales to
    [0, 1] as ``tf.image.convert_image_dtype``."""
    from chainrule.compat.tf.image import convert_image_dtype

    data = _contents(contents)
    kind = _format(data)
    if kind is None:
        raise InvalidArgumentError(None, None, "Unknown image file format. One of JPEG, PNG, GIF, BMP required.")
    channels = channels or 0
    if kind == "gif":
        if channels not in (0, 3):
            raise InvalidArgumentError(None, None, f"Got {channels} channels for a GIF image; it has 3")
        image = decode_gif(data)
        image = image if expand_animations else Tensor._wrap(image.numpy()[0])
    elif kind == "png":
        image = decode_png(data, channels)
    elif kind == "jpeg":
        image = decode_jpeg(data, channels)
    else:
        image = decode_bmp(data, channels)
    return convert_image_dtype(image, dtype)


def is_jpeg(contents, name=None) -> Tensor:
    """Whether the bytes begin as a JPEG file does."""
    return Tensor._wrap(np.array(_format(_contents(contents)) == "jpeg"))


def _encode(image: TensorLike, op: str, file_format: str, **options) -> Tensor:
    from PIL import Image

    pixels = np.asarray(image.numpy() if isinstance(image, Tensor) else image)
    if pixels.ndim != 3 or pixels.shape[-1] not in _MODES:
        raise InvalidArgumentError(None, None, f"{op}: image must be 3-dimensional (height, width, channels) with "
                                   f"1 to 4 channels, got shape {pixels.shape}")
    if pixels.dtype != np.uint8:
        raise InvalidArgumentError(None, None, f"{op}: image must be uint8, got {pixels.dtype.name}")
    channels = pixels.shape[-1]
    picture = Image.fromarray(pixels[..., 0] if channels == 1 else pixels, _MODES[channels])
    buffer = io.BytesIO()
    picture.save(buffer, file_format, **options)
    return Tensor._wrap(np.array(buffer.getvalue(), dtype=object))


def encode_jpeg(image: TensorLike, format: str = "", quality: int = 95, progressive: bool = False,  # noqa: A002
                optimize_size: bool = False, chroma_downsampling: bool = True, density_unit: str = "in",
                x_density: int = 300, y_density: int = 300, xmp_metadata: str = "", name=None) -> Tensor:
    """A uint8 ``(height, width, 1 or 3)`` image as JPEG bytes (a 0-d tensor)."""
    if np.shape(image)[-1:] not in ((1,), (3,)):
        raise InvalidArgumentError(None, None, f"encode_jpeg: image must have 1 or 3 channels, got shape "
                                   f"{np.shape(image)}")
    return _encode(image, "encode_jpeg", "JPEG", quality=int(quality), progressive=progressive,
                   optimize=optimize_size, subsampling=-1 if chroma_downsampling else 0,
                   dpi=(x_density, y_density))


def encode_png(image: TensorLike, compression: int = -1, name=None) -> Tensor:
    """A uint8 ``(height, width, 1 to 4)`` image as PNG bytes (a 0-d tensor)."""
    return _encode(image, "encode_png", "PNG", compress_level=6 if compression == -1 else int(compression))


__all__ = ["decode_bmp", "decode_gif", "decode_image", "decode_jpeg", "decode_png", "encode_jpeg", "encode_png",
           "is_jpeg"]
