"""Float labels given to the sparse categorical cross-entropy are cast to class ids, truncated toward zero, as
Keras's ``cast(target, "int64")`` does (keras-io's DeepLabV3+ example trains on bilinearly resized masks)."""

import numpy as np
import pytest

from chainrule import keras


def _reference(labels, logits):
    shifted = logits - logits.max(-1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return -np.take_along_axis(log_softmax, labels[..., None], -1)[..., 0]


@pytest.mark.parametrize("from_logits", [True, False])
def test_fractional_labels_are_truncated(from_logits):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 4)).astype("float32")
    labels = np.array([[0.0, 2.7, 3.0], [1.5, 0.4, 2.999]], "float32")
    y_pred = logits if from_logits else keras.ops.softmax(logits)
    got = keras.losses.sparse_categorical_crossentropy(labels[..., None], y_pred, from_logits=from_logits)
    expected = _reference(labels.astype(np.int64), logits)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5, atol=1e-6)


def test_a_segmentation_model_trains_on_resized_masks():
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 1)(inputs))
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="adam")
    masks = np.zeros((2, 4, 4, 1), "float32")
    masks[:, 2:, 2:] = 2
    resized = keras.ops.image.resize(masks, (8, 8))  # bilinear: fractional values on the edges
    assert not np.all(np.asarray(resized) == np.round(np.asarray(resized)))
    history = model.fit(np.random.default_rng(1).normal(size=(2, 8, 8, 3)), resized, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_labels_of_the_wrong_shape_are_still_refused():
    with pytest.raises(ValueError, match="expects integer labels of shape"):
        keras.losses.sparse_categorical_crossentropy(np.zeros((2, 3)), np.zeros((2, 4)))
