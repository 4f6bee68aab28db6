"""Call forms of tf.keras 2 that TensorFlow's tutorials still write, accepted as tf.keras 2 took them."""

import numpy as np
import pytest

import chainrule as tf


def test_a_subclass_may_pass_itself_to_model_init():
    class PassesSelf(tf.keras.Model):  # TensorFlow's text-generation tutorial: super().__init__(self)
        def __init__(self):
            super().__init__(self)
            self.dense = tf.keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = PassesSelf()
    assert model(np.ones((3, 4), "float32")).shape == (3, 2)

    class PassesAnother(tf.keras.Model):
        def __init__(self, other):
            super().__init__(other)

    with pytest.raises(TypeError, match="keyword arguments only"):
        PassesAnother(model)


@pytest.mark.parametrize("layer", [tf.keras.layers.GRU(5), tf.keras.layers.LSTM(5), tf.keras.layers.SimpleRNN(5)])
def test_get_initial_state_takes_the_inputs_as_tf_keras_2_did(layer):
    x = tf.zeros((3, 7, 2))
    from_inputs = layer.get_initial_state(x)
    from_size = layer.get_initial_state(3)
    assert [s.shape for s in from_inputs] == [s.shape for s in from_size] and from_inputs[0].shape == (3, 5)


def test_a_sequential_first_called_on_one_image_nests_and_maps_over_images_of_any_size():
    from chainrule.keras import layers

    resize_and_rescale = tf.keras.Sequential([layers.Resizing(8, 8), layers.Rescaling(1.0 / 255)])
    resize_and_rescale(np.zeros((20, 30, 3), "float32"))  # TF's data-augmentation tutorial: one unbatched image
    augment = tf.keras.Sequential([layers.RandomFlip("horizontal")])
    augment(np.zeros((1, 20, 30, 3), "float32"))
    model = tf.keras.Sequential([resize_and_rescale, augment, layers.Conv2D(2, 3)])  # as tf.keras 2: unbuilt
    assert not model.built and model.input_spec is None and len(model.layers) == 3
    with pytest.raises(ValueError, match="cannot reshape"):
        tf.keras.Sequential([layers.Dense(2, input_shape=(3,)), layers.Reshape((5,))])  # a declared shape: raises

    def images():
        for size in ((20, 30), (25, 31), (9, 40)):
            yield np.zeros(size + (3,), "uint8"), 0

    ds = tf.data.Dataset.from_generator(images, output_signature=(tf.TensorSpec((None, None, 3), tf.uint8),
                                                                  tf.TensorSpec((), tf.int64)))
    shapes = [x.shape for x, _ in ds.map(lambda x, y: (resize_and_rescale(x), y))]  # traced on (None, None, 3)
    assert shapes == [(8, 8, 3)] * 3
    # outside a map function too, as Keras: a Sequential built by its first call runs its layers on other sizes
    assert resize_and_rescale(np.zeros((25, 31, 3), "float32")).shape == (8, 8, 3)
