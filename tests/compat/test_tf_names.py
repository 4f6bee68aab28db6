"""The TensorFlow names tutorials reach for (chainrule/compat/tf/): tf.newaxis, tf.version, tf.config's devices,
tf.linspace, tf.range, tf.Module, tf.name_scope, tf.add_n, tf.einsum, tf.TensorShape, tf.device, tf.linalg,
tf.math.cumsum/cumprod and the trigonometric names, each against TensorFlow's documented values and errors (or
NumPy/PyTorch for the numbers)."""
import numpy as np
import pytest
import torch

import chainrule
import chainrule as tf


# --- small names ------------------------------------------------------------------------------------------------
def test_newaxis_version_and_existing_names():
    x = tf.constant([1.0, 2.0])
    assert x[:, tf.newaxis].shape == (2, 1) and x[tf.newaxis, ...].shape == (1, 2)
    assert tf.version.VERSION == tf.__version__ == chainrule.__version__
    assert callable(tf.keras.backend.random_normal) and tf.TensorSpec([None, 3]).shape == (None, 3)


def test_config_devices_as_on_a_machine_without_a_gpu():
    assert tf.config.list_physical_devices("GPU") == [] == tf.config.experimental.list_physical_devices("GPU")
    (cpu,) = tf.config.list_physical_devices()
    assert (cpu.name, cpu.device_type) == ("/physical_device:CPU:0", "CPU")
    for gpu in tf.config.experimental.list_physical_devices("GPU"):  # the usual set-up runs as a no-op
        tf.config.experimental.set_memory_growth(gpu, True)
    with pytest.raises(ValueError, match="Cannot set memory growth on non-GPU and non-Pluggable devices"):
        tf.config.experimental.set_memory_growth(cpu, True)
    with pytest.raises(ValueError, match="Unrecognized device"):
        tf.config.experimental.set_memory_growth(tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU"), True)
    tf.config.set_visible_devices([], "GPU")
    tf.config.experimental.set_visible_devices([cpu])
    with pytest.raises(ValueError, match="cannot be made invisible"):
        tf.config.set_visible_devices([])
    assert tf.config.get_visible_devices() == [cpu]
    assert tf.config.list_logical_devices("CPU")[0].name == "/device:CPU:0"
    assert tf.config.list_logical_devices("GPU") == []


# --- tf.range and tf.linspace -------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs, expected, dtype", [
    ((5,), {}, [0, 1, 2, 3, 4], np.int32),
    ((3, 18, 3), {}, [3, 6, 9, 12, 15], np.int32),  # TensorFlow's documented examples
    ((3, 1, -0.5), {}, [3.0, 2.5, 2.0, 1.5], np.float32),
    ((10, 2, -3), {}, [10, 7, 4], np.int32),
    ((5,), {"dtype": tf.float64}, [0.0, 1.0, 2.0, 3.0, 4.0], np.float64),
    ((1, 4), {"dtype": "int64"}, [1, 2, 3], np.int64),
    ((4, 4), {}, [], np.int32),
    ((np.int64(3),), {}, [0, 1, 2], np.int64),
    ((0, 2, np.float64(0.5)), {}, [0.0, 0.5, 1.0, 1.5], np.float64),
], ids=str)
def test_range_values_and_dtypes(args, kwargs, expected, dtype):
    r = tf.range(*args, **kwargs)
    assert r.dtype == dtype
    np.testing.assert_array_equal(r.numpy(), np.array(expected, dtype))


def test_float_ranges_accumulate_delta_as_tensorflow_does():
    """TensorFlow adds delta to the previous value in float32: tf.range(0, 1, 0.1) ends 0.70000005, 0.8000001, ..."""
    r = tf.range(0.0, 1.0, 0.1)
    assert r.shape == (10,)
    np.testing.assert_array_equal(r.numpy()[-3:], np.array([0.70000005, 0.8000001, 0.9000001], np.float32))


def test_range_errors_are_tensorflows():
    with pytest.raises(tf.errors.InvalidArgumentError, match="Requires delta != 0: 0"):
        tf.range(0, 5, 0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Requires start <= limit when delta > 0: 5/1"):
        tf.range(5, 1)
    with pytest.raises(ValueError, match=r"Requires start >= limit when delta < 0: 1/5"):
        tf.range(1, 5, -1)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"limit must be a scalar, not shape \[2\]"):
        tf.range(0, [1, 2])
    with pytest.raises(TypeError, match="cannot be converted to int32"):
        tf.range(0, 2.5, dtype=tf.int32)


