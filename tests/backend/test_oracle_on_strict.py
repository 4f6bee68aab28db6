"""The strict lane of the op oracle: tests/oracle run with ``CHAINRULE_BACKEND=strict`` (every op's PyTorch and
finite-difference checks with the inputs on array-api-strict's second device, where NumPy cannot read them), in a
process of its own. An op that calls NumPy on its arrays, or a method or keyword the array API lacks, fails here; what
a GPU's CuPy runs is the same code.

``NOT_YET`` would list an oracle file whose ops do not run off NumPy, with what stops them; the lane runs every other
file. It is empty: every op runs there (checks of the NumPy backend's own machinery are marked ``numpy_only``).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("array_api_strict")

ORACLE = Path(__file__).resolve().parent.parent / "oracle"

NOT_YET: dict[str, str] = {}  # every oracle file runs on strict (session 11 emptied it)


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
