"""TensorFlow Core API guide "Logistic regression for binary classification with Core APIs", run on chainrule.

Source: https://www.tensorflow.org/guide/core/logistic_regression_core
(tensorflow/docs, site/en/guide/core/logistic_regression_core.ipynb).

The guide's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- the Wisconsin breast cancer file is a synthetic one of the same layout (tests/programs/uci_like.py), read by the
  guide's own `pd.read_csv(url, ...)` from the test's temporary folder;
- seaborn and scikit-learn are not installed here: `sns.pairplot` / `sns.heatmap` draw with matplotlib (Agg) and
  `sk_metrics.confusion_matrix` is tests/programs/sklearn_like.py's;
- the last cells (export with `tf.saved_model.save` of a `tf.Module` and reload) are left out: chainrule's
  SavedModel export takes Keras models only (it never writes a Module's Python methods into files), so this
  program stops before them;
- lines marked `# test:` check what it produces.
"""

import types

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

pd = pytest.importorskip("pandas")

import sklearn_like
import uci_like


def _pairplot(data, hue, diag_kind):
    """test: stands in for seaborn.pairplot (each pair of columns as a scatter plot, coloured by `hue`)."""
    columns = [c for c in data.columns if c != hue]
    colours = (data[hue] == data[hue].iloc[0]).map({True: "tab:blue", False: "tab:orange"})
    _, axes = plt.subplots(len(columns), len(columns))
    for i, a in enumerate(columns):
        for j, b in enumerate(columns):
            axes[i, j].scatter(data[b], data[a], c=colours, s=2)


def _heatmap(data, xticklabels, yticklabels, cmap, annot, fmt, square):
    """test: stands in for seaborn.heatmap (the normalized confusion matrix drawn with matplotlib)."""
    assert data.shape == (2, 2) and fmt == ".4f"
    plt.imshow(data, cmap=cmap)
    return plt.gca()


sns = types.SimpleNamespace(pairplot=_pairplot, heatmap=_heatmap)  # test: `import seaborn as sns`