def test_linspace_documented_examples_and_dtypes():
    np.testing.assert_array_equal(tf.linspace(10.0, 12.0, 3).numpy(), np.array([10, 11, 12], np.float32))
    expected = np.array([[0, 5], [2.5, 13.75], [5, 22.5], [7.5, 31.25], [10, 40]], np.float32)
    np.testing.assert_array_equal(tf.linspace([0.0, 5.0], [10.0, 40.0], 5, axis=0).numpy(), expected)
    np.testing.assert_array_equal(tf.linspace([0.0, 5.0], [10.0, 40.0], 5, axis=-1).numpy(), expected.T)
    ints = tf.linspace(0, 100, 5)  # integers are divided into float64, as TensorFlow does
    assert ints.dtype == np.float64 and ints.numpy().tolist() == [0, 25, 50, 75, 100]
    assert tf.linspace(1.0, 2.0, 1).numpy().tolist() == [1.0] and tf.linspace(1.0, 2.0, 0).shape == (0,)
    np.testing.assert_allclose(tf.linspace(-1.0, 1.0, 7).numpy(), np.linspace(-1, 1, 7), rtol=1e-6)
    with pytest.raises(ValueError, match="`num` must be >= 0"):
        tf.linspace(0.0, 1.0, -1)


def test_linspace_is_differentiable_in_start_and_stop():
    start, stop = tf.Variable([0.0, 1.0]), tf.Variable([2.0, 5.0])
    weights = np.arange(8, dtype=np.float32).reshape(4, 2)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.linspace(start, stop, 4) * weights)
    d_start, d_stop = tape.gradient(y, [start, stop])
    fraction = np.linspace(0, 1, 4)[:, None]  # value k = start + (stop - start) * k / 3
    np.testing.assert_allclose(d_start.numpy(), ((1 - fraction) * weights).sum(0), rtol=1e-6)
    np.testing.assert_allclose(d_stop.numpy(), (fraction * weights).sum(0), rtol=1e-6)


# --- tf.Module and tf.name_scope ----------------------------------------------------------------------------------
class SimpleModule(tf.Module):
    """TensorFlow's guide 'Introduction to modules, layers, and models'."""

    def __init__(self, name=None):
        super().__init__(name=name)
        self.a_variable = tf.Variable(5.0, name="train_me")
        self.non_trainable_variable = tf.Variable(5.0, trainable=False, name="do_not_train_me")

    def __call__(self, x):
        return self.a_variable * x + self.non_trainable_variable


class Dense(tf.Module):
    def __init__(self, in_features, out_features, name=None):
        super().__init__(name=name)
        self.w = tf.Variable(tf.random.normal([in_features, out_features]), name="w")
        self.b = tf.Variable(tf.zeros([out_features]), name="b")

    def __call__(self, x):
        return tf.nn.relu(tf.matmul(x, self.w) + self.b)


class SequentialModule(tf.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.dense_1 = Dense(in_features=3, out_features=3)
        self.dense_2 = Dense(in_features=3, out_features=2)

    def __call__(self, x):
        return self.dense_2(self.dense_1(x))


def test_module_finds_its_variables_as_tensorflow_lists_them():
    simple = SimpleModule(name="simple")
    assert float(simple(tf.constant(5.0))) == 30.0
    assert [v.name for v in simple.trainable_variables] == ["train_me"]
    assert [v.name for v in simple.variables] == ["train_me", "do_not_train_me"]
    assert [v.name for v in simple.non_trainable_variables] == ["do_not_train_me"]
    model = SequentialModule(name="the_model")
    assert model(tf.constant([[2.0, 2.0, 2.0]])).shape == (1, 2)
    assert model.submodules == (model.dense_1, model.dense_2) and model.dense_1.name == "dense"
    # own attributes by name, then each submodule's, breadth first
    assert model.variables == (model.dense_1.b, model.dense_1.w, model.dense_2.b, model.dense_2.w)
    assert SequentialModule().name == "sequential_module"


def test_module_looks_inside_containers_keras_layers_and_counts_each_variable_once():
    class Holder(tf.Module):
        def __init__(self):
            super().__init__()
            self.blocks = [Dense(2, 2), {"head": Dense(2, 1)}]
            self.shared = self.blocks[0].w  # the same Variable twice: listed once
            self.layer = tf.keras.layers.Dense(3)
            self.layer.build((None, 2))
            self.frozen = tf.Variable(1.0, trainable=False)

    holder = Holder()
    ids = [id(v) for v in holder.variables]
    assert len(ids) == len(set(ids)) == 2 + 2 + 2 + 1
    assert any(m is holder.layer for m in holder.submodules)
    assert any(v is holder.layer.kernel for v in holder.trainable_variables)
    assert not any(v is holder.frozen for v in holder.trainable_variables)
    paths = [path for path, _ in holder._flatten(predicate=lambda v: isinstance(v, tf.Variable), with_path=True)]
    assert ("blocks", 1, "head", "w") in paths


def test_a_module_trains_with_a_tape_as_in_the_basic_training_loop_tutorial():
    class MyModel(tf.Module):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.w = tf.Variable(5.0)
            self.b = tf.Variable(0.0)

        def __call__(self, x):
            return self.w * x + self.b

    x = tf.random.normal(shape=[200], seed=1)
    y = x * 3.0 + 2.0
    model = MyModel()
    for _ in range(60):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(y - model(x)))
        assert model.trainable_variables == (model.b, model.w)  # by attribute name
        dw, db = tape.gradient(loss, [model.w, model.b])
        model.w.assign_sub(0.1 * dw)
        model.b.assign_sub(0.1 * db)
    assert abs(float(model.w) - 3.0) < 1e-2 and abs(float(model.b) - 2.0) < 1e-2


