"""Which input pixels a model's decision rests on: saliency maps from the gradient of the output with respect to the
input, which chainrule's own backward pass gives directly.

- ``'vanilla'``: the gradient of the target output with respect to the input (Simonyan et al. 2013).
- ``'smoothgrad'``: the gradient averaged over ``samples`` copies of the input with Gaussian noise of standard
  deviation ``noise`` times the input's range added (Smilkov et al. 2017); sharper, less speckled maps.
- ``'integrated_gradients'``: ``(x - baseline)`` times the gradient averaged along the straight path from
  ``baseline`` to ``x`` (``steps`` points, trapezoidal rule; Sundararajan et al. 2017). Its attributions add up to
  ``output(x) - output(baseline)`` (completeness); :func:`completeness_error` measures how far they are from it,
  and ``saliency`` warns when an example misses by more than ``tolerance`` (1%): give more ``steps`` then.

The target output is the predicted class of each example unless ``target`` names one (an int for all, or one per
example); a model with a single output unit explains that unit. Attributions have the shape of ``x`` and keep their
sign (the vanilla and SmoothGrad gradients too: take ``np.abs`` and the maximum over channels for a picture).

>>> import numpy as np
>>> from chainrule import keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, use_bias=False)])
>>> model.set_weights([np.array([[1.0], [-2.0], [0.5]], "float32")])
>>> saliency(model, np.ones((1, 3), "float32"))
array([[ 1. , -2. ,  0.5]], dtype=float32)
>>> saliency(model, np.full((1, 3), 2.0, "float32"), method="integrated_gradients", steps=4)
array([[ 2., -4.,  1.]], dtype=float32)
"""
from __future__ import annotations

import warnings
from typing import Literal

import numpy as np

METHODS = ("vanilla", "smoothgrad", "integrated_gradients")


def saliency(model, x, method: Literal["vanilla", "smoothgrad", "integrated_gradients"] = "vanilla",
             target=None, *, baseline=None, steps: int = 50, samples: int = 25, noise: float = 0.15,
             seed: int | None = None, tolerance: float = 0.01, batch_size: int = 64) -> np.ndarray:
    """Attributions of ``model``'s target output to each element of ``x`` (a batch), by ``method`` (see the
    module's docstring); ``baseline`` (default zeros), ``steps`` and ``tolerance`` are integrated gradients',
    ``samples``, ``noise`` and ``seed`` SmoothGrad's."""
    x = _batch(x, "x")
    target = _targets(model, x, target, batch_size)
    if method == "vanilla":
        return input_gradient(model, x, target, batch_size)
    if method == "smoothgrad":
        if int(samples) < 1 or not noise >= 0:
            raise ValueError(f"saliency: smoothgrad needs samples >= 1 and noise >= 0, got samples={samples}, "
                             f"noise={noise}")
        rng = np.random.default_rng(seed)
        sigma = noise * float(x.max() - x.min())
        total = np.zeros_like(x)
        for _ in range(int(samples)):
            noisy = (x + rng.normal(0.0, sigma, size=x.shape)).astype(x.dtype)
            total += input_gradient(model, noisy, target, batch_size)
        return total / int(samples)
    if method == "integrated_gradients":
        baseline = np.zeros_like(x) if baseline is None else np.broadcast_to(_batch(baseline, "baseline"), x.shape)
        if int(steps) < 1:
            raise ValueError(f"saliency: integrated_gradients needs steps >= 1, got {steps}")
        weights = np.full(int(steps) + 1, 1.0 / int(steps))
        weights[[0, -1]] /= 2  # the trapezoidal rule over alpha = 0, 1/steps, ..., 1
        average = np.zeros(x.shape, np.float64)
        for alpha, weight in zip(np.linspace(0.0, 1.0, int(steps) + 1), weights):
            point = (baseline + alpha * (x - baseline)).astype(x.dtype)
            average += weight * input_gradient(model, point, target, batch_size)
        attributions = ((x - baseline) * average).astype(x.dtype)
        error = completeness_error(model, x, attributions, baseline, target, batch_size)
        if np.max(error) > tolerance:
            warnings.warn(f"saliency: integrated gradients miss completeness by up to {np.max(error):.2%} (more "
                          f"than {tolerance:.0%}) for {int(np.sum(error > tolerance))} example(s); use more steps "
                          f"than {steps}", RuntimeWarning, stacklevel=2)
        return attributions
    raise ValueError(f"saliency: unknown method {method!r}; use one of {', '.join(METHODS)}")