def test_logistic_regression_core(tmp_path, capsys):
    import chainrule as tf
    import pandas as pd
    import matplotlib
    from matplotlib import pyplot as plt
    # test: `import seaborn as sns` (not installed): the module-level `sns` stand-in
    sk_metrics = sklearn_like  # test: `import sklearn.metrics as sk_metrics` (not installed)
    import tempfile
    import os

    # Preset matplotlib figure sizes.
    matplotlib.rcParams['figure.figsize'] = [9, 6]

    print(tf.__version__)
    # To make the results reproducible, set the random seed value.
    tf.random.set_seed(22)

    url = 'https://archive.ics.uci.edu/ml/machine-learning-databases/breast-cancer-wisconsin/wdbc.data'
    url = uci_like.wdbc(str(tmp_path / 'wdbc.data'))  # test: synthetic Wisconsin breast cancer table, no download

    features = ['radius', 'texture', 'perimeter', 'area', 'smoothness', 'compactness',
                'concavity', 'concave_poinits', 'symmetry', 'fractal_dimension']
    column_names = ['id', 'diagnosis']

    for attr in ['mean', 'ste', 'largest']:
      for feature in features:
        column_names.append(feature + "_" + attr)

    dataset = pd.read_csv(url, names=column_names)

    dataset.info()

    dataset.head()

    train_dataset = dataset.sample(frac=0.75, random_state=1)

    len(train_dataset)

    test_dataset = dataset.drop(train_dataset.index)

    len(test_dataset)

    # The `id` column can be dropped since each row is unique
    x_train, y_train = train_dataset.iloc[:, 2:], train_dataset.iloc[:, 1]
    x_test, y_test = test_dataset.iloc[:, 2:], test_dataset.iloc[:, 1]

    y_train, y_test = y_train.map({'B': 0, 'M': 1}), y_test.map({'B': 0, 'M': 1})
    x_train, y_train = tf.convert_to_tensor(x_train, dtype=tf.float32), tf.convert_to_tensor(y_train, dtype=tf.float32)
    x_test, y_test = tf.convert_to_tensor(x_test, dtype=tf.float32), tf.convert_to_tensor(y_test, dtype=tf.float32)

    sns.pairplot(train_dataset.iloc[:, 1:6], hue = 'diagnosis', diag_kind='kde');

    train_dataset.describe().transpose()[:10]

    class Normalize(tf.Module):
      def __init__(self, x):
        # Initialize the mean and standard deviation for normalization
        self.mean = tf.Variable(tf.math.reduce_mean(x, axis=0))
        self.std = tf.Variable(tf.math.reduce_std(x, axis=0))

      def norm(self, x):
        # Normalize the input
        return (x - self.mean)/self.std

      def unnorm(self, x):
        # Unnormalize the input
        return (x * self.std) + self.mean

    norm_x = Normalize(x_train)
    x_train_norm, x_test_norm = norm_x.norm(x_train), norm_x.norm(x_test)

    x = tf.linspace(-10, 10, 500)
    x = tf.cast(x, tf.float32)
    f = lambda x : (1/20)*x + 0.6
    plt.plot(x, tf.math.sigmoid(x))
    plt.ylim((-0.1,1.1))
    plt.title("Sigmoid function");

    def log_loss(y_pred, y):
      # Compute the log loss function
      ce = tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=y_pred)
      return tf.reduce_mean(ce)

    class LogisticRegression(tf.Module):

      def __init__(self):
        self.built = False

      def __call__(self, x, train=True):
        # Initialize the model parameters on the first call
        if not self.built:
          # Randomly generate the weights and the bias term
          rand_w = tf.random.uniform(shape=[x.shape[-1], 1], seed=22)
          rand_b = tf.random.uniform(shape=[], seed=22)
          self.w = tf.Variable(rand_w)
          self.b = tf.Variable(rand_b)
          self.built = True
        # Compute the model output
        z = tf.add(tf.matmul(x, self.w), self.b)
        z = tf.squeeze(z, axis=1)
        if train:
          return z
        return tf.sigmoid(z)

    log_reg = LogisticRegression()

    y_pred = log_reg(x_train_norm[:5], train=False)
    y_pred.numpy()

    def predict_class(y_pred, thresh=0.5):
      # Return a tensor with  `1` if `y_pred` > `0.5`, and `0` otherwise
      return tf.cast(y_pred > thresh, tf.float32)

    def accuracy(y_pred, y):
      # Return the proportion of matches between `y_pred` and `y`
      y_pred = tf.math.sigmoid(y_pred)
      y_pred_class = predict_class(y_pred)
      check_equal = tf.cast(y_pred_class == y,tf.float32)
      acc_val = tf.reduce_mean(check_equal)
      return acc_val

    batch_size = 64
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train_norm, y_train))
    train_dataset = train_dataset.shuffle(buffer_size=x_train.shape[0]).batch(batch_size)
    test_dataset = tf.data.Dataset.from_tensor_slices((x_test_norm, y_test))
    test_dataset = test_dataset.shuffle(buffer_size=x_test.shape[0]).batch(batch_size)

    # Set training parameters
    epochs = 200
    learning_rate = 0.01
    train_losses, test_losses = [], []
    train_accs, test_accs = [], []

    # Set up the training loop and begin training
    for epoch in range(epochs):
      batch_losses_train, batch_accs_train = [], []
      batch_losses_test, batch_accs_test = [], []

      # Iterate over the training data
      for x_batch, y_batch in train_dataset:
        with tf.GradientTape() as tape:
          y_pred_batch = log_reg(x_batch)
          batch_loss = log_loss(y_pred_batch, y_batch)
        batch_acc = accuracy(y_pred_batch, y_batch)
        # Update the parameters with respect to the gradient calculations
        grads = tape.gradient(batch_loss, log_reg.variables)
        for g,v in zip(grads, log_reg.variables):
          v.assign_sub(learning_rate * g)
        # Keep track of batch-level training performance
        batch_losses_train.append(batch_loss)
        batch_accs_train.append(batch_acc)

      # Iterate over the testing data
      for x_batch, y_batch in test_dataset:
        y_pred_batch = log_reg(x_batch)
        batch_loss = log_loss(y_pred_batch, y_batch)
        batch_acc = accuracy(y_pred_batch, y_batch)
        # Keep track of batch-level testing performance
        batch_losses_test.append(batch_loss)
        batch_accs_test.append(batch_acc)

      # Keep track of epoch-level model performance
      train_loss, train_acc = tf.reduce_mean(batch_losses_train), tf.reduce_mean(batch_accs_train)
      test_loss, test_acc = tf.reduce_mean(batch_losses_test), tf.reduce_mean(batch_accs_test)
      train_losses.append(train_loss)
      train_accs.append(train_acc)
      test_losses.append(test_loss)
      test_accs.append(test_acc)
      if epoch % 20 == 0:
        print(f"Epoch: {epoch}, Training log loss: {train_loss:.3f}")

    plt.plot(range(epochs), train_losses, label = "Training loss")
    plt.plot(range(epochs), test_losses, label = "Testing loss")
    plt.xlabel("Epoch")
    plt.ylabel("Log loss")
    plt.legend()
    plt.title("Log loss vs training iterations");

    plt.plot(range(epochs), train_accs, label = "Training accuracy")
    plt.plot(range(epochs), test_accs, label = "Testing accuracy")
    plt.xlabel("Epoch")
    plt.ylabel("Accuracy (%)")
    plt.legend()
    plt.title("Accuracy vs training iterations");

    print(f"Final training log loss: {train_losses[-1]:.3f}")
    print(f"Final testing log Loss: {test_losses[-1]:.3f}")

    print(f"Final training accuracy: {train_accs[-1]:.3f}")
    print(f"Final testing accuracy: {test_accs[-1]:.3f}")

    def show_confusion_matrix(y, y_classes, typ):
      # Compute the confusion matrix and normalize it
      plt.figure(figsize=(10,10))
      confusion = sk_metrics.confusion_matrix(y.numpy(), y_classes.numpy())
      confusion_normalized = confusion / confusion.sum(axis=1, keepdims=True)
      axis_labels = range(2)
      ax = sns.heatmap(
          confusion_normalized, xticklabels=axis_labels, yticklabels=axis_labels,
          cmap='Blues', annot=True, fmt='.4f', square=True)
      plt.title(f"Confusion matrix: {typ}")
      plt.ylabel("True label")
      plt.xlabel("Predicted label")

    y_pred_train, y_pred_test = log_reg(x_train_norm, train=False), log_reg(x_test_norm, train=False)
    train_classes, test_classes = predict_class(y_pred_train), predict_class(y_pred_test)

    show_confusion_matrix(y_train, train_classes, 'Training')

    show_confusion_matrix(y_test, test_classes, 'Testing')

    class ExportModule(tf.Module):
      def __init__(self, model, norm_x, class_pred):
        # Initialize pre- and post-processing functions
        self.model = model
        self.norm_x = norm_x
        self.class_pred = class_pred

      @tf.function(input_signature=[tf.TensorSpec(shape=[None, None], dtype=tf.float32)])
      def __call__(self, x):
        # Run the `ExportModule` for new data points
        x = self.norm_x.norm(x)
        y = self.model(x, train=False)
        y = self.class_pred(y)
        return y 

    log_reg_export = ExportModule(model=log_reg,
                                  norm_x=norm_x,
                                  class_pred=predict_class)

    # test: the export cells left out from here (`tf.saved_model.save(log_reg_export, ...)` of a tf.Module and `tf.saved_model.load`: chainrule exports Keras models only, never a Module's Python methods; see the module docstring)

    assert train_accs[-1] > 0.9 and test_accs[-1] > 0.85  # test: the synthetic classes are separable
    assert log_reg_export(x_test).shape == (len(x_test),)  # test: the export module runs on raw features
