"""``keras.ops``: Keras 3's backend-neutral functions on chainrule Tensors (``from chainrule.keras import ops``, or
``import chainrule as tf; tf.keras.ops``). The code lives in topic modules, as in Keras 3: :mod:`.numpy` (NumPy's
functions), :mod:`.nn` (activations, convolution, losses, normalization), :mod:`.core` (conversion, control flow,
scatter and slice updates, associative scans), :mod:`.math` (top-k, segments, logsumexp, special functions),
:mod:`.linalg` (norms, decompositions, solves), :mod:`.einops` (``rearrange``), :mod:`.image` and
:mod:`.spectral` (Fourier transforms and the STFT, on (real, imaginary) pairs); every name is also here. Inputs
may be Tensors, NumPy arrays or Python numbers; results are Tensors, differentiable wherever Keras's are. On
``keras.Input`` tensors each function adds a layer to the functional model instead of computing.

>>> import numpy as np
>>> import chainrule as tf
>>> from chainrule.keras import ops
>>> x = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
>>> with tf.GradientTape() as tape:
...     y = ops.sum(ops.softmax(x, axis=-1) * ops.arange(2.0))
>>> np.round(tape.gradient(y, x).numpy(), 4)
array([[-0.1966,  0.1966],
       [-0.1966,  0.1966]], dtype=float32)
>>> tf.keras.ops.matmul is ops.matmul
True
"""
from chainrule.keras.ops import core, einops, image, linalg, math, nn, numpy, spectral
from chainrule.keras.ops.core import *  # noqa: F401,F403
from chainrule.keras.ops.einops import *  # noqa: F401,F403
from chainrule.keras.ops.linalg import *  # noqa: F401,F403
from chainrule.keras.ops.math import *  # noqa: F401,F403
from chainrule.keras.ops.nn import *  # noqa: F401,F403
from chainrule.keras.ops.numpy import *  # noqa: F401,F403
from chainrule.keras.ops.spectral import *  # noqa: F401,F403

__all__ = sorted({*core.__all__, *einops.__all__, *linalg.__all__, *math.__all__, *nn.__all__, *numpy.__all__, *spectral.__all__,
                  "core", "image", "linalg", "math", "nn", "numpy", "spectral"})
