"""tf.image's object-detection ops: non_max_suppression (+ _with_scores, _overlaps, _padded),
combined_non_max_suppression, crop_and_resize and draw_bounding_boxes, against plain-loop NumPy references of
TensorFlow's kernels and PyTorch; crop_and_resize's gradients by finite differences."""
import numpy as np
import pytest
import torch

import chainrule as tf
from chainrule.engine.gradcheck import check_gradients


def _iou(a, b):
    (ay1, ay2), (ax1, ax2) = sorted([a[0], a[2]]), sorted([a[1], a[3]])
    (by1, by2), (bx1, bx2) = sorted([b[0], b[2]]), sorted([b[1], b[3]])
    area_a, area_b = (ay2 - ay1) * (ax2 - ax1), (by2 - by1) * (bx2 - bx1)
    if area_a <= 0 or area_b <= 0:
        return 0.0
    inter = max(min(ay2, by2) - max(ay1, by1), 0) * max(min(ax2, bx2) - max(ax1, bx1), 0)
    return inter / (area_a + area_b - inter)


def _reference_nms(boxes, scores, size, iou_threshold, score_threshold=-np.inf):
    order = sorted((i for i in range(len(scores)) if scores[i] > score_threshold), key=lambda i: (-scores[i], i))
    kept = []
    for i in order:
        if len(kept) == size:
            break
        if all(_iou(boxes[i], boxes[j]) <= iou_threshold for j in kept):
            kept.append(i)
    return kept


def _random_boxes(rng, n):
    corners = rng.uniform(0, 1, (n, 2))
    sizes = rng.uniform(0.05, 0.4, (n, 2))
    boxes = np.concatenate([corners, corners + sizes], axis=1)
    flip = rng.random(n) < 0.3  # some boxes given by the other diagonal pair of corners
    boxes[flip] = boxes[flip][:, [2, 3, 0, 1]]
    return boxes.astype(np.float32)


@pytest.mark.parametrize("seed", range(4))
def test_non_max_suppression_matches_greedy_reference(seed):
    rng = np.random.default_rng(seed)
    boxes, scores = _random_boxes(rng, 60), rng.random(60).astype(np.float32)
    for iou_threshold, score_threshold, size in ((0.5, -np.inf, 100), (0.3, 0.4, 10), (0.0, 0.2, 60)):
        got = tf.image.non_max_suppression(boxes, scores, size, iou_threshold, score_threshold)
        assert got.dtype == np.int32
        assert got.numpy().tolist() == _reference_nms(boxes, scores, size, iou_threshold, score_threshold)


def test_non_max_suppression_ties_go_to_the_lower_index_and_zero_area_boxes_never_overlap():
    boxes = [[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 1]]
    assert tf.image.non_max_suppression(boxes, [0.5, 0.5, 0.9, 0.9], 4).numpy().tolist() == [2, 3, 0]


