"""TensorFlow guide "Introduction to modules, layers, and models", run on chainrule.

Source: https://www.tensorflow.org/guide/intro_to_modules (tensorflow/docs, site/en/guide/intro_to_modules.ipynb).

The guide's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `import keras` -> `from chainrule import
  keras`; the notebook's `%tensorboard` and `!ls` lines are left out; files go to pytest's temporary folder;
- left out, each saying why: the TensorBoard graph trace, the SavedModel of a tf.Module (chainrule exports Keras
  models only) and the cells that load it back, and `Model.submodules` (a tf.Module attribute Keras 3 models lack);
- lines marked `# test:` check what the program produces.
"""

import pytest


def test_intro_to_modules(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # test: checkpoints and model files go to a temporary folder
    import chainrule as tf
    from chainrule import keras
    from datetime import datetime


    class SimpleModule(tf.Module):
      def __init__(self, name=None):
        super().__init__(name=name)
        self.a_variable = tf.Variable(5.0, name="train_me")
        self.non_trainable_variable = tf.Variable(5.0, trainable=False, name="do_not_train_me")
      def __call__(self, x):
        return self.a_variable * x + self.non_trainable_variable

    simple_module = SimpleModule(name="simple")

    simple_module(tf.constant(5.0))

    # All trainable variables
    print("trainable variables:", simple_module.trainable_variables)
    # Every variable
    print("all variables:", simple_module.variables)

    class Dense(tf.Module):
      def __init__(self, in_features, out_features, name=None):
        super().__init__(name=name)
        self.w = tf.Variable(
          tf.random.normal([in_features, out_features]), name='w')
        self.b = tf.Variable(tf.zeros([out_features]), name='b')
      def __call__(self, x):
        y = tf.matmul(x, self.w) + self.b
        return tf.nn.relu(y)

    class SequentialModule(tf.Module):
      def __init__(self, name=None):
        super().__init__(name=name)

        self.dense_1 = Dense(in_features=3, out_features=3)
        self.dense_2 = Dense(in_features=3, out_features=2)

      def __call__(self, x):
        x = self.dense_1(x)
        return self.dense_2(x)

    # You have made a model!
    my_model = SequentialModule(name="the_model")

    # Call it, with random results
    print("Model results:", my_model(tf.constant([[2.0, 2.0, 2.0]])))

    print("Submodules:", my_model.submodules)

    for var in my_model.variables:
      print(var, "\n")

    class FlexibleDenseModule(tf.Module):
      # Note: No need for `in_features`
      def __init__(self, out_features, name=None):
        super().__init__(name=name)
        self.is_built = False
        self.out_features = out_features

      def __call__(self, x):
        # Create variables on first call.
        if not self.is_built:
          self.w = tf.Variable(
            tf.random.normal([x.shape[-1], self.out_features]), name='w')
          self.b = tf.Variable(tf.zeros([self.out_features]), name='b')
          self.is_built = True

        y = tf.matmul(x, self.w) + self.b
        return tf.nn.relu(y)

    # Used in a module
    class MySequentialModule(tf.Module):
      def __init__(self, name=None):
        super().__init__(name=name)

        self.dense_1 = FlexibleDenseModule(out_features=3)
        self.dense_2 = FlexibleDenseModule(out_features=2)

      def __call__(self, x):
        x = self.dense_1(x)
        return self.dense_2(x)

    my_model = MySequentialModule(name="the_model")
    print("Model results:", my_model(tf.constant([[2.0, 2.0, 2.0]])))

    chkp_path = "my_checkpoint"
    checkpoint = tf.train.Checkpoint(model=my_model)
    checkpoint.write(chkp_path)



    tf.train.list_variables(chkp_path)

    new_model = MySequentialModule()
    new_checkpoint = tf.train.Checkpoint(model=new_model)
    new_checkpoint.restore("my_checkpoint")

    # Should be the same result as above
    new_model(tf.constant([[2.0, 2.0, 2.0]]))
    assert new_model(tf.constant([[2.0, 2.0, 2.0]])).numpy().tolist() == \
        my_model(tf.constant([[2.0, 2.0, 2.0]])).numpy().tolist()  # test: restored from the checkpoint

    class MySequentialModule(tf.Module):
      def __init__(self, name=None):
        super().__init__(name=name)

        self.dense_1 = Dense(in_features=3, out_features=3)
        self.dense_2 = Dense(in_features=3, out_features=2)

      @tf.function
      def __call__(self, x):
        x = self.dense_1(x)
        return self.dense_2(x)

    # You have made a model with a graph!
    my_model = MySequentialModule(name="the_model")

    print(my_model([[2.0, 2.0, 2.0]]))
    print(my_model([[[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]]))

    # test: cell 16 left out (tf.summary.trace_on/trace_export write TensorFlow's graph for TensorBoard; chainrule has no TensorFlow graph)

    #docs_infra: no_execute

    # test: cell 18 left out (tf.saved_model.save of a tf.Module: chainrule exports Keras models only (a tf.Module's methods are Python code it never writes into files))

    # Inspect the SavedModel in the directory

    # The variables/ directory contains a checkpoint of the variables 

    # test: cell 21 left out (loads cell 18's SavedModel)

    # test: cell 22 left out (checks cell 21's loaded object)

    print(my_model([[2.0, 2.0, 2.0]]))
    print(my_model([[[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]]))

    class MyDense(tf.keras.layers.Layer):
      # Adding **kwargs to support base Keras layer arguments
      def __init__(self, in_features, out_features, **kwargs):
        super().__init__(**kwargs)

        # This will soon move to the build step; see below
        self.w = tf.Variable(
          tf.random.normal([in_features, out_features]), name='w')
        self.b = tf.Variable(tf.zeros([out_features]), name='b')
      def call(self, x):
        y = tf.matmul(x, self.w) + self.b
        return tf.nn.relu(y)

    simple_layer = MyDense(name="simple", in_features=3, out_features=3)

    simple_layer([[2.0, 2.0, 2.0]])

    class FlexibleDense(tf.keras.layers.Layer):
      # Note the added `**kwargs`, as Keras supports many arguments
      def __init__(self, out_features, **kwargs):
        super().__init__(**kwargs)
        self.out_features = out_features

      def build(self, input_shape):  # Create the state of the layer (weights)
        self.w = tf.Variable(
          tf.random.normal([input_shape[-1], self.out_features]), name='w')
        self.b = tf.Variable(tf.zeros([self.out_features]), name='b')

      def call(self, inputs):  # Defines the computation from inputs to outputs
        return tf.matmul(inputs, self.w) + self.b

    # Create the instance of the layer
    flexible_dense = FlexibleDense(out_features=3)

    flexible_dense.variables

    # Call it, with predictably random results
    print("Model results:", flexible_dense(tf.constant([[2.0, 2.0, 2.0], [3.0, 3.0, 3.0]])))

    flexible_dense.variables

    try:
      print("Model results:", flexible_dense(tf.constant([[2.0, 2.0, 2.0, 2.0]])))
    except tf.errors.InvalidArgumentError as e:
      print("Failed:", e)

    @keras.saving.register_keras_serializable()
    class MySequentialModel(tf.keras.Model):
      def __init__(self, name=None, **kwargs):
        super().__init__(**kwargs)

        self.dense_1 = FlexibleDense(out_features=3)
        self.dense_2 = FlexibleDense(out_features=2)
      def call(self, x):
        x = self.dense_1(x)
        return self.dense_2(x)

    # You have made a Keras model!
    my_sequential_model = MySequentialModel(name="the_model")

    # Call it on a tensor, with random results
    print("Model results:", my_sequential_model(tf.constant([[2.0, 2.0, 2.0]])))

    my_sequential_model.variables

    # test: cell 33 left out (Model.submodules is tf.Module's attribute; Keras 3 models (chainrule's too) do not have it)

    inputs = tf.keras.Input(shape=[3,])

    x = FlexibleDense(3)(inputs)
    x = FlexibleDense(2)(x)

    my_functional_model = tf.keras.Model(inputs=inputs, outputs=x)

    my_functional_model.summary()

    my_functional_model(tf.constant([[2.0, 2.0, 2.0]]))

    my_sequential_model.save("exname_of_file.keras")

    reconstructed_model = tf.keras.models.load_model("exname_of_file.keras")

    reconstructed_model(tf.constant([[2.0, 2.0, 2.0]]))

    out = capsys.readouterr().out  # test
    assert 'Failed:' in out and 'not aligned' in out  # test: the wrongly shaped input is an InvalidArgumentError
    assert reconstructed_model(tf.constant([[2.0, 2.0, 2.0]])).numpy().tolist() == \
        my_sequential_model(tf.constant([[2.0, 2.0, 2.0]])).numpy().tolist()  # test: saved and loaded alike
