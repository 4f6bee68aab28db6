"""The meta-test: every registered op has a finite-difference check and a PyTorch comparison.

Ops register themselves (``@op``) when their module is imported, and some live above ``chainrule.ops`` (the
differentiable collectives in chainrule/distributed/), so every module of the package is imported first. The checks
are the oracle tests, and tests elsewhere that mark what they check with ``covers`` (tests/distributed/).
"""
import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path

from helpers import COVERAGE

import chainrule
from chainrule.ops import OPS

TESTS = Path(__file__).resolve().parents[1]


def _import_every_module() -> None:
    for module in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def _import_all_oracle_tests() -> None:
    _import_every_module()
    elsewhere = [path for path in sorted(TESTS.rglob("test_*.py"))
                 if path.parent.name != "oracle" and "@covers(" in path.read_text()]
    for path in sorted(Path(__file__).parent.glob("test_*.py")) + elsewhere:
        if path.name != Path(__file__).name:
            if str(path.parent) not in sys.path:  # (its helpers beside it, as pytest's own import finds them)
                sys.path.append(str(path.parent))
            spec = importlib.util.spec_from_file_location(f"_coverage_{path.parent.name}_{path.stem}", path)
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
