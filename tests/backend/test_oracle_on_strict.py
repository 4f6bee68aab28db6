"""The strict lane of the op oracle: tests/oracle run with ``CHAINRULE_BACKEND=strict`` (every op's PyTorch and
finite-difference checks with the inputs on array-api-strict's second device, where NumPy cannot read them), in a
process of its own. An op that calls NumPy on its arrays, or a method or keyword the array API lacks, fails here; what
a GPU's CuPy runs is the same code.

``NOT_YET`` lists the oracle files whose ops do not run off NumPy yet, each with what stops them: the lane runs every
other file, and each entry leaves when its ops are ported (docs/gpu.md keeps the count).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("array_api_strict")

ORACLE = Path(__file__).resolve().parent.parent / "oracle"

NOT_YET: dict[str, str] = {
    "test_col2im_kernel.py": "compares the numba col2im with its NumPy twin",
    "test_conv_transpose_ops.py": "conv_transpose's im2col uses strided views",
    "test_ctc_ops.py": "CTC runs on the host",
    "test_decomposition_ops.py": "decompositions through NumPy's linalg",
    "test_depthwise_ops.py": "the depthwise NumPy path uses out= and strided views",
    "test_fft_ops.py": "complex and FFT ops through NumPy",
    "test_image_transform_ops.py": "image transforms index with NumPy arrays",
    "test_matrix_ops.py": "matrix ops through NumPy's linalg",
    "test_ops_3d.py": "3-D convolution and pooling through strided views",
    "test_pool_kernels.py": "compares the numba pooling kernels with their NumPy twins",
    "test_upsampling_ops.py": "resizing through NumPy indexing",
}


def test_not_yet_names_only_oracle_files():
    files = {p.name for p in ORACLE.glob("test_*.py")}
    assert set(NOT_YET) <= files, sorted(set(NOT_YET) - files)


def test_oracle_passes_on_the_strict_backend():
    files = sorted(p.name for p in ORACLE.glob("test_*.py") if p.name not in NOT_YET)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "--tb=short",
                           *(str(ORACLE / f) for f in files)],
                          env={**os.environ, "CHAINRULE_BACKEND": "strict"}, capture_output=True, text=True,
                          cwd=ORACLE.parent.parent)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
