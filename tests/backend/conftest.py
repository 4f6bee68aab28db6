"""Fixtures of the backend tests."""
from __future__ import annotations

import pytest

from chainrule import backend


@pytest.fixture
def restore_backend():
    """Whatever backend a test chooses, the one before is chosen again after it."""
    before = backend.current()
    yield
    backend.set_backend(before)
