"""TensorFlow names added in session 10: tf.numpy_function, @tf.py_function(Tout=...), tf.ensure_shape,
tf.distribute.OneDeviceStrategy, tf.debugging.set_log_device_placement, tf.nn.ctc_beam_search_decoder /
ctc_greedy_decoder, tf.nn.sampled_softmax_loss / nce_loss (values and gradients against NumPy and finite
differences) and tf.sets."""
import numpy as np
import pytest

import chainrule as tf

# --- numpy_function, py_function ------------------------------------------------------------------------------------


def test_numpy_function_gets_arrays_and_gives_tensors():
    seen = []

    def f(a, b):
        seen.append((type(a), type(b)))
        return a * 2, (a + b).astype(np.float32)
    doubled, total = tf.numpy_function(f, [tf.constant([1, 2]), np.array([3, 4])], [tf.int64, tf.float32])
    assert seen == [(np.ndarray, np.ndarray)]
    assert isinstance(doubled, tf.Tensor) and doubled.numpy().tolist() == [2, 4]
    assert total.numpy().tolist() == [4.0, 6.0]

    @tf.numpy_function(Tout=tf.float32)
    def halve(x):
        return (x / 2).astype(np.float32)
    assert halve(tf.constant([4.0])).numpy().tolist() == [2.0]


def test_py_function_decorator_form_gets_tensors():
    @tf.py_function(Tout=tf.string)
    def describe(flag, word):
        assert isinstance(flag, tf.Tensor) and isinstance(word, tf.Tensor)
        return word.numpy() + (b"!" if bool(flag) else b"?")
    assert describe(True, b"yes").numpy() == b"yes!"
    assert tf.py_function(lambda x: x + 1, [tf.constant(1)], Tout=tf.int32).numpy() == 2


def test_bytes_ending_in_nul_keep_their_bytes():
    # a serialized proto often ends in a NUL byte (an int64 feature of 0): NumPy's bytes_ would drop it
    assert tf.constant(b"ab\x00").numpy() == b"ab\x00"
    assert tf.constant([b"a\x00", b"b"]).numpy().tolist() == [b"a\x00", b"b"]
    assert tf.py_function(lambda: b"\x08\x00", [], Tout=tf.string).numpy() == b"\x08\x00"
    assert tf.constant(b"abc").numpy() == b"abc"


def test_bool_tensor_is_an_index():
    assert [10, 20][tf.constant(True)] == 20
    assert tf.train.Int64List(value=[tf.constant(np.bool_(True)), tf.constant(7)]).value == [1, 7]


# --- ensure_shape ---------------------------------------------------------------------------------------------------


