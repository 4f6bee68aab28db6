"""float16 compression on real ranks (tests/distributed/compression_program.py under ``mpiexec -n 2`` and ``-n 3``,
and alone for the one-process reference): the user-defined MPI sum of half-precision words gives the weighted sums
exactly where float16 holds them and to its rounding elsewhere, ``allreduce`` of float16 combines by every
operation (user-defined MPI operations on 2-byte words), and ``fit`` with a compressing ``DistributedOptimizer`` trains as one process does, to
float16's rounding of the gradients. Marked ``mpi``."""
from __future__ import annotations

import numpy as np
import pytest
from mpi_ranks import ROOT, ranks_results

pytestmark = pytest.mark.mpi
PROGRAM = ROOT / "tests" / "distributed" / "compression_program.py"


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    return ranks_results(1, PROGRAM, tmp_path_factory.mktemp("one"), "compression")[0]


@pytest.fixture(scope="module", params=[2, 3], ids=["2 ranks", "3 ranks"])
def ranks(request, tmp_path_factory):  # (the program checks that the weights are the same on every rank)
    n = request.param
    return n, ranks_results(n, PROGRAM, tmp_path_factory.mktemp(f"ranks{n}"), "compression")


def test_fp16_exchange_sums_exactly_where_half_precision_holds_the_sums(ranks):
    n, results = ranks
    scale = 0.5 * sum(r + 1 for r in range(n))  # (weight 0.5, rank r's gradients times r + 1)
    for result in results:
        np.testing.assert_array_equal(result["exact_0"], np.arange(6, dtype=np.float32).reshape(2, 3) * scale)
        np.testing.assert_array_equal(result["exact_1"], np.full(5, 0.25 * scale, np.float32))


def test_fp16_exchange_rounds_to_half_precision_elsewhere(ranks):
    n, results = ranks
    exact = np.linspace(-1, 1, 7, dtype=np.float32) / 3 * 0.5 * sum(r + 1 for r in range(n))
    for result in results:
        np.testing.assert_allclose(result["rounded"], exact, rtol=2e-3, atol=1e-4)
        assert not np.array_equal(result["rounded"], exact)  # (it did travel in float16)
        np.testing.assert_array_equal(result["rounded"], results[0]["rounded"])


def test_allreduce_of_float16_by_every_operation(ranks):
    n, results = ranks
    each = [np.array([1.5, -2.0, 0.125], np.float16) * (r + 1) for r in range(n)]  # (what rank r sends)
    for result in results:
        for op, expected in (("sum", np.sum(each, axis=0)), ("min", np.min(each, axis=0)),
                             ("max", np.max(each, axis=0)), ("prod", np.prod(each, axis=0))):
            assert result[f"half_{op}"].dtype == np.float16, op
            np.testing.assert_array_equal(result[f"half_{op}"], expected.astype(np.float16), err_msg=op)
        np.testing.assert_allclose(result["half_average"], np.sum(each, axis=0, dtype=np.float32) / n, rtol=1e-3)


def test_fit_with_fp16_compression_trains_as_one_process_to_its_rounding(single, ranks):
    n, results = ranks
    for result in results:
        assert list(result["wires"]) == ["float16"]  # (the gradients did travel in float16)
        np.testing.assert_allclose(result["weights"], single["weights"], rtol=0, atol=5e-5)
