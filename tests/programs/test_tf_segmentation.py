"""TensorFlow tutorial "Image segmentation", run on chainrule.

Source: https://www.tensorflow.org/tutorials/images/segmentation
(tensorflow/docs, site/en/tutorials/images/segmentation.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`; the `!pip install` lines are left out;
- `tfds.load('oxford_iiit_pet:3.*.*', with_info=True)` (a download) is replaced by 40 training and 40 test
  elements of its structure: dicts of a uint8 RGB 'image' of varying size and a uint8 'segmentation_mask' (1 pet,
  2 background, 3 border) of the same size, a pet being an ellipse of the image;
- tensorflow_examples is not installed: `pix2pix.upsample` is a stand-in with its layers (Conv2DTranspose with
  stride 2, BatchNormalization, optional Dropout, ReLU); IPython's `clear_output` does nothing;
- `MobileNetV2(..., include_top=False)` loads ImageNet weights (a download): `weights=None` here, the same network;
- `BATCH_SIZE = 64` is 8, `EPOCHS = 20` is 1, the weighted model's `steps_per_epoch=10` is 2 (marked); plots go to
  matplotlib's Agg backend;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import types

import numpy as np
import pytest

BATCH_SIZE_SHRUNK = 8  # test: 64 in the tutorial
EPOCHS_SHRUNK = 1  # test: 20 in the tutorial
WEIGHTED_STEPS = 2  # test: 10 in the tutorial


def _oxford_pets_like(n=40, seed=0):
    """test: stands in for tfds.load('oxford_iiit_pet:3.*.*', with_info=True)."""
    import chainrule as tf

    def split(offset):
        def elements():
            rng = np.random.default_rng(seed + offset)
            for _ in range(n):
                h, w = int(rng.integers(150, 260)), int(rng.integers(150, 260))
                rows, cols = np.mgrid[:h, :w]
                cy, cx, ry, rx = rng.uniform(0.35, 0.65) * h, rng.uniform(0.35, 0.65) * w, h / 4, w / 4
                inside = ((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2
                mask = np.where(inside < 0.8, 1, np.where(inside < 1.2, 3, 2)).astype(np.uint8)
                image = rng.normal(90, 20, (h, w, 3))
                image[mask == 1] = rng.uniform(120, 255, 3)
                yield {'image': np.clip(image, 0, 255).astype(np.uint8), 'segmentation_mask': mask[..., None],
                       'label': np.int64(rng.integers(37)), 'file_name': 'pet.jpg'}
        return tf.data.Dataset.from_generator(elements, output_signature={
            'image': tf.TensorSpec((None, None, 3), tf.uint8),
            'segmentation_mask': tf.TensorSpec((None, None, 1), tf.uint8),
            'label': tf.TensorSpec((), tf.int64), 'file_name': tf.TensorSpec((), tf.string)})

    info = types.SimpleNamespace(splits={'train': types.SimpleNamespace(num_examples=n),
                                         'test': types.SimpleNamespace(num_examples=n)})
    return {'train': split(0), 'test': split(1000)}, info


tfds = types.SimpleNamespace(load=lambda name, with_info: _oxford_pets_like())  # test: `import tensorflow_datasets`


def _upsample(filters, size, norm_type='batchnorm', apply_dropout=False):
    """test: stands in for tensorflow_examples' pix2pix.upsample: Conv2DTranspose (stride 2) -> BatchNorm ->
    (Dropout) -> ReLU."""
    import chainrule as tf

    initializer = tf.random_normal_initializer(0., 0.02)
    result = tf.keras.Sequential()
    result.add(tf.keras.layers.Conv2DTranspose(filters, size, strides=2, padding='same',
                                               kernel_initializer=initializer, use_bias=False))
    result.add(tf.keras.layers.BatchNormalization())
    if apply_dropout:
        result.add(tf.keras.layers.Dropout(0.5))
    result.add(tf.keras.layers.ReLU())
    return result


pix2pix = types.SimpleNamespace(upsample=_upsample)  # test: from tensorflow_examples.models.pix2pix import pix2pix


def clear_output(wait=False):  # test: IPython.display.clear_output
    pass


@pytest.mark.slow  # test: a U-Net on MobileNetV2 trained for a few steps
def test_segmentation(capsys):
    import numpy as np

    import chainrule as tf

    import matplotlib.pyplot as plt

    dataset, info = tfds.load('oxford_iiit_pet:3.*.*', with_info=True)

    def normalize(input_image, input_mask):
      input_image = tf.cast(input_image, tf.float32) / 255.0
      input_mask -= 1
      return input_image, input_mask

    def load_image(datapoint):
      input_image = tf.image.resize(datapoint['image'], (128, 128))
      input_mask = tf.image.resize(
        datapoint['segmentation_mask'],
        (128, 128),
        method = tf.image.ResizeMethod.NEAREST_NEIGHBOR,
      )

      input_image, input_mask = normalize(input_image, input_mask)

      return input_image, input_mask

    TRAIN_LENGTH = info.splits['train'].num_examples
    BATCH_SIZE = BATCH_SIZE_SHRUNK
    BUFFER_SIZE = 1000
    STEPS_PER_EPOCH = TRAIN_LENGTH // BATCH_SIZE

    train_images = dataset['train'].map(load_image, num_parallel_calls=tf.data.AUTOTUNE)
    test_images = dataset['test'].map(load_image, num_parallel_calls=tf.data.AUTOTUNE)

    class Augment(tf.keras.layers.Layer):
      def __init__(self, seed=42):
        super().__init__()
        # both use the same seed, so they'll make the same random changes.
        self.augment_inputs = tf.keras.layers.RandomFlip(mode="horizontal", seed=seed)
        self.augment_labels = tf.keras.layers.RandomFlip(mode="horizontal", seed=seed)

      def call(self, inputs, labels):
        inputs = self.augment_inputs(inputs)
        labels = self.augment_labels(labels)
        return inputs, labels

    train_batches = (
        train_images
        .cache()
        .shuffle(BUFFER_SIZE)
        .batch(BATCH_SIZE)
        .repeat()
        .map(Augment())
        .prefetch(buffer_size=tf.data.AUTOTUNE))

    test_batches = test_images.batch(BATCH_SIZE)

    def display(display_list):
      plt.figure(figsize=(15, 15))

      title = ['Input Image', 'True Mask', 'Predicted Mask']

      for i in range(len(display_list)):
        plt.subplot(1, len(display_list), i+1)
        plt.title(title[i])
        plt.imshow(tf.keras.utils.array_to_img(display_list[i]))
        plt.axis('off')
      plt.show()

    for images, masks in train_batches.take(2):
      sample_image, sample_mask = images[0], masks[0]
      display([sample_image, sample_mask])

    base_model = tf.keras.applications.MobileNetV2(input_shape=[128, 128, 3], include_top=False,
                                                   weights=None)  # test: ImageNet weights (a download)

    # Use the activations of these layers
    layer_names = [
        'block_1_expand_relu',   # 64x64
        'block_3_expand_relu',   # 32x32
        'block_6_expand_relu',   # 16x16
        'block_13_expand_relu',  # 8x8
        'block_16_project',      # 4x4
    ]
    base_model_outputs = [base_model.get_layer(name).output for name in layer_names]

    # Create the feature extraction model
    down_stack = tf.keras.Model(inputs=base_model.input, outputs=base_model_outputs)

    down_stack.trainable = False

    up_stack = [
        pix2pix.upsample(512, 3),  # 4x4 -> 8x8
        pix2pix.upsample(256, 3),  # 8x8 -> 16x16
        pix2pix.upsample(128, 3),  # 16x16 -> 32x32
        pix2pix.upsample(64, 3),   # 32x32 -> 64x64
    ]

    def unet_model(output_channels:int):
      inputs = tf.keras.layers.Input(shape=[128, 128, 3])

      # Downsampling through the model
      skips = down_stack(inputs)
      x = skips[-1]
      skips = reversed(skips[:-1])

      # Upsampling and establishing the skip connections
      for up, skip in zip(up_stack, skips):
        x = up(x)
        concat = tf.keras.layers.Concatenate()
        x = concat([x, skip])

      # This is the last layer of the model
      last = tf.keras.layers.Conv2DTranspose(
          filters=output_channels, kernel_size=3, strides=2,
          padding='same')  #64x64 -> 128x128

      x = last(x)

      return tf.keras.Model(inputs=inputs, outputs=x)

    OUTPUT_CLASSES = 3

    model = unet_model(output_channels=OUTPUT_CLASSES)
    model.compile(optimizer='adam',
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])

    tf.keras.utils.plot_model(model, show_shapes=True, expand_nested=True, dpi=64)

    def create_mask(pred_mask):
      pred_mask = tf.math.argmax(pred_mask, axis=-1)
      pred_mask = pred_mask[..., tf.newaxis]
      return pred_mask[0]

    def show_predictions(dataset=None, num=1):
      if dataset:
        for image, mask in dataset.take(num):
          pred_mask = model.predict(image)
          display([image[0], mask[0], create_mask(pred_mask)])
      else:
        display([sample_image, sample_mask,
                 create_mask(model.predict(sample_image[tf.newaxis, ...]))])

    show_predictions()

    class DisplayCallback(tf.keras.callbacks.Callback):
      def on_epoch_end(self, epoch, logs=None):
        clear_output(wait=True)
        show_predictions()
        print ('\nSample Prediction after epoch {}\n'.format(epoch+1))

    EPOCHS = EPOCHS_SHRUNK
    VAL_SUBSPLITS = 5
    VALIDATION_STEPS = info.splits['test'].num_examples//BATCH_SIZE//VAL_SUBSPLITS

    model_history = model.fit(train_batches, epochs=EPOCHS,
                              steps_per_epoch=STEPS_PER_EPOCH,
                              validation_steps=VALIDATION_STEPS,
                              validation_data=test_batches,
                              callbacks=[DisplayCallback()])

    loss = model_history.history['loss']
    val_loss = model_history.history['val_loss']

    plt.figure()
    plt.plot(model_history.epoch, loss, 'r', label='Training loss')
    plt.plot(model_history.epoch, val_loss, 'bo', label='Validation loss')
    plt.title('Training and Validation Loss')
    plt.xlabel('Epoch')
    plt.ylabel('Loss Value')
    plt.ylim([0, 1])
    plt.legend()
    plt.show()

    show_predictions(test_batches, 3)

    try:
      model_history = model.fit(train_batches, epochs=EPOCHS,
                                steps_per_epoch=STEPS_PER_EPOCH,
                                class_weight = {0:2.0, 1:2.0, 2:1.0})
      assert False
    except Exception as e:
      print(f"Expected {type(e).__name__}: {e}")

    label = np.array([0,0])
    prediction = np.array([[-3., 0], [-3, 0]])
    sample_weight = [1, 10]

    loss = tf.keras.losses.SparseCategoricalCrossentropy(
        from_logits=True,
        reduction=tf.keras.losses.Reduction.NONE
    )
    loss(label, prediction, sample_weight).numpy()

    def add_sample_weights(image, label):
      # The weights for each class, with the constraint that:
      #     sum(class_weights) == 1.0
      class_weights = tf.constant([2.0, 2.0, 1.0])
      class_weights = class_weights/tf.reduce_sum(class_weights)

      # Create an image of `sample_weights` by using the label at each pixel as an
      # index into the `class weights` .
      sample_weights = tf.gather(class_weights, indices=tf.cast(label, tf.int32))

      return image, label, sample_weights

    train_batches.map(add_sample_weights).element_spec

    weighted_model = unet_model(OUTPUT_CLASSES)
    weighted_model.compile(
        optimizer='adam',
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=['accuracy'])

    weighted_model.fit(
        train_batches.map(add_sample_weights),
        epochs=1,
        steps_per_epoch=WEIGHTED_STEPS)

    plt.close('all')  # test
    out = capsys.readouterr().out  # test
    assert 'Expected ' in out  # test: class_weight on 3-D targets is refused, as the tutorial expects
    assert model.output_shape == (None, 128, 128, 3)  # test
    assert len(model_history.history['loss']) == EPOCHS and 'val_loss' in model_history.history  # test
    image_spec, mask_spec, weight_spec = train_batches.map(add_sample_weights).element_spec  # test
    assert weight_spec.shape.as_list()[1:] == [128, 128, 1] and weight_spec.dtype == tf.float32  # test: (after map
    # chainrule reads the spec from the first element, so the batch axis shows 8 where TensorFlow shows None)
