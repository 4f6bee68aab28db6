"""keras-io example "Next-Frame Video Prediction with Convolutional LSTMs", run on chainrule.

Source: https://keras.io/examples/vision/conv_lstm/ (keras-team/keras-io, examples/vision/conv_lstm.py,
"Last modified: 2021/06/05").

The example's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`,
  `from tensorflow import keras` -> `from chainrule import keras`,
  `from tensorflow.keras import layers` -> `from chainrule.keras import layers`; imageio and the IPython widgets
  are left out with the GIFs they make (the last section predicts its frames and stops there);
- Moving MNIST (`keras.utils.get_file(... mnist_test_seq.npy)`, 800 MB) is replaced by `N_VIDEOS` = 10 synthetic
  videos of `FRAMES` = 20 frames (the real count) of `SIZE` = 16x16 pixels (64x64): a bright 4x4 square moving at
  a constant velocity, bouncing off the borders, as uint8 values in the dataset's (frames, videos, h, w) layout;
- the ConvLSTM2D layers have `FILTERS` = 8 filters (64), epochs=1 (20);
- the figures are drawn on matplotlib's Agg backend without `plt.show()`;
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import matplotlib.pyplot as plt
import numpy as np

import chainrule as tf
from chainrule import keras
from chainrule.keras import layers

N_VIDEOS, FRAMES, SIZE = 10, 20, 16  # test: Moving MNIST's 10000 videos of 20 frames of 64x64
FILTERS = 8  # test: the example's 64


def moving_squares(n=N_VIDEOS, frames=FRAMES, size=SIZE, seed=0):
    """test: stands in for np.load('moving_mnist.npy'): (frames, videos, size, size) uint8 bouncing squares."""
    rng = np.random.default_rng(seed)
    data = np.zeros((frames, n, size, size), dtype=np.uint8)
    for v in range(n):
        pos = rng.integers(0, size - 4, size=2).astype(float)
        vel = rng.choice([-1.0, 1.0], size=2)
        for t in range(frames):
            r, c = pos.astype(int)
            data[t, v, r:r + 4, c:c + 4] = 255
            pos += vel
            for k in range(2):
                if not 0 <= pos[k] <= size - 4:
                    vel[k] = -vel[k]
                    pos[k] += 2 * vel[k]
    return data


def test_conv_lstm_next_frame_prediction():
    dataset = moving_squares()

    # Swap the axes representing the number of frames and number of data samples.
    dataset = np.swapaxes(dataset, 0, 1)
    # We'll pick out 1000 of the 10000 total examples and use those.
    dataset = dataset[:1000, ...]
    # Add a channel dimension since the images are grayscale.
    dataset = np.expand_dims(dataset, axis=-1)

    # Split into train and validation sets using indexing to optimize memory.
    indexes = np.arange(dataset.shape[0])
    np.random.shuffle(indexes)
    train_index = indexes[: int(0.9 * dataset.shape[0])]
    val_index = indexes[int(0.9 * dataset.shape[0]) :]
    train_dataset = dataset[train_index]
    val_dataset = dataset[val_index]

    # Normalize the data to the 0-1 range.
    train_dataset = train_dataset / 255
    val_dataset = val_dataset / 255

    # We'll define a helper function to shift the frames, where
    # `x` is frames 0 to n - 1, and `y` is frames 1 to n.
    def create_shifted_frames(data):
        x = data[:, 0 : data.shape[1] - 1, :, :]
        y = data[:, 1 : data.shape[1], :, :]
        return x, y

    # Apply the processing function to the datasets.
    x_train, y_train = create_shifted_frames(train_dataset)
    x_val, y_val = create_shifted_frames(val_dataset)

    # Inspect the dataset.
    print("Training Dataset Shapes: " + str(x_train.shape) + ", " + str(y_train.shape))
    print("Validation Dataset Shapes: " + str(x_val.shape) + ", " + str(y_val.shape))

    # Construct a figure on which we will visualize the images.
    fig, axes = plt.subplots(4, 5, figsize=(10, 8))

    # Plot each of the sequential images for one random data example.
    data_choice = np.random.choice(range(len(train_dataset)), size=1)[0]
    for idx, ax in enumerate(axes.flat):
        ax.imshow(np.squeeze(train_dataset[data_choice][idx]), cmap="gray")
        ax.set_title(f"Frame {idx + 1}")
        ax.axis("off")

    # Print information and display the figure.
    print(f"Displaying frames for example {data_choice}.")
    plt.close("all")

    # Construct the input layer with no definite frame size.
    inp = layers.Input(shape=(None, *x_train.shape[2:]))

    # We will construct 3 `ConvLSTM2D` layers with batch normalization,
    # followed by a `Conv3D` layer for the spatiotemporal outputs.
    x = layers.ConvLSTM2D(
        filters=FILTERS,
        kernel_size=(5, 5),
        padding="same",
        return_sequences=True,
        activation="relu",
    )(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ConvLSTM2D(
        filters=FILTERS,
        kernel_size=(3, 3),
        padding="same",
        return_sequences=True,
        activation="relu",
    )(x)
    x = layers.BatchNormalization()(x)
    x = layers.ConvLSTM2D(
        filters=FILTERS,
        kernel_size=(1, 1),
        padding="same",
        return_sequences=True,
        activation="relu",
    )(x)
    x = layers.Conv3D(
        filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same"
    )(x)

    # Next, we will build the complete model and compile it.
    model = keras.models.Model(inp, x)
    model.compile(
        loss=keras.losses.binary_crossentropy, optimizer=keras.optimizers.Adam(),
    )
    # test: a video of any length in, the same length out; the ConvLSTMs' weights as Keras makes them
    assert model.output_shape == (None, None, SIZE, SIZE, 1)
    assert [tuple(w.shape) for w in model.layers[1].weights] == [(5, 5, 1, 4 * FILTERS), (5, 5, FILTERS, 4 * FILTERS),
                                                                  (4 * FILTERS,)]

    # Define some callbacks to improve training.
    early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10)
    reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=5)

    # Define modifiable training hyperparameters.
    epochs = 1  # test: the example's 20
    batch_size = 5

    # Fit the model to the training data.
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(x_val, y_val),
        callbacks=[early_stopping, reduce_lr],
    )
    assert set(history.history) == {"loss", "val_loss", "learning_rate"}  # test
    assert np.isfinite(history.history["loss"]).all()  # test

    # Select a random example from the validation dataset.
    example = val_dataset[np.random.choice(range(len(val_dataset)), size=1)[0]]

    # Pick the first/last ten frames from the example.
    frames = example[:10, ...]
    original_frames = example[10:, ...]

    # Predict a new set of 10 frames.
    for _ in range(10):
        # Extract the model's prediction and post-process it.
        new_prediction = model.predict(np.expand_dims(frames, axis=0))
        new_prediction = np.squeeze(new_prediction, axis=0)
        predicted_frame = np.expand_dims(new_prediction[-1, ...], axis=0)

        # Extend the set of prediction frames.
        frames = np.concatenate((frames, predicted_frame), axis=0)

    # test: ten frames predicted one at a time, each from all the frames before it, values of a sigmoid
    assert frames.shape == (20, SIZE, SIZE, 1)
    assert ((frames[10:] > 0) & (frames[10:] < 1)).all()

    # Construct a figure for the original and new frames.
    fig, axes = plt.subplots(2, 10, figsize=(20, 4))

    # Plot the original frames.
    for idx, ax in enumerate(axes[0]):
        ax.imshow(np.squeeze(original_frames[idx]), cmap="gray")
        ax.set_title(f"Frame {idx + 11}")
        ax.axis("off")

    # Plot the new frames.
    new_frames = frames[10:, ...]
    for idx, ax in enumerate(axes[1]):
        ax.imshow(np.squeeze(new_frames[idx]), cmap="gray")
        ax.set_title(f"Frame {idx + 11}")
        ax.axis("off")
    plt.close("all")

    # Select a few random examples from the dataset.
    examples = val_dataset[np.random.choice(range(len(val_dataset)), size=5)]

    # Iterate over the examples and predict the frames.
    for example in examples[:1]:  # test: one of the five (the GIFs are left out)
        # Pick the first/last ten frames from the example.
        frames = example[:10, ...]
        original_frames = example[10:, ...]
        new_predictions = np.zeros(shape=(10, *frames[0].shape))

        # Predict a new set of 10 frames.
        for i in range(10):
            # Extract the model's prediction and post-process it.
            frames = example[: 10 + i + 1, ...]
            new_prediction = model.predict(np.expand_dims(frames, axis=0))
            new_prediction = np.squeeze(new_prediction, axis=0)
            predicted_frame = np.expand_dims(new_prediction[-1, ...], axis=0)

            # Extend the set of prediction frames.
            new_predictions[i] = predicted_frame
        assert np.isfinite(new_predictions).all()  # test
