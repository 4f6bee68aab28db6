"""The CTC loss (chainrule/ops/ctc.py) against finite differences and torch.nn.functional.ctc_loss, the numba kernel
against the NumPy recursions, and the decoders against brute force over every path of small inputs."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule import backend, ops
from chainrule.backend import kernels
from chainrule.backend.kernels import ctc as ctc_kernels
from chainrule.backend.kernels.softmax import log_softmax_numpy
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.ctc import ctc_decode

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((4, 9, 5))
LABELS = np.array([[1, 2, 2, 3], [4, 4, 0, 0], [3, 0, 0, 0], [1, 2, 1, 0]])
LABEL_LENGTH = np.array([4, 2, 1, 0])
LOGIT_LENGTH = np.array([9, 6, 1, 3])


def _torch_ctc(labels, label_length, logit_length, blank=0):
    def f(logits):
        log_probs = F.log_softmax(logits, -1).transpose(0, 1)
        return F.ctc_loss(log_probs, torch.tensor(labels), torch.tensor(logit_length), torch.tensor(label_length),
                          blank=blank, reduction="none")
    return f


@covers("ctc_loss", kind="fd")
@covers("ctc_loss", kind="torch")
@pytest.mark.parametrize("numba", [True, False], ids=["numba", "numpy"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
def test_ctc_loss_matches_torch_and_finite_differences(dtype, numba):
    before = kernels.enabled()
    kernels.set_enabled(numba)
    try:
        fn = lambda x: ops.ctc_loss(LABELS, x, LABEL_LENGTH, LOGIT_LENGTH)  # noqa: E731
        compare_with_torch(fn, _torch_ctc(LABELS, LABEL_LENGTH, LOGIT_LENGTH), LOGITS, dtype=dtype,
                           rtol=1e-4 if dtype == np.float32 else None)
        if dtype == np.float64:
            check_gradients(fn, LOGITS)
    finally:
        kernels.set_enabled(before)


def test_ctc_loss_with_another_blank_matches_torch():
    labels = np.array([[0, 1, 1], [2, 0, 0]])
    fn = lambda x: ops.ctc_loss(labels, x, [3, 1], [7, 5], blank_index=-1)  # noqa: E731  (class 4)
    compare_with_torch(fn, _torch_ctc(labels, [3, 1], [7, 5], blank=4), LOGITS[:2, :7])
    check_gradients(fn, LOGITS[:2, :7])


def _random_batch(seed):
    """Log-probabilities and labels of six sequences, some impossible, some empty, some of no steps."""
    rng = np.random.default_rng(seed)
    lp = np.ascontiguousarray(log_softmax_numpy(rng.standard_normal((6, 30, 8)) * 3))
    return lp, rng.integers(1, 8, (6, 10)), rng.integers(0, 11, 6), rng.integers(0, 31, 6)


@pytest.mark.numpy_only("the numba kernel against the NumPy recursions")
def test_numba_kernel_equals_numpy_recursions():
    pytest.importorskip("numba")
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((6, 30, 8)) * 3
    labels = rng.integers(1, 8, (6, 10))
    label_length = rng.integers(0, 11, 6)
    logit_length = rng.integers(0, 31, 6)
    lp = np.ascontiguousarray(log_softmax_numpy(logits))
    before = kernels.enabled()
    kernels.set_enabled(True)
    try:
        fast = ctc_kernels.ctc(lp, labels, label_length, logit_length, 0)
    finally:
        kernels.set_enabled(before)
    slow = ctc_kernels.ctc_numpy(lp, labels, label_length, logit_length, 0)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_array_api_recursions_equal_numpy_recursions():
    """ctc_namespace (the path off NumPy) on the current backend's arrays: NumPy's losses and gradients."""
    lp, labels, label_length, logit_length = _random_batch(3)
    label_length[0], logit_length[0] = 10, 5  # impossible: 10 labels in 5 steps
    logit_length[1], label_length[2] = 0, 0  # no steps; an empty labelling
    expected = ctc_kernels.ctc_numpy(lp, labels, label_length, logit_length, 0)
    got = ctc_kernels.ctc_namespace(*map(backend.to_device, (lp, labels, label_length, logit_length)), 0)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(backend.to_host(a), b, rtol=1e-12, atol=1e-12)


def _brute_force_probability(probs, label):
    """Σ over every path of the steps whose collapse (repeats merged, blanks 0 dropped) is ``label``."""
    total = 0.0
    for path in itertools.product(range(probs.shape[1]), repeat=len(probs)):
        collapsed = [c for i, c in enumerate(path) if c != 0 and (i == 0 or c != path[i - 1])]
        if collapsed == list(label):
            total += np.prod(probs[np.arange(len(probs)), path])
    return total


def test_ctc_loss_equals_minus_log_of_the_brute_force_path_sum():
    logits = np.random.default_rng(2).standard_normal((1, 5, 3))
    probs = np.exp(log_softmax_numpy(logits))[0]
    for label in ([1], [1, 1], [2, 1, 2], []):
        padded = np.array([list(label) + [0] * (3 - len(label))])
        loss = ops.ctc_loss(padded, logits, [len(label)], [5]).numpy()[0]
        np.testing.assert_allclose(np.exp(-loss), _brute_force_probability(probs, label), rtol=1e-10)


def test_an_impossible_labelling_gives_an_infinite_loss_and_no_gradient():
    logits = cr.Variable(LOGITS[:2, :3])
    labels = np.array([[1, 1, 1], [1, 2, 0]])  # three repeats need 5 steps; the second fits
    with cr.GradientTape() as tape:
        loss = ops.ctc_loss(labels, logits, [3, 2], [3, 3])
    grad = tape.gradient(loss, logits).numpy()
    assert np.isinf(loss.numpy()[0]) and np.isfinite(loss.numpy()[1])
    assert (grad[0] == 0).all() and np.abs(grad[1]).sum() > 0


@pytest.mark.parametrize("call, message", [
    (lambda: ops.ctc_loss(np.array([[1, 9]]), LOGITS[:1], [2], [9]), r"labels\[0, 1\] = 9 must be a class in \[0, 5\)"),
    (lambda: ops.ctc_loss(np.array([[0, 1]]), LOGITS[:1], [2], [9]), "other than the blank index 0"),
    (lambda: ops.ctc_loss(np.array([[1, 2]]), LOGITS[:1], [3], [9]), r"`label_length` must lie in \[0, 2\]"),
    (lambda: ops.ctc_loss(np.array([[1, 2]]), LOGITS[:1], [2], [10]), r"`logit_length` must lie in \[0, 9\]"),
    (lambda: ops.ctc_loss(np.array([[1, 2]]), LOGITS[:1], [2, 2], [9]), r"`label_length` must have shape \(1,\)"),
    (lambda: ops.ctc_loss(np.array([1, 2]), LOGITS[:1], [2], [9]), "`labels` must be integers of shape"),
    (lambda: ops.ctc_loss(np.array([[1]]), LOGITS[:1], [1], [9], blank_index=5), "`blank_index` 5 is not a class"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_second_derivative_is_refused_clearly():
    x = cr.Tensor(LOGITS[:1], requires_grad=True)
    loss = ops.ctc_loss(np.array([[1]]), x, [1], [9])
    with pytest.raises(NotImplementedError, match="ctc_loss has no second derivative"):
        cr.grad(loss, [x], grad_outputs=cr.Tensor(np.ones(1)), create_graph=True)


# --- decoding ---------------------------------------------------------------------------------------------------------
def test_greedy_decode_merges_repeats_drops_blanks_and_pads_with_minus_one():
    best = np.array([[1, 1, 0, 1, 2, 2, 0], [3, 0, 3, 3, 0, 0, 0]])
    x = np.full((2, 7, 4), -5.0)
    np.put_along_axis(x, best[..., None], 1.0, axis=2)
    decoded, scores = ctc_decode(x, np.array([7, 3]))
    assert decoded.shape == (1, 2, 7)
    np.testing.assert_array_equal(decoded.numpy()[0], [[1, 1, 2, -1, -1, -1, -1], [3, 3, -1, -1, -1, -1, -1]])
    np.testing.assert_allclose(scores.numpy(), [[-7.0], [-3.0]])
    unmerged, _ = ctc_decode(x, np.array([7, 3]), merge_repeated=False)
    np.testing.assert_array_equal(unmerged.numpy()[0, 0], [1, 1, 1, 2, 2, -1, -1])


@pytest.mark.parametrize("strategy", ["greedy", "beam_search"])
def test_decoding_takes_tensors_and_arrays_of_the_current_backend(strategy):
    """The decoders read a device's logits and lengths (a Tensor's or bare arrays) as the host's."""
    logits, lengths = np.random.default_rng(5).standard_normal((2, 6, 4)), np.array([6, 4])
    expected = [t.numpy() for t in ctc_decode(logits, lengths, strategy=strategy, beam_width=5)]
    for inputs, steps in ((cr.Tensor(logits), cr.Tensor(lengths)),
                          (backend.to_device(logits), backend.to_device(lengths))):
        got = ctc_decode(inputs, steps, strategy=strategy, beam_width=5)
        for mine, ref in zip(got, expected):
            np.testing.assert_array_equal(mine.numpy(), ref)


