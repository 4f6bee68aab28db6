"""The meta-test: every registered op has a finite-difference check and a PyTorch comparison."""
import importlib.util
from pathlib import Path

from helpers import COVERAGE

from chainrule.ops import OPS


def _import_all_oracle_tests() -> None:
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        if path.name != Path(__file__).name:
            spec = importlib.util.spec_from_file_location(f"_coverage_{path.stem}", path)
            spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_every_registered_op_has_both_checks():
    _import_all_oracle_tests()
    missing_fd = sorted(set(OPS) - COVERAGE["fd"])
    missing_torch = sorted(set(OPS) - COVERAGE["torch"])
    assert not missing_fd, f"ops without a finite-difference check: {missing_fd}"
    assert not missing_torch, f"ops without a PyTorch comparison: {missing_torch}"


def test_coverage_names_are_real_ops():
    _import_all_oracle_tests()
    unknown = sorted((COVERAGE["fd"] | COVERAGE["torch"]) - set(OPS))
    assert not unknown, f"tests claim to cover ops that are not registered: {unknown}"
