"""The embedding lookup (chainrule/ops/embedding.py) against finite differences and PyTorch's F.embedding: repeated ids
add their gradients, the numba scatter-add equals NumPy's add.at bit for bit, and out-of-range ids are errors."""
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers
from test_second_order import assert_second_order_matches_torch

import chainrule as cr
from chainrule import ops
from chainrule.backend import kernels
from chainrule.backend.kernels import embedding as embedding_kernels
from chainrule.engine.gradcheck import check_gradients

TABLE = np.random.default_rng(0).standard_normal((7, 5))

IDS = {
    "2-d batch with repeats": np.array([[1, 6, 1], [0, 1, 6]]),
    "1-d": np.array([3, 3, 3, 2]),
    "scalar id": np.array(4),
    "empty": np.zeros((2, 0), dtype=np.int64),
    "int32": np.array([[5, 0], [0, 5]], dtype=np.int32),
}


@covers("embedding_lookup", kind="fd")
@covers("embedding_lookup", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", sorted(IDS))
def test_embedding_lookup_matches_torch_and_finite_differences(case, dtype):
    ids = IDS[case]
    compare_with_torch(lambda t: ops.embedding_lookup(t, ids),
                       lambda t: F.embedding(torch.tensor(ids.astype(np.int64)), t), TABLE, dtype=dtype)
    if dtype == np.float64:
        check_gradients(lambda t: ops.embedding_lookup(t, ids), TABLE)


def test_embedding_lookup_of_a_3d_table_takes_whole_slices():
    table = np.random.default_rng(1).standard_normal((4, 2, 3))
    ids = np.array([[3, 0, 3]])
    np.testing.assert_array_equal(ops.embedding_lookup(table, ids).numpy(), table[ids])
    check_gradients(lambda t: ops.embedding_lookup(t, ids), table)


def test_embedding_lookup_second_order_matches_torch():
    ids = np.array([[1, 1], [0, 2]])
    assert_second_order_matches_torch(lambda t: ops.embedding_lookup(t, ids) ** 3,
                                      lambda t: F.embedding(torch.tensor(ids), t) ** 3, TABLE[:3])


def test_ids_given_as_a_tensor_are_replayed_in_a_traced_step():
    table = cr.Variable(TABLE)

    @cr.function
    def total(ids):
        with cr.GradientTape() as tape:
            loss = cr.reduce_sum(ops.embedding_lookup(table, ids) ** 2)
        return tape.gradient(loss, table)

    for ids in (np.array([[0, 0, 2]]), np.array([[6, 1, 1]])):
        expected = np.zeros_like(TABLE)
        np.add.at(expected, ids.reshape(-1), 2 * TABLE[ids.reshape(-1)])
        np.testing.assert_allclose(total(cr.constant(ids)).numpy(), expected)


@pytest.mark.parametrize("ids, first", [(np.array([[0, 7], [1, 2]]), "indices[0,1] = 7"),
                                        (np.array([1, -1]), "indices[1] = -1")])
def test_out_of_range_ids_name_the_caller_and_the_first_bad_position(ids, first):
    with pytest.raises(IndexError, match=re.escape(f"my_layer: {first} is not in [0, 7)")):
        ops.embedding_lookup(TABLE, ids, caller="my_layer")


def test_float_ids_are_refused():
    with pytest.raises(TypeError, match="embedding_lookup: ids must be integers"):
        ops.embedding_lookup(TABLE, np.array([1.0, 2.0]))


@pytest.mark.numpy_only("compares the numba scatter-add kernel with NumPy's add.at")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_add_kernel_equals_numpy_add_at_bit_for_bit(dtype):
    pytest.importorskip("numba")
    rng = np.random.default_rng(2)
    g = rng.standard_normal((500, 9)).astype(dtype)
    ids = rng.integers(0, 40, 500)  # many repeats: the order of the additions matters for the bits
    before = kernels.enabled()
    kernels.set_enabled(True)
    try:
        mine = embedding_kernels.scatter_add_rows(g, ids, 40)
    finally:
        kernels.set_enabled(before)
    np.testing.assert_array_equal(mine, embedding_kernels.scatter_add_rows_numpy(g, ids, 40))