def test_non_max_suppression_with_scores_hard_and_soft():
    boxes = np.array([[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, 2, 1, 3]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    idx, kept = tf.image.non_max_suppression_with_scores(boxes, scores, 3)
    assert idx.numpy().tolist() == [0, 2] and np.allclose(kept.numpy(), [0.9, 0.7])
    idx, kept = tf.image.non_max_suppression_with_scores(boxes, scores, 3, soft_nms_sigma=0.5)
    iou = _iou(boxes[0], boxes[1])
    decayed = 0.8 * np.exp(-0.5 / 0.5 * iou * iou)  # TF's Gaussian weight exp(-iou^2 / (2 sigma))
    assert idx.numpy().tolist() == [0, 2, 1]
    np.testing.assert_allclose(kept.numpy(), [0.9, 0.7, decayed], rtol=1e-6)
    # a decayed score at or below score_threshold is dropped
    idx, _ = tf.image.non_max_suppression_with_scores(boxes, scores, 3, score_threshold=decayed + 0.01,
                                                      soft_nms_sigma=0.5)
    assert idx.numpy().tolist() == [0, 2]


def test_non_max_suppression_overlaps_uses_the_given_matrix():
    overlaps = np.array([[1, 0.9, 0.1], [0.9, 1, 0.2], [0.1, 0.2, 1]], np.float32)
    got = tf.image.non_max_suppression_overlaps(overlaps, [0.5, 0.9, 0.7], 3, overlap_threshold=0.5)
    assert got.numpy().tolist() == [1, 2]


def test_non_max_suppression_padded_single_and_batched():
    rng = np.random.default_rng(7)
    boxes, scores = _random_boxes(rng, 30), rng.random(30).astype(np.float32)
    expected = _reference_nms(boxes, scores, 8, 0.4)
    idx, valid = tf.image.non_max_suppression_padded(boxes, scores, 8, 0.4)
    assert idx.numpy().tolist() == expected and int(valid.numpy()) == len(expected)
    idx, valid = tf.image.non_max_suppression_padded(boxes, scores, 40, 0.4, pad_to_max_output_size=True)
    n = len(_reference_nms(boxes, scores, 40, 0.4))
    assert idx.shape == (40,) and idx.numpy()[n:].tolist() == [0] * (40 - n)
    batch_boxes = np.stack([boxes, boxes[::-1]])[None]  # (1, 2, 30, 4)
    batch_scores = np.stack([scores, scores[::-1]])[None]
    idx, valid = tf.image.non_max_suppression_padded(batch_boxes, batch_scores, 5, 0.4, pad_to_max_output_size=True)
    assert idx.shape == (1, 2, 5) and valid.shape == (1, 2)
    assert idx.numpy()[0, 1].tolist() == _reference_nms(boxes[::-1], scores[::-1], 5, 0.4)
    with pytest.raises(ValueError, match="must be True for batched input"):
        tf.image.non_max_suppression_padded(batch_boxes, batch_scores, 5)


def test_combined_non_max_suppression_against_per_class_reference():
    rng = np.random.default_rng(3)
    batch, n, classes = 2, 40, 3
    boxes = np.stack([_random_boxes(rng, n) for _ in range(batch)])[:, :, None, :] * 1.2 - 0.1  # some outside [0,1]
    scores = rng.random((batch, n, classes)).astype(np.float32)
    nmsed_boxes, nmsed_scores, nmsed_classes, valid = tf.image.combined_non_max_suppression(
        boxes, scores, max_output_size_per_class=4, max_total_size=10, iou_threshold=0.5, score_threshold=0.3)
    assert nmsed_boxes.shape == (batch, 10, 4) and nmsed_scores.shape == (batch, 10)
    assert nmsed_classes.dtype == np.float32 and valid.dtype == np.int32
    for b in range(batch):
        found = []
        for c in range(classes):
            found += [(scores[b, i, c], c, i) for i in _reference_nms(boxes[b, :, 0], scores[b, :, c], 4, 0.5, 0.3)]
        found = sorted(found, key=lambda t: -t[0])[:10]
        assert int(valid.numpy()[b]) == len(found)
        np.testing.assert_allclose(nmsed_scores.numpy()[b, :len(found)], [s for s, _, _ in found])
        assert nmsed_classes.numpy()[b, :len(found)].tolist() == [c for _, c, _ in found]
        np.testing.assert_allclose(nmsed_boxes.numpy()[b, :len(found)],
                                   np.clip([boxes[b, i, 0] for _, _, i in found], 0, 1))
        assert not nmsed_scores.numpy()[b, len(found):].any()
    # pad_per_class: length min(per_class * classes, max_total_size); clip_boxes=False keeps the coordinates
    out = tf.image.combined_non_max_suppression(boxes, scores, 2, 100, pad_per_class=True, clip_boxes=False)
    assert out[0].shape == (batch, 6, 4)
    assert out[0].numpy().min() < 0 or out[0].numpy().max() > 1


def test_combined_non_max_suppression_class_specific_boxes():
    boxes = np.array([[[[0, 0, 1, 1], [0, 0, 0.5, 0.5]], [[0, 0, 1, 1], [0, 0, 0.5, 0.5]]]], np.float32)
    scores = np.array([[[0.9, 0.6], [0.8, 0.7]]], np.float32)  # two identical boxes per class
    nmsed_boxes, nmsed_scores, nmsed_classes, valid = tf.image.combined_non_max_suppression(boxes, scores, 5, 5)
    assert int(valid.numpy()[0]) == 2
    assert nmsed_classes.numpy()[0, :2].tolist() == [0, 1]
    np.testing.assert_allclose(nmsed_boxes.numpy()[0, 1], [0, 0, 0.5, 0.5])


@pytest.mark.parametrize("call, message", [
    (lambda: tf.image.non_max_suppression([[0, 0, 1, 1]], [0.5], 1, iou_threshold=1.5), "iou_threshold must be in"),
    (lambda: tf.image.non_max_suppression([0, 0, 1, 1], [0.5], 1), "boxes must be 2-D"),
    (lambda: tf.image.non_max_suppression([[0, 0, 1]], [0.5], 1), "boxes must have 4 columns"),
    (lambda: tf.image.non_max_suppression([[0, 0, 1, 1]], [0.5, 0.2], 1), "scores has incompatible shape"),
    (lambda: tf.image.non_max_suppression([[0, 0, 1, 1]], [0.5], [1, 2]), "max_output_size must be 0-D"),
    (lambda: tf.image.combined_non_max_suppression(np.zeros((1, 2, 3, 4)), np.zeros((1, 2, 2)), 1, 1),
     "third dimension of boxes must be either 1 or num classes"),
    (lambda: tf.image.combined_non_max_suppression(np.zeros((1, 2, 1, 4)), np.zeros((1, 2, 2)), 1, 0),
     "max_total_size must be > 0"),
])
def test_nms_bad_arguments_raise_invalid_argument(call, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        call()


def _reference_crop_and_resize(image, boxes, box_indices, crop, method="bilinear", extrapolation_value=0.0):
    _, height, width, depth = image.shape
    out = np.zeros((len(boxes), *crop, depth))
    for n, ((y1, x1, y2, x2), b) in enumerate(zip(boxes, box_indices)):
        for i in range(crop[0]):
            y = y1 * (height - 1) + i * (y2 - y1) * (height - 1) / (crop[0] - 1) if crop[0] > 1 \
                else 0.5 * (y1 + y2) * (height - 1)
            for j in range(crop[1]):
                x = x1 * (width - 1) + j * (x2 - x1) * (width - 1) / (crop[1] - 1) if crop[1] > 1 \
                    else 0.5 * (x1 + x2) * (width - 1)
                if not (0 <= y <= height - 1 and 0 <= x <= width - 1):
                    out[n, i, j] = extrapolation_value
                elif method == "nearest":
                    out[n, i, j] = image[b, int(np.floor(y + 0.5)), int(np.floor(x + 0.5))]
                else:
                    t, l, bo, r = int(np.floor(y)), int(np.floor(x)), int(np.ceil(y)), int(np.ceil(x))
                    top = image[b, t, l] + (image[b, t, r] - image[b, t, l]) * (x - l)
                    bottom = image[b, bo, l] + (image[b, bo, r] - image[b, bo, l]) * (x - l)
                    out[n, i, j] = top + (bottom - top) * (y - t)
    return out


@pytest.mark.parametrize("method", ["bilinear", "nearest"])
def test_crop_and_resize_matches_reference(method):
    rng = np.random.default_rng(0)
    image = rng.standard_normal((2, 7, 9, 3)).astype(np.float32)
    boxes = np.array([[0.1, 0.2, 0.8, 0.9], [0.9, 0.7, 0.2, 0.1], [-0.2, 0.0, 0.5, 1.3], [0.3, 0.3, 0.3, 0.6]],
                     np.float32)
    box_indices = np.array([0, 1, 1, 0], np.int32)
    for crop in ((5, 4), (1, 3)):
        got = tf.image.crop_and_resize(image, boxes, box_indices, crop, method=method, extrapolation_value=-1.0)
        assert got.shape == (4, *crop, 3) and got.dtype == np.float32
        np.testing.assert_allclose(got.numpy(), _reference_crop_and_resize(
            image.astype(np.float64), boxes.astype(np.float64), box_indices, crop, method, -1.0), atol=1e-5)


def test_crop_and_resize_of_the_whole_image_is_align_corners_resize_as_pytorch():
    image = np.random.default_rng(1).standard_normal((1, 6, 5, 2)).astype(np.float32)
    got = tf.image.crop_and_resize(image, [[0, 0, 1, 1]], [0], (9, 7)).numpy()
    expected = torch.nn.functional.interpolate(torch.from_numpy(image).permute(0, 3, 1, 2), size=(9, 7),
                                               mode="bilinear", align_corners=True).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_crop_and_resize_gradients_reach_image_and_boxes():
    rng = np.random.default_rng(2)
    image = rng.standard_normal((2, 5, 6, 2))
    boxes = np.array([[0.13, 0.21, 0.77, 0.88], [0.61, 0.9, 0.05, 0.33]])
    check_gradients(lambda im, bx: tf.image.crop_and_resize(im, bx, [1, 0], (3, 4)), image, boxes)
    check_gradients(lambda im: tf.image.crop_and_resize(im, boxes, [1, 0], (3, 4), method="nearest"), image)


@pytest.mark.parametrize("call, message", [
    (lambda: tf.image.crop_and_resize(np.zeros((4, 4, 1)), [[0, 0, 1, 1]], [0], (2, 2)), "must be 4-D"),
    (lambda: tf.image.crop_and_resize(np.zeros((1, 4, 4, 1)), [[0, 0, 1]], [0], (2, 2)), "boxes must be 2-D"),
    (lambda: tf.image.crop_and_resize(np.zeros((1, 4, 4, 1)), [[0, 0, 1, 1]], [1], (2, 2)), "box_indices has values"),
    (lambda: tf.image.crop_and_resize(np.zeros((1, 4, 4, 1)), [[0, 0, 1, 1]], [0, 0], (2, 2)), "box_indices has"),
    (lambda: tf.image.crop_and_resize(np.zeros((1, 4, 4, 1)), [[0, 0, 1, 1]], [0], (0, 2)), "crop_size must be"),
])
def test_crop_and_resize_bad_arguments(call, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        call()


def test_draw_bounding_boxes_outlines_clips_and_cycles_colors():
    images = np.zeros((2, 6, 8, 3), np.float32)
    boxes = np.array([[[0.2, 0.0, 0.8, 0.5], [0.5, 0.5, 1.5, 1.2]], [[0.6, 0.6, 0.2, 0.9], [-1, -1, -0.5, -0.5]]],
                     np.float32)
    colors = np.array([[1, 0, 0], [0, 1, 0]], np.float32)
    out = tf.image.draw_bounding_boxes(images, boxes, colors).numpy()
    expected = np.zeros_like(images)
    # box (0, 0): rows int(0.2*5)=1..int(0.8*5)=4, cols 0..int(0.5*7)=3, red
    expected[0, 1, 0:4] = expected[0, 4, 0:4] = expected[0, 1:5, 0] = expected[0, 1:5, 3] = [1, 0, 0]
    # box (0, 1): rows 2..7 (bottom edge outside, not drawn), cols 3..8 (right edge outside), green
    expected[0, 2, 3:8] = expected[0, 2:6, 3] = [0, 1, 0]
    np.testing.assert_array_equal(out, expected)  # image 1: an inverted box and one wholly outside: untouched
    assert not images.any()  # the input is not drawn on


def test_draw_bounding_boxes_default_palette_and_errors():
    out = tf.image.draw_bounding_boxes(np.zeros((1, 3, 3, 4)), [[[0, 0, 1, 1]]], None).numpy()
    np.testing.assert_array_equal(out[0, 0, 0], [1, 1, 0, 1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Channel depth should be"):
        tf.image.draw_bounding_boxes(np.zeros((1, 3, 3, 2)), [[[0, 0, 1, 1]]], [[1, 1]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least 3 channels"):
        tf.image.draw_bounding_boxes(np.zeros((1, 3, 3, 3)), [[[0, 0, 1, 1]]], [[1, 1]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="boxes must be 3-D"):
        tf.image.draw_bounding_boxes(np.zeros((1, 3, 3, 3)), [[0, 0, 1, 1]], [[1, 1, 1]])


def _reference_ms_ssim(x, y, max_val, factors, size, sigma=1.5, k1=0.01, k2=0.03):
    """TensorFlow's MS-SSIM with plain NumPy loops (valid Gaussian windows, edge-repeating halving)."""
    g = np.exp(-0.5 * ((np.arange(size) - (size - 1) / 2) / sigma) ** 2)
    window = np.outer(g, g) / np.outer(g, g).sum()

    def mean(a):
        h, w = a.shape[1] - size + 1, a.shape[2] - size + 1
        return np.stack([[np.einsum("nijc,ij->nc", a[:, i:i + size, j:j + size], window) for j in range(w)]
                         for i in range(h)], axis=1).transpose(2, 0, 1, 3)

    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    terms = []
    for scale in range(len(factors)):
        if scale:
            x, y = [np.pad(a, ((0, 0), (0, a.shape[1] % 2), (0, a.shape[2] % 2), (0, 0)), mode="symmetric")
                    for a in (x, y)]
            x, y = [a.reshape(a.shape[0], a.shape[1] // 2, 2, a.shape[2] // 2, 2, -1).mean(axis=(2, 4))
                    for a in (x, y)]
        mx, my = mean(x), mean(y)
        lum = (2 * mx * my + c1) / (mx ** 2 + my ** 2 + c1)
        cs = (2 * (mean(x * y) - mx * my) + c2) / (mean(x * x) - mx ** 2 + mean(y * y) - my ** 2 + c2)
        value = (lum * cs).mean(axis=(1, 2)) if scale == len(factors) - 1 else cs.mean(axis=(1, 2))
        terms.append(np.maximum(value, 0) ** factors[scale])
    return np.prod(terms, axis=0).mean(axis=-1)


def test_ssim_multiscale_matches_reference_and_ssim_at_one_scale():
    rng = np.random.default_rng(5)
    x = rng.random((2, 37, 42, 3))
    y = np.clip(x + 0.15 * rng.standard_normal(x.shape), 0, 1)
    factors = (0.2, 0.3, 0.5)
    got = tf.image.ssim_multiscale(x, y, 1.0, power_factors=factors, filter_size=5)
    assert got.shape == (2,)
    np.testing.assert_allclose(got.numpy(), _reference_ms_ssim(x, y, 1.0, factors, 5), rtol=1e-10)
    one_scale = tf.image.ssim_multiscale(x, y, 1.0, power_factors=(1.0,), filter_size=7)
    np.testing.assert_allclose(one_scale.numpy(), tf.image.ssim(x, y, 1.0, filter_size=7).numpy(), rtol=1e-10)
    batched = tf.image.ssim_multiscale(np.stack([x, y]), np.stack([y, x]), 1.0, power_factors=factors, filter_size=5)
    assert batched.shape == (2, 2)


def test_ssim_multiscale_gradient_and_errors():
    rng = np.random.default_rng(6)
    x = rng.random((1, 12, 12, 1))
    y = x + 0.1 * rng.standard_normal(x.shape)  # correlated: every contrast-structure term stays positive
    check_gradients(lambda a: tf.image.ssim_multiscale(a, y, 1.0, power_factors=(0.4, 0.6), filter_size=3), x,
                    atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="smaller than filter_size=11"):
        tf.image.ssim_multiscale(x, y, 1.0)
    with pytest.raises(ValueError, match="must have the same shape"):
        tf.image.ssim_multiscale(x, y[:, :10], 1.0)