def completeness_error(model, x, attributions, baseline=None, target=None, batch_size: int = 64) -> np.ndarray:
    """Per example, ``|sum(attributions) - (output(x) - output(baseline))|`` relative to
    ``|output(x) - output(baseline)|``: integrated gradients' completeness, 0 when exact."""
    x = _batch(x, "x")
    baseline = np.zeros_like(x) if baseline is None else np.broadcast_to(_batch(baseline, "baseline"), x.shape)
    target = _targets(model, x, target, batch_size)
    difference = target_output(model, x, target, batch_size) - target_output(model, baseline, target, batch_size)
    total = np.asarray(attributions, np.float64).reshape(len(x), -1).sum(axis=1)
    return np.abs(total - difference) / np.maximum(np.abs(difference), 1e-12)


def input_gradient(model, x: np.ndarray, target: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """d output[i, target[i]] / d x[i] for each example ``i`` (the model in inference mode)."""
    return np.concatenate([_chunk_gradient(model, x[i:i + batch_size], target[i:i + batch_size])
                           for i in range(0, len(x), batch_size)])


def target_output(model, x: np.ndarray, target: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """output[i, target[i]] for each example, as float64."""
    outputs = _outputs(model, x, batch_size)
    return outputs[np.arange(len(x)), target].astype(np.float64)


def _chunk_gradient(model, x: np.ndarray, target: np.ndarray) -> np.ndarray:
    from chainrule.engine.tape import GradientTape
    from chainrule.keras import ops

    inputs = ops.convert_to_tensor(x)
    with GradientTape() as tape:
        tape.watch(inputs)
        outputs = _two_dimensional(model(inputs, training=False))
        picked = ops.sum(outputs * ops.one_hot(ops.convert_to_tensor(target), outputs.shape[-1],
                                               dtype=outputs.dtype))
    gradient = tape.gradient(picked, inputs)
    return np.zeros_like(x) if gradient is None else np.asarray(gradient.numpy(), x.dtype)


def _outputs(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    from chainrule.engine.autograd import no_grad

    with no_grad():
        chunks = [np.asarray(_two_dimensional(model(x[i:i + batch_size], training=False)).numpy())
                  for i in range(0, len(x), batch_size)]
    return np.concatenate(chunks)


def _two_dimensional(outputs):
    """One row of outputs per example: a model with a single output of shape (batch,) gets a column."""
    from chainrule.keras import ops

    if isinstance(outputs, (list, tuple, dict)):
        raise ValueError("saliency: the model has several outputs; explain a model with one output")
    if len(outputs.shape) == 1:
        return ops.expand_dims(outputs, -1)
    if len(outputs.shape) != 2:
        raise ValueError(f"saliency: the model's output must be (batch, classes), got shape {tuple(outputs.shape)}")
    return outputs


def _targets(model, x: np.ndarray, target, batch_size: int) -> np.ndarray:
    """One output index per example: the predicted class (the single unit for one output) unless given."""
    if target is None:
        return _outputs(model, x, batch_size).argmax(axis=1)
    target = np.asarray(target)
    if target.dtype.kind not in "iu" or target.ndim > 1:
        raise ValueError(f"saliency: target must be a class index or one per example, got {target!r}")
    return np.broadcast_to(target, (len(x),)).astype(np.int64)


def _batch(x, name: str) -> np.ndarray:
    x = np.asarray(x.numpy() if hasattr(x, "numpy") else x)
    if x.dtype.kind not in "fiub" or x.ndim < 1:
        raise ValueError(f"{name} must be a batch of numbers (examples first), got {x.dtype} of shape {x.shape}")
    return x.astype(np.float32) if x.dtype.kind != "f" else x
