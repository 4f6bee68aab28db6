"""TensorFlow guide "Random number generation", run on chainrule.

Source: https://www.tensorflow.org/guide/random_numbers (tensorflow/docs, site/en/guide/random_numbers.ipynb).

The guide's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf` (the first cell, which also splits the CPU
  into three virtual devices, is left out: chainrule runs one device per process, so its MirroredStrategy here has one
  replica); the SavedModel cells (a tf.Module) are left out: chainrule exports Keras models only;
- lines marked `# test:` check what the program produces. chainrule's generator is NumPy's PCG64, not TensorFlow's
  Philox, so the numbers differ from the guide's; what must hold (a checkpoint restores the stream, a seed repeats
  it) is checked.
"""

import re

import chainrule as tf


def _streams(out, heading):  # test: the two values printed after each `heading` line
    lines = out.splitlines()
    return [lines[i + 1:i + 3] for i, line in enumerate(lines) if line.startswith(heading)]


def test_random_numbers(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # test: checkpoints go to a temporary folder
    global g, num_traces  # test: the notebook's module globals (its functions declare them global)
    # test: cell 1 left out (tf.config.experimental.set_virtual_device_configuration: chainrule runs one device per process (a MirroredStrategy's replicas are MPI ranks), there is no device to split)

    g1 = tf.random.Generator.from_seed(1)
    print(g1.normal(shape=[2, 3]))
    g2 = tf.random.get_global_generator()
    print(g2.normal(shape=[2, 3]))

    g1 = tf.random.Generator.from_seed(1, alg='philox')
    print(g1.normal(shape=[2, 3]))

    g = tf.random.Generator.from_non_deterministic_state()
    print(g.normal(shape=[2, 3]))

    g = tf.random.Generator.from_seed(1)
    print(g.normal([]))
    print(g.normal([]))
    g.reset_from_seed(1)
    print(g.normal([]))

    g = tf.random.Generator.from_seed(1)
    print(g.normal([]))
    new_gs = g.split(3)
    for new_g in new_gs:
      print(new_g.normal([]))
    print(g.normal([]))

    with tf.device("cpu"):  # change "cpu" to the device you want
      g = tf.random.get_global_generator().split(1)[0]  
      print(g.normal([]))  # use of g won't cause cross-device copy, unlike the global generator

    g = tf.random.Generator.from_seed(1)
    @tf.function
    def foo():
      return g.normal([])
    print(foo())

    g = None
    @tf.function
    def foo():
      global g
      if g is None:
        g = tf.random.Generator.from_seed(1)
      return g.normal([])
    print(foo())
    print(foo())

    num_traces = 0
    @tf.function
    def foo(g):
      global num_traces
      num_traces += 1
      return g.normal([])
    foo(tf.random.Generator.from_seed(1))
    foo(tf.random.Generator.from_seed(2))
    print(num_traces)

    num_traces = 0
    @tf.function
    def foo(v):
      global num_traces
      num_traces += 1
      return v.read_value()
    foo(tf.Variable(1))
    foo(tf.Variable(2))
    print(num_traces)

    g = tf.random.Generator.from_seed(1)
    strat = tf.distribute.MirroredStrategy(devices=["cpu:0", "cpu:1"])
    with strat.scope():
      def f():
        print(g.normal([]))
      results = strat.run(f)

    strat = tf.distribute.MirroredStrategy(devices=["cpu:0", "cpu:1"])
    with strat.scope():
      g = tf.random.Generator.from_seed(1)
      print(strat.run(lambda: g.normal([])))
      print(strat.run(lambda: g.normal([])))

    strat = tf.distribute.MirroredStrategy(devices=["cpu:0", "cpu:1"])
    with strat.scope():
      def f():
        g = tf.random.Generator.from_seed(1)
        a = g.normal([])
        b = g.normal([])
        return tf.stack([a, b])
      print(strat.run(f))
      print(strat.run(f))

    filename = "./checkpoint"
    g = tf.random.Generator.from_seed(1)
    cp = tf.train.Checkpoint(generator=g)
    print(g.normal([]))

    cp.write(filename)
    print("RNG stream from saving point:")
    print(g.normal([]))
    print(g.normal([]))

    cp.restore(filename)
    print("RNG stream from restoring point:")
    print(g.normal([]))
    print(g.normal([]))

    filename = "./checkpoint"
    strat = tf.distribute.MirroredStrategy(devices=["cpu:0", "cpu:1"])
    with strat.scope():
      g = tf.random.Generator.from_seed(1)
      cp = tf.train.Checkpoint(my_generator=g)
      print(strat.run(lambda: g.normal([])))

    with strat.scope():
      cp.write(filename)
      print("RNG stream from saving point:")
      print(strat.run(lambda: g.normal([])))
      print(strat.run(lambda: g.normal([])))

    with strat.scope():
      cp.restore(filename)
      print("RNG stream from restoring point:")
      print(strat.run(lambda: g.normal([])))
      print(strat.run(lambda: g.normal([])))

    filename = "./checkpoint"
    strat1 = tf.distribute.MirroredStrategy(devices=["cpu:0", "cpu:1"])
    with strat1.scope():
      g1 = tf.random.Generator.from_seed(1)
      cp1 = tf.train.Checkpoint(my_generator=g1)
      print(strat1.run(lambda: g1.normal([])))

    with strat1.scope():
      cp1.write(filename)
      print("RNG stream from saving point:")
      print(strat1.run(lambda: g1.normal([])))
      print(strat1.run(lambda: g1.normal([])))

    strat2 = tf.distribute.MirroredStrategy(devices=["cpu:0", "cpu:1", "cpu:2"])
    with strat2.scope():
      g2 = tf.random.Generator.from_seed(1)
      cp2 = tf.train.Checkpoint(my_generator=g2)
      cp2.restore(filename)
      print("RNG stream from restoring point:")
      print(strat2.run(lambda: g2.normal([])))
      print(strat2.run(lambda: g2.normal([])))

    filename = "./saved_model"

    class MyModule(tf.Module):

      def __init__(self):
        super(MyModule, self).__init__()
        self.g = tf.random.Generator.from_seed(0)

      @tf.function
      def __call__(self):
        return self.g.normal([])

      @tf.function
      def state(self):
        return self.g.state

    strat = tf.distribute.MirroredStrategy(devices=["cpu:0", "cpu:1"])
    with strat.scope():
      m = MyModule()
      print(strat.run(m))
      print("state:", m.state())

    # test: cell 25 left out (tf.saved_model.save of a tf.Module: chainrule exports Keras models only (a tf.Module's methods are Python code it never writes into files))

    # test: cell 26 left out (loads cell 25's SavedModel)

    print(tf.random.stateless_normal(shape=[2, 3], seed=[1, 2]))
    print(tf.random.stateless_normal(shape=[2, 3], seed=[1, 2]))

    out = capsys.readouterr().out  # test
    saved, restored = _streams(out, 'RNG stream from saving point:'), _streams(out, 'RNG stream from restoring point:')
    assert saved and saved[0] == restored[0]  # test: the restored generator repeats the stream from the save
    assert saved[1] == restored[1]  # test: also a generator made in a strategy's scope
    assert num_traces == 2  # test: foo(v) with two Variables: TensorFlow traces once (it keys a Variable by its dtype
    # and shape), chainrule keys a Variable by reference, so each new Variable is a trace