def test_ensure_shape_passes_values_and_gradients_and_refuses_a_misfit():
    x = tf.Variable(np.ones((2, 3), np.float32))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.ensure_shape(x * 2.0, [None, 3]) ** 2)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.full((2, 3), 8.0))
    assert tf.ensure_shape(tf.zeros([2, 3]), tf.TensorShape([2, None])).shape == (2, 3)
    assert tf.ensure_shape(tf.zeros([2, 3]), [2, -1]).shape == (2, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[2,3\] is not compatible with expected shape \[2,2\]"):
        tf.ensure_shape(tf.zeros([2, 3]), [2, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected shape"):
        tf.ensure_shape(tf.zeros([2, 3]), [2, 3, 1])


def test_ensure_shape_inside_dataset_map():
    ds = tf.data.Dataset.from_tensor_slices(np.zeros((4, 3), np.float32)).map(lambda x: tf.ensure_shape(x, [3]))
    assert len(list(ds)) == 4
    bad = tf.data.Dataset.from_tensor_slices(np.zeros((4, 3), np.float32)).map(lambda x: tf.ensure_shape(x, [2]))
    with pytest.raises(tf.errors.InvalidArgumentError):
        list(bad)


# --- OneDeviceStrategy, log_device_placement ------------------------------------------------------------------------


def test_one_device_strategy():
    strategy = tf.distribute.OneDeviceStrategy(device="/cpu:0")
    assert strategy.num_replicas_in_sync == 1
    with strategy.scope():
        assert tf.distribute.get_strategy() is strategy
        model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
    assert tf.distribute.get_strategy() is not strategy
    history = model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=2, batch_size=4, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    assert float(strategy.run(lambda a: a * 2, args=(tf.constant(3.0),))) == 6.0
    assert float(strategy.reduce(tf.distribute.ReduceOp.SUM, tf.constant([1.0, 2.0]), axis=0)) == 3.0
    assert float(strategy.reduce("MEAN", tf.constant([1.0, 2.0]), axis=0)) == 1.5
    dataset = tf.data.Dataset.range(3)
    assert strategy.experimental_distribute_dataset(dataset) is dataset
    assert tf.distribute.OneDeviceStrategy("/gpu:0").num_replicas_in_sync == 1  # soft placement: runs on the CPU
    with pytest.raises(ValueError, match="Unknown attribute"):
        tf.distribute.OneDeviceStrategy("/pgu:0")


def test_set_log_device_placement_logs_each_op(capsys):
    x = tf.constant([[1.0, 2.0]])
    tf.debugging.set_log_device_placement(True)
    try:
        assert tf.debugging.get_log_device_placement()
        tf.matmul(x, tf.transpose(x))
    finally:
        tf.debugging.set_log_device_placement(False)
    tf.matmul(x, tf.transpose(x))
    err = capsys.readouterr().err
    assert err.count("Executing op MatMul in device /job:localhost/replica:0/task:0/device:CPU:0") == 1
    assert not tf.debugging.get_log_device_placement()


# --- CTC decoders ---------------------------------------------------------------------------------------------------


def test_ctc_beam_search_decoder_matches_keras_ctc_decode_in_tensorflow_layout():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(6, 3, 5)).astype(np.float32)  # time-major; blank = class 4
    lengths = np.array([6, 4, 0])
    decoded, log_probability = tf.nn.ctc_beam_search_decoder(logits, lengths, beam_width=8, top_paths=2)
    paths, scores = tf.keras.ops.ctc_decode(np.transpose(logits, (1, 0, 2)), lengths, strategy="beam_search",
                                            beam_width=8, top_paths=2, mask_index=4)
    assert len(decoded) == 2 and log_probability.shape == (3, 2)
    np.testing.assert_allclose(log_probability.numpy(), np.asarray(scores), rtol=1e-6)
    for k, sparse in enumerate(decoded):
        assert sparse.values.dtype == np.int64
        dense = tf.sparse.to_dense(sparse, default_value=-1).numpy()
        expected = np.asarray(paths)[k]
        assert dense.shape[1] == max(1, (expected >= 0).sum(axis=1).max()) or dense.shape[1] == 0
        np.testing.assert_array_equal(dense, expected[:, :dense.shape[1]])
        assert (expected[:, dense.shape[1]:] == -1).all()


def test_ctc_beam_search_decoder_finds_the_most_likely_labelling():
    # two steps, classes {0, 1, blank}: P("0") = P(0,0) + P(0,b) + P(b,0) beats any single path
    probs = np.array([[[0.4, 0.0, 0.6]], [[0.4, 0.0, 0.6]]], np.float64)
    with np.errstate(divide="ignore"):
        (decoded,), log_probability = tf.nn.ctc_beam_search_decoder(np.log(probs + 1e-30), [2], beam_width=4)
    assert tf.sparse.to_dense(decoded).numpy().tolist() == [[0]]
    np.testing.assert_allclose(np.exp(log_probability.numpy()), [[0.4 * 0.4 + 0.4 * 0.6 + 0.6 * 0.4]], rtol=1e-6)


def test_ctc_greedy_decoder():
    logits = np.log(np.array([[[0.6, 0.3, 0.1]], [[0.6, 0.3, 0.1]], [[0.1, 0.1, 0.8]], [[0.2, 0.7, 0.1]]]))
    (decoded,), neg_sum = tf.nn.ctc_greedy_decoder(logits, [4])
    assert tf.sparse.to_dense(decoded).numpy().tolist() == [[0, 1]]
    np.testing.assert_allclose(neg_sum.numpy(), -np.log([[0.6 * 0.6 * 0.8 * 0.7]]), rtol=1e-6)
    (unmerged,), _ = tf.nn.ctc_greedy_decoder(logits, [4], merge_repeated=False)
    assert tf.sparse.to_dense(unmerged).numpy().tolist() == [[0, 0, 1]]
    with pytest.raises(ValueError, match="max_time, batch_size, num_classes"):
        tf.nn.ctc_greedy_decoder(logits[:, 0], [4])
    with pytest.raises(ValueError, match="sequence_length"):
        tf.nn.ctc_beam_search_decoder(logits, [5])


# --- sampled_softmax_loss, nce_loss ---------------------------------------------------------------------------------
C, D, B, T, S = 7, 3, 4, 2, 3
LABELS = np.array([[0, 1], [2, 3], [4, 4], [1, 6]])
SAMPLED = np.array([1, 5, 6])


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(C, D)), rng.normal(size=C), rng.normal(size=(B, D)), rng.uniform(0.1, 1, (B, T)),
            rng.uniform(0.1, 1, S))