def test_module_names_and_name_scopes():
    with pytest.raises(ValueError, match="is not a valid module name"):
        tf.Module(name="not valid")
    with tf.name_scope("outer") as scope:
        assert scope == "outer/"
        inner = tf.Module(name="inner")
        with tf.name_scope("block") as nested:
            assert nested == "outer/block/"
    assert inner.name == "inner" and inner.name_scope.name == "outer/inner/"
    with inner.name_scope as scope:
        assert scope == "outer/inner/"

    class Scoped(tf.Module):
        @tf.Module.with_name_scope
        def __call__(self):
            with tf.name_scope("op") as scope:
                return scope

    assert Scoped()() == "scoped/op/"
    with pytest.raises(ValueError, match="must be a string"):
        tf.name_scope(3)


# --- tf.add_n, tf.einsum, cumulative and trigonometric names ------------------------------------------------------
def test_add_n_sums_tensors_of_one_shape_and_is_differentiable():
    a, b = tf.Variable([1.0, 2.0]), tf.constant([3.0, 4.0])
    with tf.GradientTape() as tape:
        total = tf.add_n([a, b, [5.0, 6.0]])
    np.testing.assert_array_equal(total.numpy(), [9.0, 12.0])
    np.testing.assert_array_equal(tape.gradient(total, a).numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(tf.math.add_n([b, b]).numpy(), [6.0, 8.0])
    with pytest.raises(ValueError, match="inputs must be a list of at least one Tensor"):
        tf.add_n([])
    with pytest.raises(ValueError, match=r"inputs\[1\] has shape \(3,\)"):
        tf.add_n([tf.ones([2]), tf.ones([3])])


def test_einsum_matches_numpy():
    a, b = np.random.default_rng(0).standard_normal((2, 3, 4)), np.random.default_rng(1).standard_normal((2, 4, 5))
    np.testing.assert_allclose(tf.einsum("bij,bjk->bik", a, b).numpy(), np.einsum("bij,bjk->bik", a, b))
    np.testing.assert_allclose(tf.einsum("ij->", a[0], optimize="greedy").numpy(), a[0].sum())
    with pytest.raises(TypeError, match="Invalid keyword arguments"):
        tf.einsum("ij->", a[0], transpose=True)


def test_cumsum_and_cumprod_follow_tensorflows_documented_examples():
    x = tf.constant([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(tf.math.cumsum(x).numpy(), [1, 3, 6])
    np.testing.assert_array_equal(tf.math.cumsum(x, exclusive=True).numpy(), [0, 1, 3])
    np.testing.assert_array_equal(tf.math.cumsum(x, reverse=True).numpy(), [6, 5, 3])
    np.testing.assert_array_equal(tf.math.cumsum(x, exclusive=True, reverse=True).numpy(), [5, 3, 0])
    np.testing.assert_array_equal(tf.math.cumprod(x, exclusive=True).numpy(), [1, 1, 2])
    np.testing.assert_array_equal(tf.cumprod(tf.constant([[1.0, 2.0], [3.0, 4.0]]), axis=1, reverse=True).numpy(),
                                  [[2, 2], [12, 4]])
    v = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.cumsum(v, exclusive=True, reverse=True))  # [2+3, 3, 0]
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [0, 1, 2])


def test_trigonometric_names():
    x = np.array([0.1, 0.5, 0.9], np.float32)
    for name, fn in [("sin", np.sin), ("cos", np.cos), ("tan", np.tan), ("asin", np.arcsin), ("acos", np.arccos),
                     ("atan", np.arctan), ("sinh", np.sinh), ("cosh", np.cosh), ("asinh", np.arcsinh),
                     ("atanh", np.arctanh)]:
        np.testing.assert_allclose(getattr(tf, name)(x).numpy(), fn(x), rtol=1e-6, err_msg=name)
        np.testing.assert_array_equal(getattr(tf.math, name)(x).numpy(), getattr(tf, name)(x).numpy())
    np.testing.assert_allclose(tf.math.log1p(x).numpy(), np.log1p(x), rtol=1e-6)
    np.testing.assert_allclose(tf.atan2(x, x + 1).numpy(), np.arctan2(x, x + 1), rtol=1e-6)


# --- tf.TensorShape ---------------------------------------------------------------------------------------------
def test_tensor_shape_with_unknown_sizes():
    s = tf.TensorShape([None, 28, 28, 1])
    assert s.rank == s.ndims == len(s) == 4 and s.as_list() == [None, 28, 28, 1]
    assert s[0] is None and s[1] == 28 and s[-1] == 1 and s[1:3] == tf.TensorShape([28, 28])
    assert isinstance(s[1:], tf.TensorShape) and list(s) == [None, 28, 28, 1]
    assert s == (None, 28, 28, 1) and s == [None, 28, 28, 1] and s != [None, 28, 28]
    assert not s.is_fully_defined() and s.num_elements() is None
    assert tf.TensorShape([2, 3]).num_elements() == 6 and tf.TensorShape([]).num_elements() == 1
    assert s.is_compatible_with([32, 28, 28, 1]) and not s.is_compatible_with([32, 28, 27, 1])
    assert s.merge_with([32, None, 28, 1]) == [32, 28, 28, 1]
    assert s.concatenate([3]) == s + [3] == [None, 28, 28, 1, 3]
    assert repr(s) == "TensorShape([None, 28, 28, 1])" and str(s) == "(None, 28, 28, 1)"
    assert str(tf.TensorShape([5])) == "(5,)" and bool(tf.TensorShape([]))
    assert tf.keras.Input(shape=tf.TensorShape([28, 28])).shape == (None, 28, 28)
    assert tf.TensorShape(3) == [3] and tf.TensorShape([np.int64(2)]).as_list() == [2]
    with pytest.raises(ValueError, match="are not compatible"):
        s.merge_with([1, 2, 3, 4])
    with pytest.raises(ValueError, match="must have rank 2"):
        s.with_rank(2)
    with pytest.raises(ValueError, match="Dimension -1 must be >= 0"):
        tf.TensorShape([-1])


def test_tensor_shape_of_unknown_rank():
    s = tf.TensorShape(None)
    assert s.rank is None and s.dims is None and not s and str(s) == "<unknown>"
    assert s[0] is None and s.is_compatible_with([1, 2]) and s.merge_with([1, 2]) == [1, 2]
    assert s.with_rank(2) == [None, None] and s == tf.TensorShape(None)
    with pytest.raises(ValueError, match="as_list\\(\\) is not defined on an unknown TensorShape."):
        s.as_list()
    with pytest.raises(ValueError, match="Cannot take the length of shape with unknown rank."):
        len(s)


# --- tf.device ----------------------------------------------------------------------------------------------------
def test_device_blocks_run_on_the_cpu_with_soft_placement():
    with tf.device("/CPU:0"):
        a = tf.ones([2]) + 1
    with tf.device("/GPU:0"):  # no GPU: soft placement (TensorFlow's default) runs it on the CPU
        b = tf.ones([2]) * 3
    with tf.device(None):
        pass
    np.testing.assert_array_equal((a + b).numpy(), [5.0, 5.0])
    assert tf.config.get_soft_device_placement()


def test_device_without_soft_placement_refuses_a_missing_gpu():
    tf.config.set_soft_device_placement(False)
    try:
        with tf.device("/cpu:0"):
            pass
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Could not satisfy device specification '/job:localhost/replica:0/task:0/device:GPU:1'"):
            with tf.device("/device:GPU:1"):
                pass
    finally:
        tf.config.set_soft_device_placement(True)


def test_device_strings_are_parsed_as_tensorflow_parses_them():
    assert tf.DeviceSpec.from_string("/job:worker/replica:0/task:1/gpu:2").to_string() == \
        "/job:worker/replica:0/task:1/device:GPU:2"
    assert tf.DeviceSpec.from_string("cpu").to_string() == "/device:CPU:*"
    with pytest.raises(ValueError, match="Unknown attribute: 'foo' in '/foo:0'"):
        tf.device("/foo:0")
    with pytest.raises(ValueError, match="Cannot specify multiple device types"):
        tf.device("/cpu:0/gpu:0")
    with pytest.raises(RuntimeError, match="does not support functions"):
        tf.device(lambda op: "/cpu:0")


# --- tf.linalg ----------------------------------------------------------------------------------------------------
RNG = np.random.default_rng(3)
A = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)
B = RNG.standard_normal((2, 3, 2))


