"""Dtype policies (``keras.DTypePolicy``, ``keras.mixed_precision.Policy``): the dtype a layer computes in and the
dtype it keeps its weights in, and the global default (``keras.config.set_dtype_policy``).

'mixed_float16' computes in float16 with float32 weights; any other dtype name uses it for both. chainrule's array
backends have no bfloat16, so 'mixed_bfloat16' is refused with a message saying so.

>>> policy = DTypePolicy("mixed_float16")
>>> policy, policy.compute_dtype, policy.variable_dtype
(<DTypePolicy "mixed_float16">, 'float16', 'float32')
>>> get("float64").compute_dtype
'float64'
"""
from __future__ import annotations

import numpy as np

from chainrule import backend

_global_policy: "DTypePolicy | None" = None  # None: a policy of floatx, whatever floatx is when asked


class DTypePolicy:
    """A layer's compute and variable dtypes, from a name: 'mixed_float16' (float16 compute, float32 variables) or
    a dtype name such as 'float32' (both). Without a name, the global policy's."""

    def __init__(self, name: str | None = None):
        if name is None:
            name = dtype_policy().name
        self._name = name
        self._compute_dtype, self._variable_dtype = self._parse_name(name)
        self._quantization_mode = None

    @staticmethod
    def _parse_name(name) -> tuple[str, str]:
        if not isinstance(name, str):
            raise TypeError(f"'name' must be a string, such as 'mixed_float16'. Received: name={name} (of type "
                            f"{type(name)})")
        if name == "mixed_float16":
            return "float16", "float32"
        if name == "mixed_bfloat16":
            raise ValueError("Cannot use the 'mixed_bfloat16' DTypePolicy: chainrule's array backends (NumPy, CuPy) "
                             "have no bfloat16 dtype. Use 'mixed_float16' for mixed precision.")
        try:
            dtype = standardize_dtype(name)
        except TypeError:
            raise ValueError(f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies include "
                             f"'mixed_float16', 'mixed_bfloat16', and the name of any float dtype such as "
                             f"'float32'.") from None
        return dtype, dtype

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype of the layer's computations: its inputs are cast to it, and so are its variables when read."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype the layer's weights are created in (and that the optimizer updates)."""
        return self._variable_dtype

    @property
    def quantization_mode(self) -> None:
        """Keras's quantized policies' mode; chainrule's policies are never quantized."""
        return self._quantization_mode

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict) -> "DTypePolicy":
        return cls(**config)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'

    def __eq__(self, other) -> bool:
        return isinstance(other, DTypePolicy) and self._name == other._name

    def __hash__(self) -> int:
        return hash(self._name)


class FloatDTypePolicy(DTypePolicy):
    """Keras 3's alias of :class:`DTypePolicy`."""


def standardize_dtype(dtype) -> str:
    """A dtype's Keras name ('float32', 'int64', 'string'); TypeError for what is not a dtype.

    >>> standardize_dtype(np.float16), standardize_dtype("string")
    ('float16', 'string')
    """
    if isinstance(dtype, str) and dtype == "string":
        return "string"
    resolved = backend.as_dtype(dtype)
    return "string" if resolved.kind == "U" else resolved.name


def set_dtype_policy(policy) -> None:
    """Make ``policy`` (a name such as 'mixed_float16', or a DTypePolicy) the default of the layers made from now on.

    >>> set_dtype_policy("mixed_float16"); dtype_policy().name
    'mixed_float16'
    >>> set_dtype_policy("float32")
    """
    global _global_policy
    if not isinstance(policy, DTypePolicy):
        if not isinstance(policy, str):
            raise ValueError(f"Invalid `policy` argument. Expected the string name of a policy (such as "
                             f"'mixed_float16') or a `DTypePolicy` instance. Received: policy={policy} (of type "
                             f"{type(policy)})")
        policy = DTypePolicy(policy)
    if policy.compute_dtype != policy.variable_dtype:
        from chainrule.keras.mixed_precision import autocast

        autocast.install()
    _global_policy = policy


def dtype_policy() -> DTypePolicy:
    """The default dtype policy: the one set last, else one of ``keras.config.floatx()``."""
    if _global_policy is None:
        floatx = backend.floatx()
        policy = _FLOATX_POLICIES.get(floatx)
        if policy is None:  # (made once per floatx: every layer made without dtype= asks)
            policy = _FLOATX_POLICIES[floatx] = DTypePolicy(floatx)
        return policy
    return _global_policy


_FLOATX_POLICIES: dict[str, DTypePolicy] = {}


def serialize(policy: DTypePolicy) -> dict:
    """Keras 3's serialized form: ``{"module": "keras", "class_name": "DTypePolicy", "config": {"name": ...}}``."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config(), "registered_name": None}


def deserialize(config: dict, custom_objects: dict | None = None) -> DTypePolicy:
    """The policy :func:`serialize` (or a Keras 3 model file) described."""
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in ("DTypePolicy", "FloatDTypePolicy", "Policy"):
        if name is not None and custom_objects and name in custom_objects:
            return custom_objects[name].from_config(config.get("config") or {})
        raise ValueError(f"Could not interpret dtype policy config {config!r}: chainrule knows 'DTypePolicy' "
                         f"(quantized policies are not supported)")
    return DTypePolicy.from_config(config.get("config") or {})


def get(identifier) -> DTypePolicy:
    """A policy from None (the global one), a name, a dtype, a config dict, or a policy (as it is)."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(standardize_dtype(identifier))
    except TypeError:
        raise ValueError(f"Cannot interpret `dtype` argument. Expected a string or an instance of DTypePolicy. "
                         f"Received: dtype={identifier}") from None


__all__ = ["DTypePolicy", "FloatDTypePolicy", "deserialize", "dtype_policy", "get", "serialize", "set_dtype_policy",
           "standardize_dtype"]