def _reference(weights, biases, inputs, true_expected, sampled_expected, kind, remove_hits):
    """TensorFlow's _compute_sampled_logits and the two losses, in NumPy."""
    true_logits = np.einsum("bd,btd->bt", inputs, weights[LABELS]) + biases[LABELS] - np.log(true_expected)
    sampled_logits = inputs @ weights[SAMPLED].T + biases[SAMPLED] - np.log(sampled_expected)
    if remove_hits:
        hits = (SAMPLED[None, None] == LABELS[:, :, None]).any(axis=1)
        sampled_logits = sampled_logits + np.where(hits, -np.finfo(np.float32).max, 0.0)
    logits = np.concatenate([true_logits, sampled_logits], axis=1)
    targets = np.concatenate([np.full((B, T), 1 / T), np.zeros((B, S))], axis=1)
    if kind == "softmax":
        shifted = logits - logits.max(axis=1, keepdims=True)
        return -(targets * (shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))).sum(axis=1)
    return (np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))).sum(axis=1)


@pytest.mark.parametrize("kind,remove_hits", [("softmax", True), ("softmax", False), ("nce", False), ("nce", True)])
def test_sampled_losses_values_and_gradients(kind, remove_hits):
    weights, biases, inputs, true_expected, sampled_expected = _problem()
    loss_fn = tf.nn.sampled_softmax_loss if kind == "softmax" else tf.nn.nce_loss
    variables = [tf.Variable(weights), tf.Variable(biases), tf.Variable(inputs)]
    with tf.GradientTape() as tape:
        loss = loss_fn(variables[0], variables[1], tf.constant(LABELS), variables[2], num_sampled=S, num_classes=C,
                       num_true=T, sampled_values=(SAMPLED, true_expected, sampled_expected),
                       remove_accidental_hits=remove_hits)
        total = tf.reduce_sum(loss)
    assert loss.shape == (B,)
    np.testing.assert_allclose(loss.numpy(), _reference(weights, biases, inputs, true_expected, sampled_expected,
                                                        kind, remove_hits), rtol=1e-12)
    grads = tape.gradient(total, variables)
    arrays = [weights, biases, inputs]
    for i, grad in enumerate(grads):  # central finite differences of the NumPy reference
        numeric = np.zeros_like(arrays[i])
        for index in np.ndindex(arrays[i].shape):
            shifted = []
            for step in (1e-6, -1e-6):
                moved = [a.copy() for a in arrays]
                moved[i][index] += step
                shifted.append(_reference(*moved, true_expected, sampled_expected, kind, remove_hits).sum())
            numeric[index] = (shifted[0] - shifted[1]) / 2e-6
        np.testing.assert_allclose(grad.numpy(), numeric, atol=1e-6)


def test_sampled_losses_draw_their_own_candidates_and_train():
    rng = np.random.default_rng(3)
    weights = tf.Variable(rng.normal(size=(50, 8)).astype(np.float32) * 0.1)
    biases = tf.Variable(np.zeros(50, np.float32))
    inputs = rng.normal(size=(16, 8)).astype(np.float32)
    labels = rng.integers(0, 50, (16, 1))
    optimizer = tf.keras.optimizers.SGD(0.5)
    losses = []
    for step in range(30):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sampled_softmax_loss(weights, biases, labels, inputs, num_sampled=10,
                                                             num_classes=50, seed=step))
        optimizer.apply_gradients(zip(tape.gradient(loss, [weights, biases]), [weights, biases]))
        losses.append(float(loss))
    assert losses[-1] < losses[0] / 2
    nce = tf.nn.nce_loss([weights[:25], weights[25:]], biases, labels, inputs, num_sampled=5, num_classes=50)
    assert nce.shape == (16,) and np.isfinite(nce.numpy()).all()


