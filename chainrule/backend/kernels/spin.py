"""Waiting for another thread's signal without sleeping: a thread that polls a counter in memory, yielding the core
between looks, wakes within microseconds when the counter moves, where one blocked on a lock waits for the system to
schedule it again (on a virtual machine whose core has gone idle, a wake-up can take a thousand times longer).
OpenMP's threads wait the same way, for a while, before they block (``GOMP_SPINCOUNT``, ``KMP_BLOCKTIME``).

:func:`wait_for_change` polls ``counters[index]`` from numba code that holds no GIL, so the Python threads around it
keep running. Where numba or the system's ``sched_yield`` is missing, :func:`yield_address` is None and callers block
on their locks at once.

>>> import numpy as np
>>> counters = np.zeros(1, np.int64)
>>> address = yield_address()
>>> address is None or bool(wait_for_change(counters, 0, 0, 10, address))
False
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform

from chainrule.backend.kernels import jit, numba


@functools.lru_cache(maxsize=None)
def yield_address() -> int | None:
    """The address of the C library's ``sched_yield`` (give the core to another runnable thread), or None."""
    if numba is None:
        return None
    try:
        function = ctypes.CDLL(ctypes.util.find_library("c") or None).sched_yield
    except (AttributeError, OSError):
        return None
    return ctypes.cast(function, ctypes.c_void_p).value


if numba is not None:
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def _load_acquire(typingctx, address):
        """The int64 at ``address``, read from memory every time (an atomic load: the compiler may not keep it in a
        register across the loop, and writes made before another thread's store of it are seen after)."""
        def codegen(context, builder, sig, args):
            pointer = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
            return builder.load_atomic(pointer, "acquire", 8)

        return types.int64(types.intp), codegen

    @intrinsic
    def store_release(typingctx, address, value):
        """Write the int64 ``value`` at ``address`` so that a thread that reads it (:func:`_load_acquire`) also sees
        every write this thread made before."""
        def codegen(context, builder, sig, args):
            pointer = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
            builder.store_atomic(context.cast(builder, args[1], sig.args[1], types.int64), pointer, "release", 8)
            return context.get_dummy_value()

        return types.void(types.intp, value), codegen

    @intrinsic
    def _call_no_arguments(typingctx, address):
        """Call the C function ``int f(void)`` at ``address``, its result dropped."""
        def codegen(context, builder, sig, args):
            function_type = ir.FunctionType(ir.IntType(32), [])
            builder.call(builder.inttoptr(args[0], function_type.as_pointer()), [])
            return context.get_dummy_value()

        return types.void(types.intp), codegen

    @intrinsic
    def _cycles(typingctx):
        """The processor's cycle counter (``rdtsc`` on x86): a clock that costs no system call."""
        def codegen(context, builder, sig, args):
            counter = builder.module.declare_intrinsic("llvm.readcyclecounter", fnty=ir.FunctionType(ir.IntType(64),
                                                                                                      []))
            return builder.call(counter, [])

        return types.int64(), codegen

    _PAUSE = {"x86_64": "x86", "AMD64": "x86", "aarch64": "arm", "arm64": "arm"}.get(platform.machine())

    @intrinsic
    def _pause(typingctx):
        """The processor's spin-wait hint (x86's ``pause``, ARM's ``yield``): the loop slows and frees the core's
        shared parts for its sibling; nothing where the machine has none."""
        def codegen(context, builder, sig, args):
            if _PAUSE == "x86":
                builder.call(builder.module.declare_intrinsic("llvm.x86.sse2.pause", fnty=ir.FunctionType(
                    ir.VoidType(), [])), [])
            elif _PAUSE == "arm":  # hint #1 is "yield"
                hint = builder.module.declare_intrinsic("llvm.aarch64.hint", fnty=ir.FunctionType(
                    ir.VoidType(), [ir.IntType(32)]))
                builder.call(hint, [ir.IntType(32)(1)])
            return context.get_dummy_value()

        return types.void(), codegen

    @jit(nogil=True, bit_exact=False)
    def wait_for_change(counters, index, old, cycles, yield_at):
        """Poll ``counters[index]`` until it differs from ``old`` (True) or about ``cycles`` processor cycles have
        passed (False), with the processor's pause between looks and ``sched_yield`` (at ``yield_at``) every 64
        looks, so that another thread that wants the core soon gets it."""
        address = counters.ctypes.data + index * 8
        start = _cycles()
        looks = 0
        while _cycles() - start < cycles:
            if _load_acquire(address) != old:
                return True
            looks += 1
            if looks % 64 == 0:
                _call_no_arguments(yield_at)
            else:
                _pause()
        return _load_acquire(address) != old
else:
    def wait_for_change(counters, index, old, cycles, yield_at):
        return bool(counters[index] != old)