def _all_labellings_by_probability(logits):
    probs = np.exp(log_softmax_numpy(logits))
    totals = {}
    for path in itertools.product(range(probs.shape[1]), repeat=len(probs)):
        collapsed = tuple(c for i, c in enumerate(path) if c != 0 and (i == 0 or c != path[i - 1]))
        totals[collapsed] = totals.get(collapsed, 0.0) + np.prod(probs[np.arange(len(probs)), path])
    return sorted(totals.items(), key=lambda item: -item[1])


def test_beam_search_with_a_wide_beam_finds_the_most_likely_labellings_and_their_log_probabilities():
    logits = np.random.default_rng(3).standard_normal((2, 5, 3)) * 2
    decoded, scores = ctc_decode(logits, np.array([5, 4]), strategy="beam_search", beam_width=200, top_paths=3)
    assert decoded.shape == (3, 2, 5) and scores.shape == (2, 3)
    for b, steps in enumerate((5, 4)):
        expected = _all_labellings_by_probability(logits[b, :steps])[:3]
        for k, (label, probability) in enumerate(expected):
            np.testing.assert_array_equal(decoded.numpy()[k, b, :len(label)], label)
            assert (decoded.numpy()[k, b, len(label):] == -1).all()
            np.testing.assert_allclose(scores.numpy()[b, k], np.log(probability), rtol=1e-9)


