"""The oracle suite on any backend: ``CHAINRULE_BACKEND=strict python -m pytest tests/oracle`` (or ``cupy``) runs
every op's PyTorch and finite-difference checks with the inputs on that backend. A test marked
``@pytest.mark.numpy_only("why")`` checks the NumPy backend's own machinery (a numba kernel against its NumPy twin,
CPU threads, float16, which the array API lacks) and is skipped on the others."""
from __future__ import annotations

import pytest

from chainrule import backend


def pytest_collection_modifyitems(config, items) -> None:
    if backend.current() == "numpy":
        return
    for item in items:
        marker = item.get_closest_marker("numpy_only")
        if marker is not None:
            why = marker.args[0] if marker.args else "the NumPy backend's own machinery"
            item.add_marker(pytest.mark.skip(reason=f"NumPy backend only ({why})"))
