"""``tf.config.experimental`` and the device settings of ``tf.config``: memory growth, visible and logical devices.

chainrule computes on the CPU, so the usual GPU set-up of a TensorFlow program runs as it does on a machine without
a GPU: ``list_physical_devices("GPU")`` is empty and the loop over it sets nothing. Asking for memory growth on the
CPU raises TensorFlow's ValueError, and hiding the CPU is refused (nothing else could run the work).

>>> import chainrule as tf
>>> for gpu in tf.config.experimental.list_physical_devices("GPU"):
...     tf.config.experimental.set_memory_growth(gpu, True)
>>> tf.config.set_visible_devices([], "GPU")
>>> tf.config.list_logical_devices()
[LogicalDevice(name='/device:CPU:0', device_type='CPU')]
"""
from __future__ import annotations

from typing import NamedTuple

from chainrule.backend import determinism


class LogicalDevice(NamedTuple):
    """A device as ``tf.config.list_logical_devices`` lists it."""

    name: str
    device_type: str


def _physical(device_type: str | None = None) -> list:
    from chainrule.compat.tf.config import list_physical_devices  # (config imports this module at its end)

    return list_physical_devices(device_type)


def _known(device) -> None:
    if device not in _physical():
        raise ValueError(f"Unrecognized device: {device!r}")


def list_physical_devices(device_type: str | None = None) -> list:
    """The physical devices of ``device_type`` (all when None): the CPU."""
    return _physical(device_type)


def set_memory_growth(device, enable: bool) -> None:
    """Memory growth is a GPU setting: a device this machine lists is its CPU, which refuses it as TensorFlow does."""
    _known(device)
    if device.device_type != "GPU":
        raise ValueError("Cannot set memory growth on non-GPU and non-Pluggable devices")


def get_memory_growth(device) -> bool:
    _known(device)
    raise ValueError("Cannot get memory growth on non-GPU and non-Pluggable devices")


def get_visible_devices(device_type: str | None = None) -> list:
    """The devices work may run on: the CPU."""
    return _physical(device_type)


def set_visible_devices(devices, device_type: str | None = None) -> None:
    """Accept the devices to keep visible; hiding GPUs changes nothing here, hiding the CPU is refused."""
    devices = [devices] if not isinstance(devices, (list, tuple)) else list(devices)
    for device in devices:
        _known(device)
        if device_type is not None and device.device_type != device_type.upper():
            raise ValueError(f"Device {device!r} is not of type {device_type!r}")
    hides_cpu = device_type is None or device_type.upper() == "CPU"
    if hides_cpu and not any(d.device_type == "CPU" for d in devices):
        raise ValueError("chainrule computes on the CPU: it cannot be made invisible (set_visible_devices without "
                         "the CPU device)")


def list_logical_devices(device_type: str | None = None) -> list[LogicalDevice]:
    """The logical devices of ``device_type``: one per physical device, as TensorFlow makes them by default."""
    return [LogicalDevice(d.name.replace("/physical_device:", "/device:"), d.device_type)
            for d in _physical(device_type)]


def enable_op_determinism() -> None:
    """Run the same program with the same seeds to the same results: chainrule's ops already do; tf.data's parallel
    map and interleave then run in order on one thread (TensorFlow's "Determinism and tf.data")."""
    determinism.enable()


def disable_op_determinism() -> None:
    determinism.disable()


def is_op_determinism_enabled() -> bool:
    return determinism.enabled()


__all__ = ["LogicalDevice", "disable_op_determinism", "enable_op_determinism", "is_op_determinism_enabled",
           "get_memory_growth", "get_visible_devices", "list_logical_devices",
           "list_physical_devices", "set_memory_growth", "set_visible_devices"]