def test_beam_scores_are_the_probability_kept_in_the_beam_reaching_the_full_one_when_wide():
    logits = np.random.default_rng(4).standard_normal((3, 8, 4))
    lengths = np.array([8, 8, 6])
    narrow, narrow_scores = ctc_decode(logits, lengths, strategy="beam_search", beam_width=3)
    wide, wide_scores = ctc_decode(logits, lengths, strategy="beam_search", beam_width=2000)
    for b in range(3):
        for decoded, scores, rtol in ((narrow, narrow_scores, None), (wide, wide_scores, 1e-9)):
            label = [c for c in decoded.numpy()[0, b] if c >= 0]
            padded = np.array([label + [1] * (8 - len(label))])
            log_p = -ops.ctc_loss(padded, logits[b:b + 1], [len(label)], lengths[b:b + 1]).numpy()[0]
            if rtol is None:  # pruned alignments are missing from a narrow beam's score
                assert scores.numpy()[b, 0] <= log_p + 1e-12
            else:
                np.testing.assert_allclose(scores.numpy()[b, 0], log_p, rtol=rtol)
    with pytest.raises(ValueError, match="Invalid strategy"):
        ctc_decode(logits, lengths, strategy="best")
    with pytest.raises(ValueError, match="top_paths"):
        ctc_decode(logits, lengths, strategy="beam_search", beam_width=2, top_paths=3)
