"""``tf.config``: whether traced functions run eagerly, and the devices there are (this one CPU).

>>> import chainrule as tf
>>> tf.config.run_functions_eagerly(True); tf.config.functions_run_eagerly()
True
>>> tf.config.run_functions_eagerly(False)
>>> tf.config.list_physical_devices("GPU")
[]
"""
from __future__ import annotations

from typing import NamedTuple

from chainrule.engine.tracer import functions_run_eagerly, run_functions_eagerly

__all__ = ["functions_run_eagerly", "list_physical_devices", "PhysicalDevice", "run_functions_eagerly"]


class PhysicalDevice(NamedTuple):
    """A device as ``tf.config.list_physical_devices`` lists it."""

    name: str
    device_type: str


def list_physical_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    """The devices of ``device_type`` ('CPU', 'GPU'; all when None): chainrule computes on the CPU."""
    devices = [PhysicalDevice("/physical_device:CPU:0", "CPU")]
    return [d for d in devices if device_type is None or d.device_type == device_type.upper()]
