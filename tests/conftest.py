import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "oracle"))


import pytest  # noqa: E402


@pytest.fixture
def replays(monkeypatch):
    """A list that gets one item per replayed call of a traced function (chainrule/engine/tracer.py's Program.run)."""
    from chainrule.engine.tracer import Program

    count = []
    run = Program.run
    monkeypatch.setattr(Program, "run", lambda self, leaves: count.append(1) or run(self, leaves))
    return count


@pytest.fixture
def strict():
    """Switch to the strict backend (array-api-strict's second device) for one test, and back to the one before."""
    from chainrule import backend

    before = backend.current()
    backend.set_backend("strict")
    yield backend.get_backend()
    backend.set_backend(before)


@pytest.fixture
def restore_backend():
    """Whatever backend a test chooses, the one before is chosen again after it."""
    from chainrule import backend

    before = backend.current()
    yield
    backend.set_backend(before)


def pytest_collection_modifyitems(config, items) -> None:
    """tests/oracle on any backend (``CHAINRULE_BACKEND=strict python -m pytest tests/oracle``, or ``cupy``): a test
    marked ``@pytest.mark.numpy_only("why")`` checks the NumPy backend's own machinery (a numba kernel against its
    NumPy twin, CPU threads, float16, which the array API lacks) and is skipped on the others."""
    from chainrule import backend

    if backend.current() == "numpy":
        return
    for item in items:
        marker = item.get_closest_marker("numpy_only")
        if marker is not None:
            why = marker.args[0] if marker.args else "the NumPy backend's own machinery"
            item.add_marker(pytest.mark.skip(reason=f"NumPy backend only ({why})"))