def test_sampled_losses_errors():
    weights, biases, inputs, *_ = _problem()
    with pytest.raises(ValueError, match="num_true"):
        tf.nn.nce_loss(weights, biases, LABELS, inputs, num_sampled=S, num_classes=C)
    with pytest.raises(ValueError, match="class ids in"):
        tf.nn.sampled_softmax_loss(weights, biases, LABELS + 10, inputs, S, C, num_true=T)
    with pytest.raises(ValueError, match="same dim"):
        tf.nn.sampled_softmax_loss(weights, biases, LABELS, inputs[:, :2], S, C, num_true=T)
    with pytest.raises(ValueError, match="biases"):
        tf.nn.sampled_softmax_loss(weights, biases[:3], LABELS, inputs, S, C, num_true=T)
    with pytest.raises(TypeError, match="integer class ids"):
        tf.nn.sampled_softmax_loss(weights, biases, LABELS * 1.0, inputs, S, C, num_true=T)


# --- tf.sets --------------------------------------------------------------------------------------------------------


def test_sets_on_dense_and_sparse():
    a = np.array([[[1, 2, 2], [3, 4, 5]], [[5, 6, 7], [7, 7, 7]]])
    b = np.array([[[2, 9, 1], [4, 3, 0]], [[0, 0, 0], [7, 1, 1]]])
    inter = tf.sets.intersection(a, b)
    assert inter.dense_shape.numpy().tolist() == [2, 2, 2]
    assert tf.sparse.to_dense(inter, default_value=-1).numpy().tolist() == [[[1, 2], [3, 4]], [[-1, -1], [7, -1]]]
    union = tf.sets.union(tf.constant(a), tf.constant(b))
    assert tf.sparse.to_dense(union, default_value=-1).numpy()[0, 0].tolist() == [1, 2, 9, -1]
    assert union.dense_shape.numpy().tolist() == [2, 2, 4]
    diff = tf.sets.difference(a, b)
    assert tf.sparse.to_dense(diff, default_value=-1).numpy().tolist() == [[[-1, -1, -1], [5, -1, -1]],
                                                                             [[5, 6, 7], [-1, -1, -1]]]
    flipped = tf.sets.difference(a, b, aminusb=False)
    assert tf.sparse.to_dense(flipped, default_value=-1).numpy().tolist() == [[[9], [0]], [[0], [1]]]
    np.testing.assert_array_equal(tf.sets.size(a).numpy(), [[2, 3], [3, 1]])
    assert tf.sets.size(a).dtype == np.int32
    sparse = tf.sparse.SparseTensor([[0, 0], [0, 2], [1, 1]], np.array([3, 1, 2]), [2, 3])
    assert tf.sets.size(sparse).numpy().tolist() == [2, 1]
    assert tf.sparse.to_dense(tf.sets.intersection(np.array([[1, 3, 5], [2, 4, 6]]), sparse)).numpy().tolist() == \
        [[1, 3], [2, 0]]
    words = tf.sets.union(np.array([[b"b", b"a"]], dtype=object), np.array([[b"c", b"a"]], dtype=object))
    assert words.values.numpy().tolist() == [b"a", b"b", b"c"]


def test_sets_errors():
    sparse = tf.sparse.SparseTensor([[0, 0]], np.array([1]), [1, 2])
    with pytest.raises(ValueError, match="flip the order"):
        tf.sets.intersection(sparse, np.array([[1, 2]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 2"):
        tf.sets.size(np.array([1, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="must match"):
        tf.sets.union(np.zeros((2, 3), int), np.zeros((3, 3), int))
    with pytest.raises(TypeError, match="integers or strings"):
        tf.sets.union(np.zeros((2, 3)), np.zeros((2, 3)))