@pytest.mark.parametrize("name, ours, theirs", [
    ("inv", lambda a: tf.linalg.inv(a), lambda a: torch.linalg.inv(a)),
    ("inv_adjoint", lambda a: tf.linalg.inv(a, adjoint=True), lambda a: torch.linalg.inv(a.mT)),
    ("det", lambda a: tf.linalg.det(a), lambda a: torch.linalg.det(a)),
    ("solve", lambda a: tf.linalg.solve(a, B), lambda a: torch.linalg.solve(a, torch.tensor(B))),
    ("solve_adjoint", lambda a: tf.linalg.solve(a, B, adjoint=True),
     lambda a: torch.linalg.solve(a.mT, torch.tensor(B))),
    ("matmul", lambda a: tf.linalg.matmul(a, a, transpose_b=True), lambda a: a @ a.mT),
    ("matvec", lambda a: tf.linalg.matvec(a, B[..., 0]), lambda a: (a @ torch.tensor(B[..., :1]))[..., 0]),
    ("trace", lambda a: tf.linalg.trace(a), lambda a: a.diagonal(dim1=-2, dim2=-1).sum(-1)),
    ("diag_part", lambda a: tf.linalg.diag_part(a[:, :2, :]), lambda a: a[:, :2, :].diagonal(dim1=-2, dim2=-1)),
    ("diag", lambda a: tf.linalg.diag(a[:, 0]), lambda a: torch.diag_embed(a[:, 0])),
    ("transpose", lambda a: tf.linalg.matrix_transpose(a), lambda a: a.mT),
    ("band_part", lambda a: tf.linalg.band_part(a, 1, 0), lambda a: torch.tril(a) - torch.tril(a, -2)),
    ("norm", lambda a: tf.norm(a), lambda a: torch.linalg.vector_norm(a)),
    ("norm_axis", lambda a: tf.norm(a, ord=1, axis=-1, keepdims=True),
     lambda a: torch.linalg.vector_norm(a, 1, dim=-1, keepdim=True)),
    ("norm_matrix", lambda a: tf.linalg.norm(a, ord="fro", axis=[-2, -1]),
     lambda a: torch.linalg.matrix_norm(a, "fro")),
    ("norm_matrix_inf", lambda a: tf.norm(a, ord=np.inf, axis=(1, 2)), lambda a: torch.linalg.matrix_norm(a, np.inf)),
])
def test_linalg_values_and_gradients_match_torch(name, ours, theirs):
    a = tf.Variable(A)
    with tf.GradientTape() as tape:
        y = ours(a)
    t = torch.tensor(A, requires_grad=True)
    expected = theirs(t)
    np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(4).standard_normal(y.shape)
    (ours_grad,) = [tape.gradient(y, a, output_gradients=tf.constant(g))]
    (their_grad,) = torch.autograd.grad(expected, t, torch.tensor(g))
    np.testing.assert_allclose(ours_grad.numpy(), their_grad.numpy(), rtol=1e-9, atol=1e-12)


def test_eye_and_linalg_errors():
    np.testing.assert_array_equal(tf.eye(2, 3).numpy(), np.eye(2, 3, dtype=np.float32))
    assert tf.linalg.eye(2, batch_shape=[4], dtype=tf.float64).shape == (4, 2, 2)
    assert tf.eye(3).dtype == np.float32
    with pytest.raises(ValueError, match="must be a square matrix"):
        tf.linalg.det(tf.ones([2, 3]))
    with pytest.raises(np.linalg.LinAlgError, match="not invertible"):
        tf.linalg.inv(tf.zeros([2, 2]))
    with pytest.raises(ValueError, match="'ord' must be a supported vector norm, got 'fro'"):
        tf.norm(tf.ones([3]), ord="fro", axis=0)
    with pytest.raises(NotImplementedError, match="only the main diagonal"):
        tf.linalg.diag(tf.ones([3]), k=1)
