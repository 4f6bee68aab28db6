"""NumPy's own BLAS called from inside numba kernels: a kernel that loops over many small products (a recurrent
layer's steps) runs the whole loop without coming back to Python, and so without taking the GIL between steps.

The library is the one NumPy links (found through threadpoolctl), and the function its single-precision GEMM in the
CBLAS interface with 64-bit integers, under the names NumPy's and SciPy's wheels give it. Kernels take its address
as an argument (a number: the machine code they compile stays valid in another process, so numba's disk cache keeps
it) and call it through :func:`gemm`. Where no such library or function is found (another BLAS, NumPy built
differently, no numba), :func:`sgemm_address` is None and callers keep their NumPy loops.

>>> sgemm_address() is None or sgemm_address() > 0
True
"""
from __future__ import annotations

import ctypes
import functools

from chainrule.backend.kernels import numba

# CBLAS's enumerations
ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
# ILP64 CBLAS single-precision GEMM, as NumPy's (scipy-openblas) and other OpenBLAS 64-bit-integer builds name it
_NAMES = ("scipy_cblas_sgemm64_", "cblas_sgemm64_", "cblas_sgemm_64")


@functools.lru_cache(maxsize=None)
def sgemm_address() -> int | None:
    """The address of the BLAS NumPy uses for ``C = alpha op(A) op(B) + beta C`` on float32 (row-major, 64-bit
    integers), or None."""
    if numba is None:
        return None
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    for library in ThreadpoolController().select(user_api="blas").lib_controllers:
        for name in _NAMES:
            function = getattr(library.dynlib, name, None)
            if function is not None:
                return ctypes.cast(function, ctypes.c_void_p).value
    return None


if numba is not None:
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def _call_gemm(typingctx, address, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
        """The call itself: ``address`` cast to CBLAS's sgemm signature (row-major); the pointers as integers."""
        signature = types.void(address, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

        def codegen(context, builder, sig, args):
            i32, f32, pointer = ir.IntType(32), ir.FloatType(), ir.IntType(8).as_pointer()
            kinds = (types.int64, types.int32, types.int32, types.int64, types.int64, types.int64, types.float32,
                     pointer, types.int64, pointer, types.int64, types.float32, pointer, types.int64)
            values = []
            for value, given, kind in zip(args, sig.args, kinds):
                if kind is pointer:
                    value = builder.inttoptr(context.cast(builder, value, given, types.int64), pointer)
                else:
                    value = context.cast(builder, value, given, kind)
                values.append(value)
            function_type = ir.FunctionType(ir.VoidType(), [i32] + [v.type for v in values[1:]])
            function = builder.inttoptr(values[0], function_type.as_pointer())
            builder.call(function, [i32(ROW_MAJOR)] + values[1:])
            return context.get_dummy_value()

        return signature, codegen

    @numba.njit(inline="always")
    def gemm(address, a, b, c, beta):
        """``c = a @ b + beta c`` for float32 matrices whose rows are contiguous (any row strides), by the BLAS at
        ``address``."""
        m, k = a.shape
        _call_gemm(address, NO_TRANS, NO_TRANS, m, b.shape[1], k, 1.0, a.ctypes.data, a.strides[0] // 4, b.ctypes.data,
                   b.strides[0] // 4, beta, c.ctypes.data, c.strides[0] // 4)

    @numba.njit(inline="always")
    def gemm_transposed_a(address, a, b, c, beta):
        """``c = aᵀ @ b + beta c``, as :func:`gemm`."""
        k, m = a.shape
        _call_gemm(address, TRANS, NO_TRANS, m, b.shape[1], k, 1.0, a.ctypes.data, a.strides[0] // 4, b.ctypes.data,
                   b.strides[0] // 4, beta, c.ctypes.data, c.strides[0] // 4)
