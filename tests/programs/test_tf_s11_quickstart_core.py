"""TensorFlow Core API guide "Quickstart for the Core APIs" (linear regression on Auto MPG), run on chainrule.

Source: https://www.tensorflow.org/guide/core/quickstart_core (tensorflow/docs, site/en/guide/core/quickstart_core.ipynb).

The guide's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- the Auto MPG file is a synthetic one of the same layout (tests/programs/uci_like.py), read by the guide's own
  `pd.read_csv(url, ...)` from the test's temporary folder;
- `epochs = 100` is EPOCHS (marked); the plot draws on matplotlib's Agg backend;
- the last two cells (export with `tf.saved_model.save` of a `tf.Module` and reload) are left out: chainrule's
  SavedModel export takes Keras models only (it never writes a Module's Python methods into files), so this
  program stops before them;
- lines marked `# test:` check what it produces.
"""

import matplotlib

matplotlib.use("Agg")

import pytest

pd = pytest.importorskip("pandas")

import uci_like

EPOCHS = 20  # test: 100 in the guide


def test_quickstart_core(tmp_path, capsys):
    import chainrule as tf
    import pandas as pd
    import matplotlib
    from matplotlib import pyplot as plt
    print("TensorFlow version:", tf.__version__)
    # Set a random seed for reproducible results 
    tf.random.set_seed(22)

    url = 'http://archive.ics.uci.edu/ml/machine-learning-databases/auto-mpg/auto-mpg.data'
    url = uci_like.auto_mpg(str(tmp_path / 'auto-mpg.data'))  # test: synthetic Auto MPG, no download
    column_names = ['MPG', 'Cylinders', 'Displacement', 'Horsepower', 'Weight',
                    'Acceleration', 'Model Year', 'Origin']

    dataset = pd.read_csv(url, names=column_names, na_values='?', comment='\t',
                              sep=' ', skipinitialspace=True)

    dataset = dataset.dropna()
    dataset_tf = tf.convert_to_tensor(dataset, dtype=tf.float32)
    dataset.tail()

    dataset_shuffled = tf.random.shuffle(dataset_tf, seed=22)
    train_data, test_data = dataset_shuffled[100:], dataset_shuffled[:100]
    x_train, y_train = train_data[:, 1:], train_data[:, 0]
    x_test, y_test = test_data[:, 1:], test_data[:, 0]

    def onehot_origin(x):
      origin = tf.cast(x[:, -1], tf.int32)
      # Use `origin - 1` to account for 1-indexed feature
      origin_oh = tf.one_hot(origin - 1, 3)
      x_ohe = tf.concat([x[:, :-1], origin_oh], axis = 1)
      return x_ohe

    x_train_ohe, x_test_ohe = onehot_origin(x_train), onehot_origin(x_test)
    x_train_ohe.numpy()

    class Normalize(tf.Module):
      def __init__(self, x):
        # Initialize the mean and standard deviation for normalization
        self.mean = tf.math.reduce_mean(x, axis=0)
        self.std = tf.math.reduce_std(x, axis=0)

      def norm(self, x):
        # Normalize the input
        return (x - self.mean)/self.std

      def unnorm(self, x):
        # Unnormalize the input
        return (x * self.std) + self.mean

    norm_x = Normalize(x_train_ohe)
    norm_y = Normalize(y_train)
    x_train_norm, y_train_norm = norm_x.norm(x_train_ohe), norm_y.norm(y_train)
    x_test_norm, y_test_norm = norm_x.norm(x_test_ohe), norm_y.norm(y_test)

    class LinearRegression(tf.Module):

      def __init__(self):
        self.built = False

      @tf.function
      def __call__(self, x):
        # Initialize the model parameters on the first call
        if not self.built:
          # Randomly generate the weight vector and bias term
          rand_w = tf.random.uniform(shape=[x.shape[-1], 1])
          rand_b = tf.random.uniform(shape=[])
          self.w = tf.Variable(rand_w)
          self.b = tf.Variable(rand_b)
          self.built = True
        y = tf.add(tf.matmul(x, self.w), self.b)
        return tf.squeeze(y, axis=1)

    lin_reg = LinearRegression()
    prediction = lin_reg(x_train_norm[:1])
    prediction_unnorm = norm_y.unnorm(prediction)
    prediction_unnorm.numpy()

    def mse_loss(y_pred, y):
      return tf.reduce_mean(tf.square(y_pred - y))

    batch_size = 64
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train_norm, y_train_norm))
    train_dataset = train_dataset.shuffle(buffer_size=x_train.shape[0]).batch(batch_size)
    test_dataset = tf.data.Dataset.from_tensor_slices((x_test_norm, y_test_norm))
    test_dataset = test_dataset.shuffle(buffer_size=x_test.shape[0]).batch(batch_size)

    # Set training parameters
    epochs = EPOCHS  # test: 100 in the guide
    learning_rate = 0.01
    train_losses, test_losses = [], []

    # Format training loop
    for epoch in range(epochs):
      batch_losses_train, batch_losses_test = [], []

      # Iterate through the training data
      for x_batch, y_batch in train_dataset:
        with tf.GradientTape() as tape:
          y_pred_batch = lin_reg(x_batch)
          batch_loss = mse_loss(y_pred_batch, y_batch)
        # Update parameters with respect to the gradient calculations
        grads = tape.gradient(batch_loss, lin_reg.variables)
        for g,v in zip(grads, lin_reg.variables):
          v.assign_sub(learning_rate * g)
        # Keep track of batch-level training performance 
        batch_losses_train.append(batch_loss)

      # Iterate through the testing data
      for x_batch, y_batch in test_dataset:
        y_pred_batch = lin_reg(x_batch)
        batch_loss = mse_loss(y_pred_batch, y_batch)
        # Keep track of batch-level testing performance 
        batch_losses_test.append(batch_loss)

      # Keep track of epoch-level model performance
      train_loss = tf.reduce_mean(batch_losses_train)
      test_loss = tf.reduce_mean(batch_losses_test)
      train_losses.append(train_loss)
      test_losses.append(test_loss)
      if epoch % 10 == 0:
        print(f'Mean squared error for step {epoch}: {train_loss.numpy():0.3f}')

    # Output final losses
    print(f"\nFinal train loss: {train_loss:0.3f}")
    print(f"Final test loss: {test_loss:0.3f}")

    matplotlib.rcParams['figure.figsize'] = [9, 6]

    plt.plot(range(epochs), train_losses, label = "Training loss")
    plt.plot(range(epochs), test_losses, label = "Testing loss")
    plt.xlabel("Epoch")
    plt.ylabel("Mean squared error loss")
    plt.legend()
    plt.title("MSE loss vs training iterations");

    class ExportModule(tf.Module):
      def __init__(self, model, extract_features, norm_x, norm_y):
        # Initialize pre and postprocessing functions
        self.model = model
        self.extract_features = extract_features
        self.norm_x = norm_x
        self.norm_y = norm_y

      @tf.function(input_signature=[tf.TensorSpec(shape=[None, None], dtype=tf.float32)]) 
      def __call__(self, x):
        # Run the ExportModule for new data points
        x = self.extract_features(x)
        x = self.norm_x.norm(x)
        y = self.model(x)
        y = self.norm_y.unnorm(y)
        return y 

    lin_reg_export = ExportModule(model=lin_reg,
                                  extract_features=onehot_origin,
                                  norm_x=norm_x,
                                  norm_y=norm_y)

    # test: cells 33-34 left out (`tf.saved_model.save(lin_reg_export, ...)` of a tf.Module and `tf.saved_model.load`: chainrule exports Keras models only, never a Module's Python methods; see the module docstring)

    assert float(train_loss) < 0.5 * float(train_losses[0])  # test: the linear regression learned
    assert lin_reg_export(x_test).shape == (100,)  # test: the export module runs on raw features
