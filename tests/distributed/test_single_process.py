"""chainrule.distributed in one process (no MPI launcher): the same API, every collective returning its input,
and training under a strategy or a DistributedOptimizer exactly as without. Fast; part of the default run."""
from __future__ import annotations

import numpy as np
import pytest

import chainrule as tf
from chainrule import distributed as dist
from chainrule import keras
from chainrule.distributed import comm
from chainrule.distributed.failure import message
from chainrule.distributed.fusion import GradientReducer


def test_one_process_is_rank_zero_of_one():
    dist.init()
    assert (dist.rank(), dist.size(), dist.local_rank(), dist.local_size()) == (0, 1, 0, 1)
    assert dist.is_initialized() and not dist.mpi_enabled()
    dist.barrier()


def test_launcher_variables_mean_mpi(monkeypatch):
    for name in ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALRANKID", "CHAINRULE_MPI"):
        monkeypatch.delenv(name, raising=False)
    assert not comm.launched_by_mpi()
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert comm.launched_by_mpi()


def test_collectives_return_their_input_and_keep_its_kind():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    for op in ("sum", "average", "min", "max", "prod"):
        np.testing.assert_array_equal(dist.allreduce(x, op=op), x)
    assert dist.allreduce(np.array([1, 2]), op="average").dtype == np.float64  # (Horovod averages ints to floats)
    t = dist.allreduce(tf.constant([1.0, 2.0]))
    assert isinstance(t, tf.Tensor) and t.numpy().tolist() == [1.0, 2.0]
    np.testing.assert_array_equal(dist.broadcast(x, root_rank=0), x)
    np.testing.assert_array_equal(dist.allgather(x), x)
    assert dist.allgather(5).tolist() == [5]
    assert dist.broadcast_object({"a": 1}) == {"a": 1} and dist.allgather_object("r0") == ["r0"]


def test_collectives_leave_their_input_alone():
    x = np.ones(3, np.float32)
    out = dist.allreduce(x, op="sum")
    out += 1
    assert x.tolist() == [1.0, 1.0, 1.0]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="op must be one of"):
        dist.allreduce([1.0], op="mean")
    with pytest.raises(ValueError, match="root_rank must be in"):
        dist.broadcast([1.0], root_rank=1)
    with pytest.raises(TypeError, match="allreduce_object|broadcast_object|use allreduce_object"):
        dist.allreduce({"a": 1})
    with pytest.raises(ValueError, match="compression must be one of"):
        dist.DistributedOptimizer("sgd", compression="int8")
    with pytest.raises(ValueError, match="op must be 'average' or 'sum'"):
        dist.DistributedOptimizer("sgd", op="max")


def test_fused_reducer_scales_and_keeps_shapes_and_nones():
    reducer = GradientReducer(threshold_bytes=8)  # pieces of 2 float32 values: several allreduces per buffer
    grads = [np.arange(6, dtype=np.float32).reshape(2, 3), None, np.ones(1, np.float64), np.full(3, 2, np.float32)]
    out = reducer.reduce(grads, 0.5)
    assert out[1] is None
    for g, o in zip(grads, out):
        if g is not None:
            assert o.shape == g.shape and o.dtype == g.dtype
            np.testing.assert_array_equal(o, g * 0.5)


def test_fp16_compression_rounds_to_half_precision():
    g = np.array([1.0 + 2 ** -12, 3.0], np.float32)
    (out,) = GradientReducer("fp16").reduce([g], 1.0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, g.astype(np.float16).astype(np.float32))


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype("float32")
    return x, (x.sum(1) > 0).astype("int64")


def _model(optimizer):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _weights(model):
    return [w.numpy() for w in model.weights]


