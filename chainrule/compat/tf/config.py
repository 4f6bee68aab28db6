"""``tf.config``: whether traced functions run eagerly, and the devices there are (the CPU, and CuPy's GPUs).

>>> import chainrule as tf
>>> tf.config.run_functions_eagerly(True); tf.config.functions_run_eagerly()
True
>>> tf.config.run_functions_eagerly(False)
>>> tf.config.list_physical_devices("GPU")
[]
"""
from __future__ import annotations

from typing import NamedTuple

from chainrule import backend
from chainrule.engine.tracer import functions_run_eagerly, run_functions_eagerly

__all__ = ["functions_run_eagerly", "list_physical_devices", "PhysicalDevice", "run_functions_eagerly",
           "experimental", "get_soft_device_placement", "get_visible_devices", "list_logical_devices", "LogicalDevice",
           "set_soft_device_placement", "set_visible_devices"]


class PhysicalDevice(NamedTuple):
    """A device as ``tf.config.list_physical_devices`` lists it."""

    name: str
    device_type: str


def list_physical_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    """The devices of ``device_type`` ('CPU', 'GPU'; all when None): the CPU, and the GPUs CuPy sees."""
    devices = [PhysicalDevice(f"/physical_device:{kind}:{i}", kind) for kind, i in backend.physical_devices()]
    return [d for d in devices if device_type is None or d.device_type == device_type.upper()]


# the device settings (tf.config.experimental and its names that tf.config has too): chainrule/compat/tf/placement.py,
# config_experimental.py
from chainrule.compat.tf import config_experimental as experimental  # noqa: E402
from chainrule.compat.tf.config_experimental import (LogicalDevice, get_visible_devices,  # noqa: E402
                                                     list_logical_devices, set_visible_devices)
from chainrule.compat.tf.placement import get_soft_device_placement, set_soft_device_placement  # noqa: E402
