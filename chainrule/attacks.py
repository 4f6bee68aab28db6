"""Adversarial examples: small changes to the input, found with the gradient of the loss, that change the answer.

- :func:`fgsm` (Goodfellow et al. 2014): one step of size ``eps`` along the sign of the loss's input gradient.
- :func:`pgd` (Madry et al. 2017): ``steps`` steps of size ``alpha`` along the sign of the gradient, each followed by
  a projection back into the L-inf ball of radius ``eps`` around ``x``, from a random point of that ball when
  ``random_start``.

Both keep the result inside the clip range (``clip_min``, ``clip_max``; default ``[0, 1]``, the range of images
scaled as the seeds scale them; None for no clipping) and return a new array (``x`` is left as it is). The loss is
the cross-entropy of the model's output against ``y`` (class ids, or one-hot rows), taken from the logits when the
output is a softmax, as Keras's losses take it; pass ``loss=`` (``loss(y_true, y_pred)`` per example) for another.

>>> import numpy as np
>>> from chainrule import keras
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax", use_bias=False)])
>>> model.set_weights([np.array([[1.0, -1.0], [-1.0, 1.0]], "float32")])
>>> fgsm(model, np.array([[0.6, 0.4]], "float32"), np.array([0]), eps=0.1)
array([[0.5, 0.5]], dtype=float32)
"""
from __future__ import annotations

import numpy as np


def fgsm(model, x, y, eps: float, *, loss=None, clip_min: float | None = 0.0, clip_max: float | None = 1.0,
         targeted: bool = False) -> np.ndarray:
    """The fast gradient sign method: ``clip(x + eps * sign(d loss / d x))`` (minus for a ``targeted`` attack,
    which moves toward the classes in ``y`` instead of away from them)."""
    x, y = _inputs(x, y, clip_min, clip_max)
    _check_radius(eps, "eps")
    step = np.sign(loss_gradient(model, x, y, loss)) * (-1.0 if targeted else 1.0)
    return _clip(x + np.float32(eps) * step.astype(x.dtype), clip_min, clip_max)


def pgd(model, x, y, eps: float, alpha: float | None = None, steps: int = 10, random_start: bool = True, *,
        loss=None, clip_min: float | None = 0.0, clip_max: float | None = 1.0, targeted: bool = False,
        seed: int | None = None) -> np.ndarray:
    """Projected gradient descent in the L-inf ball of radius ``eps``: ``steps`` signed-gradient steps of size
    ``alpha`` (default ``2.5 * eps / steps``, Madry et al.'s choice), each projected back into the ball and the clip
    range; ``random_start`` begins at a uniformly random point of the ball (``seed`` for a repeatable one)."""
    x, y = _inputs(x, y, clip_min, clip_max)
    _check_radius(eps, "eps")
    if int(steps) < 1:
        raise ValueError(f"pgd: steps must be at least 1, got {steps}")
    alpha = 2.5 * eps / int(steps) if alpha is None else alpha
    _check_radius(alpha, "alpha")
    low, high = x - np.float32(eps), x + np.float32(eps)
    adversarial = x
    if random_start:
        noise = np.random.default_rng(seed).uniform(-eps, eps, size=x.shape).astype(x.dtype)
        adversarial = _clip(x + noise, clip_min, clip_max)
    direction = -1.0 if targeted else 1.0
    for _ in range(int(steps)):
        step = np.sign(loss_gradient(model, adversarial, y, loss)) * direction
        adversarial = adversarial + np.float32(alpha) * step.astype(x.dtype)
        adversarial = _clip(np.clip(adversarial, low, high), clip_min, clip_max)
    return adversarial


def loss_gradient(model, x: np.ndarray, y: np.ndarray, loss=None) -> np.ndarray:
    """d (sum over the batch of ``loss(y, model(x))``) / d x, with the model in inference mode."""
    from chainrule.engine.tape import GradientTape
    from chainrule.keras import losses, ops

    if loss is None:
        loss = losses.sparse_categorical_crossentropy if y.ndim == 1 else losses.categorical_crossentropy
    inputs = ops.convert_to_tensor(x)
    with GradientTape() as tape:
        tape.watch(inputs)
        total = ops.sum(loss(ops.convert_to_tensor(y), model(inputs, training=False)))
    gradient = tape.gradient(total, inputs)
    if gradient is None:
        raise ValueError("the loss does not depend on the input: is the model's output connected to its input?")
    return np.asarray(gradient.numpy())


def accuracy(model, x, y, batch_size: int = 256) -> float:
    """The fraction of examples whose predicted class (the output's argmax) is ``y`` (class ids or one-hot)."""
    y = np.asarray(y)
    labels = y.argmax(axis=-1) if y.ndim > 1 else y
    predicted = np.asarray(model.predict(np.asarray(x), batch_size=batch_size, verbose=0)).argmax(axis=-1)
    return float(np.mean(predicted == labels))


def _inputs(x, y, clip_min, clip_max) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x.numpy() if hasattr(x, "numpy") else x)
    if x.dtype.kind != "f":
        x = x.astype(np.float32)
    y = np.asarray(y.numpy() if hasattr(y, "numpy") else y)
    if len(y) != len(x):
        raise ValueError(f"x and y must hold the same number of examples, got {len(x)} and {len(y)}")
    if clip_min is not None and clip_max is not None and not clip_min < clip_max:
        raise ValueError(f"clip_min must be below clip_max, got {clip_min} and {clip_max}")
    return x, y


def _check_radius(value: float, name: str) -> None:
    if not (isinstance(value, (int, float, np.floating)) and value >= 0 and np.isfinite(value)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _clip(x: np.ndarray, clip_min: float | None, clip_max: float | None) -> np.ndarray:
    if clip_min is None and clip_max is None:
        return x
    return np.clip(x, clip_min, clip_max).astype(x.dtype)