def test_distributed_optimizer_is_the_same_optimizer_in_one_process():
    x, y = _data()
    plain = _model(keras.optimizers.Adam(0.01))
    h1 = plain.fit(x, y, batch_size=16, epochs=2, verbose=0)
    wrapped_opt = dist.DistributedOptimizer(keras.optimizers.Adam(0.01), compression=dist.Compression.fp16)
    assert type(wrapped_opt).__name__ == "Adam" and isinstance(wrapped_opt, keras.optimizers.Adam)
    assert dist.is_distributed(wrapped_opt) and dist.DistributedOptimizer(wrapped_opt) is wrapped_opt
    wrapped = _model(wrapped_opt)
    h2 = wrapped.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert h1.history == h2.history
    for a, b in zip(_weights(plain), _weights(wrapped)):
        np.testing.assert_array_equal(a, b)
    assert keras.optimizers.serialize(wrapped_opt)["class_name"] == "Adam"


def test_strategy_scope_sets_the_strategy_and_wraps_the_optimizer():
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    assert strategy.num_replicas_in_sync == 1 and strategy.cluster_resolver.task_id == 0
    assert not tf.distribute.has_strategy()
    with strategy.scope():
        assert tf.distribute.get_strategy() is strategy and tf.distribute.has_strategy()
        scoped = _model("sgd")
    assert keras.distribution.distribution() is None and not tf.distribute.has_strategy()  # (closed again)
    assert dist.is_distributed(scoped.optimizer) and not dist.is_distributed(_model("sgd").optimizer)


def test_strategy_fit_equals_plain_fit_bit_for_bit():
    x, y = _data()
    plain = _model("adam")
    plain_history = plain.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.25).history
    with tf.distribute.MultiWorkerMirroredStrategy().scope():
        scoped = _model("adam")  # (reseeds: the shuffles draw the same permutations)
    scoped_history = scoped.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.25).history
    assert scoped_history == plain_history
    for a, b in zip(_weights(plain), _weights(scoped)):
        np.testing.assert_array_equal(a, b)


def test_strategy_run_reduce_and_distributed_dataset():
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    assert strategy.run(lambda a, b=0: a + b, args=(1,), kwargs={"b": 2}) == 3
    assert tf.distribute.in_cross_replica_context()
    assert not strategy.run(tf.distribute.in_cross_replica_context)
    value = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=0).numpy().tolist() == [2.0, 3.0]
    assert strategy.reduce("SUM", value, axis=None).numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(ValueError, match="reduce_op must be"):
        strategy.reduce("MAX", value)
    dataset = tf.data.Dataset.from_tensor_slices(np.arange(10.0)).batch(4)
    assert [b.numpy().tolist() if hasattr(b, "numpy") else list(b)
            for b in strategy.experimental_distribute_dataset(dataset)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert strategy.gather(value, axis=1).numpy().tolist() == value.numpy().tolist()


def test_gradient_tape_loop_under_strategy_run():
    x, y = _data()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    finals = []
    for use_strategy in (False, True):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        with strategy.scope():
            optimizer = keras.optimizers.SGD(0.1)

        def step(xb, yb):
            with tf.GradientTape() as tape:
                loss = loss_fn(yb, model(xb))
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        for i in range(3):
            batch = (x[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16])
            strategy.run(step, args=batch) if use_strategy else step(*batch)
        finals.append(_weights(model))
    for a, b in zip(*finals):
        np.testing.assert_array_equal(a, b)


def test_sync_batch_normalization_is_batch_normalization_in_one_process():
    x = np.random.default_rng(1).normal(size=(8, 3)).astype("float32")
    sync, plain = dist.SyncBatchNormalization(momentum=0.5), keras.layers.BatchNormalization(momentum=0.5)
    np.testing.assert_allclose(sync(x, training=True).numpy(), plain(x, training=True).numpy(), atol=1e-6)
    np.testing.assert_allclose(sync.moving_variance.numpy(), plain.moving_variance.numpy(), rtol=1e-6)


def test_failure_message_names_the_rank_and_the_error():
    assert message(2, 4, KeyError("w")) == \
        "chainrule.distributed: rank 2 of 4 failed with KeyError: 'w'; ending all ranks"
