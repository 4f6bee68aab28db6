"""TensorFlow guide "Better performance with the tf.data API", run on chainrule.

Source: https://www.tensorflow.org/guide/data_performance (tensorflow/docs, site/en/guide/data_performance.ipynb).

The guide's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`; plots go to matplotlib's Agg backend;
- `mpl.cm.get_cmap("plasma")` (removed in matplotlib 3.9) is `mpl.colormaps["plasma"]`;
- lines marked `# test:` check what the program produces. The guide's benchmarks sleep to stand for reading and
  training; the test checks what ran, not how fast (the machine is shared).
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
import pytest


@pytest.mark.slow  # test: the guide's benchmarks sleep for about 30 s in all
def test_data_performance(capsys):
    import chainrule as tf

    import time

    class ArtificialDataset(tf.data.Dataset):
        def _generator(num_samples):
            # Opening the file
            time.sleep(0.03)

            for sample_idx in range(num_samples):
                # Reading data (line, record) from the file
                time.sleep(0.015)

                yield (sample_idx,)

        def __new__(cls, num_samples=3):
            return tf.data.Dataset.from_generator(
                cls._generator,
                output_signature = tf.TensorSpec(shape = (1,), dtype = tf.int64),
                args=(num_samples,)
            )

    def benchmark(dataset, num_epochs=2):
        start_time = time.perf_counter()
        for epoch_num in range(num_epochs):
            for sample in dataset:
                # Performing a training step
                time.sleep(0.01)
        print("Execution time:", time.perf_counter() - start_time)

    benchmark(ArtificialDataset())

    benchmark(
        ArtificialDataset()
        .prefetch(tf.data.AUTOTUNE)
    )

    benchmark(
        tf.data.Dataset.range(2)
        .interleave(lambda _: ArtificialDataset())
    )

    benchmark(
        tf.data.Dataset.range(2)
        .interleave(
            lambda _: ArtificialDataset(),
            num_parallel_calls=tf.data.AUTOTUNE
        )
    )

    def mapped_function(s):
        # Do some hard pre-processing
        tf.py_function(lambda: time.sleep(0.03), [], ())
        return s

    benchmark(
        ArtificialDataset()
        .map(mapped_function)
    )

    benchmark(
        ArtificialDataset()
        .map(
            mapped_function,
            num_parallel_calls=tf.data.AUTOTUNE
        )
    )

    benchmark(
        ArtificialDataset()
        .map(  # Apply time consuming operations before cache
            mapped_function
        ).cache(
        ),
        5
    )

    fast_dataset = tf.data.Dataset.range(10000)

    def fast_benchmark(dataset, num_epochs=2):
        start_time = time.perf_counter()
        for _ in tf.data.Dataset.range(num_epochs):
            for _ in dataset:
                pass
        tf.print("Execution time:", time.perf_counter() - start_time)

    def increment(x):
        return x+1

    fast_benchmark(
        fast_dataset
        # Apply function one item at a time
        .map(increment)
        # Batch
        .batch(256)
    )

    fast_benchmark(
        fast_dataset
        .batch(256)
        # Apply function on a batch of items
        # The tf.Tensor.__add__ method already handle batches
        .map(increment)
    )

    import itertools
    from collections import defaultdict

    import numpy as np
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    class TimeMeasuredDataset(tf.data.Dataset):
        # OUTPUT: (steps, timings, counters)
        OUTPUT_TYPES = (tf.dtypes.string, tf.dtypes.float32, tf.dtypes.int32)
        OUTPUT_SHAPES = ((2, 1), (2, 2), (2, 3))

        _INSTANCES_COUNTER = itertools.count()  # Number of datasets generated
        _EPOCHS_COUNTER = defaultdict(itertools.count)  # Number of epochs done for each dataset

        def _generator(instance_idx, num_samples):
            epoch_idx = next(TimeMeasuredDataset._EPOCHS_COUNTER[instance_idx])

            # Opening the file
            open_enter = time.perf_counter()
            time.sleep(0.03)
            open_elapsed = time.perf_counter() - open_enter

            for sample_idx in range(num_samples):
                # Reading data (line, record) from the file
                read_enter = time.perf_counter()
                time.sleep(0.015)
                read_elapsed = time.perf_counter() - read_enter

                yield (
                    [("Open",), ("Read",)],
                    [(open_enter, open_elapsed), (read_enter, read_elapsed)],
                    [(instance_idx, epoch_idx, -1), (instance_idx, epoch_idx, sample_idx)]
                )
                open_enter, open_elapsed = -1., -1.  # Negative values will be filtered


        def __new__(cls, num_samples=3):
            return tf.data.Dataset.from_generator(
                cls._generator,
                output_types=cls.OUTPUT_TYPES,
                output_shapes=cls.OUTPUT_SHAPES,
                args=(next(cls._INSTANCES_COUNTER), num_samples)
            )

    def timelined_benchmark(dataset, num_epochs=2):
        # Initialize accumulators
        steps_acc = tf.zeros([0, 1], dtype=tf.dtypes.string)
        times_acc = tf.zeros([0, 2], dtype=tf.dtypes.float32)
        values_acc = tf.zeros([0, 3], dtype=tf.dtypes.int32)

        start_time = time.perf_counter()
        for epoch_num in range(num_epochs):
            epoch_enter = time.perf_counter()
            for (steps, times, values) in dataset:
                # Record dataset preparation informations
                steps_acc = tf.concat((steps_acc, steps), axis=0)
                times_acc = tf.concat((times_acc, times), axis=0)
                values_acc = tf.concat((values_acc, values), axis=0)

                # Simulate training time
                train_enter = time.perf_counter()
                time.sleep(0.01)
                train_elapsed = time.perf_counter() - train_enter

                # Record training informations
                steps_acc = tf.concat((steps_acc, [["Train"]]), axis=0)
                times_acc = tf.concat((times_acc, [(train_enter, train_elapsed)]), axis=0)
                values_acc = tf.concat((values_acc, [values[-1]]), axis=0)

            epoch_elapsed = time.perf_counter() - epoch_enter
            # Record epoch informations
            steps_acc = tf.concat((steps_acc, [["Epoch"]]), axis=0)
            times_acc = tf.concat((times_acc, [(epoch_enter, epoch_elapsed)]), axis=0)
            values_acc = tf.concat((values_acc, [[-1, epoch_num, -1]]), axis=0)
            time.sleep(0.001)

        tf.print("Execution time:", time.perf_counter() - start_time)
        return {"steps": steps_acc, "times": times_acc, "values": values_acc}

    def draw_timeline(timeline, title, width=0.5, annotate=False, save=False):
        # Remove invalid entries (negative times, or empty steps) from the timelines
        invalid_mask = np.logical_and(timeline['times'] > 0, timeline['steps'] != b'')[:,0]
        steps = timeline['steps'][invalid_mask].numpy()
        times = timeline['times'][invalid_mask].numpy()
        values = timeline['values'][invalid_mask].numpy()

        # Get a set of different steps, ordered by the first time they are encountered
        step_ids, indices = np.stack(np.unique(steps, return_index=True))
        step_ids = step_ids[np.argsort(indices)]

        # Shift the starting time to 0 and compute the maximal time value
        min_time = times[:,0].min()
        times[:,0] = (times[:,0] - min_time)
        end = max(width, (times[:,0]+times[:,1]).max() + 0.01)

        cmap = mpl.colormaps["plasma"]  # test: mpl.cm.get_cmap("plasma") (removed in matplotlib 3.9)
        plt.close()
        fig, axs = plt.subplots(len(step_ids), sharex=True, gridspec_kw={'hspace': 0})
        fig.suptitle(title)
        fig.set_size_inches(17.0, len(step_ids))
        plt.xlim(-0.01, end)

        for i, step in enumerate(step_ids):
            step_name = step.decode()
            ax = axs[i]
            ax.set_ylabel(step_name)
            ax.set_ylim(0, 1)
            ax.set_yticks([])
            ax.set_xlabel("time (s)")
            ax.set_xticklabels([])
            ax.grid(which="both", axis="x", color="k", linestyle=":")

            # Get timings and annotation for the given step
            entries_mask = np.squeeze(steps==step)
            serie = np.unique(times[entries_mask], axis=0)
            annotations = values[entries_mask]

            ax.broken_barh(serie, (0, 1), color=cmap(i / len(step_ids)), linewidth=1, alpha=0.66)
            if annotate:
                for j, (start, width) in enumerate(serie):
                    annotation = "\n".join([f"{l}: {v}" for l,v in zip(("i", "e", "s"), annotations[j])])
                    ax.text(start + 0.001 + (0.001 * (j % 2)), 0.55 - (0.1 * (j % 2)), annotation,
                            horizontalalignment='left', verticalalignment='center')
        if save:
            plt.savefig(title.lower().translate(str.maketrans(" ", "_")) + ".svg")

    def map_decorator(func):
        def wrapper(steps, times, values):
            # Use a tf.py_function to prevent auto-graph from compiling the method
            return tf.py_function(
                func,
                inp=(steps, times, values),
                Tout=(steps.dtype, times.dtype, values.dtype)
            )
        return wrapper

    _batch_map_num_items = 50

    def dataset_generator_fun(*args):
        return TimeMeasuredDataset(num_samples=_batch_map_num_items)

    @map_decorator
    def naive_map(steps, times, values):
        map_enter = time.perf_counter()
        time.sleep(0.001)  # Time consuming step
        time.sleep(0.0001)  # Memory consuming step
        map_elapsed = time.perf_counter() - map_enter

        return (
            tf.concat((steps, [["Map"]]), axis=0),
            tf.concat((times, [[map_enter, map_elapsed]]), axis=0),
            tf.concat((values, [values[-1]]), axis=0)
        )

    naive_timeline = timelined_benchmark(
        tf.data.Dataset.range(2)
        .flat_map(dataset_generator_fun)
        .map(naive_map)
        .batch(_batch_map_num_items, drop_remainder=True)
        .unbatch(),
        5
    )

    @map_decorator
    def time_consuming_map(steps, times, values):
        map_enter = time.perf_counter()
        time.sleep(0.001 * values.shape[0])  # Time consuming step
        map_elapsed = time.perf_counter() - map_enter

        return (
            tf.concat((steps, tf.tile([[["1st map"]]], [steps.shape[0], 1, 1])), axis=1),
            tf.concat((times, tf.tile([[[map_enter, map_elapsed]]], [times.shape[0], 1, 1])), axis=1),
            tf.concat((values, tf.tile([[values[:][-1][0]]], [values.shape[0], 1, 1])), axis=1)
        )


    @map_decorator
    def memory_consuming_map(steps, times, values):
        map_enter = time.perf_counter()
        time.sleep(0.0001 * values.shape[0])  # Memory consuming step
        map_elapsed = time.perf_counter() - map_enter

        # Use tf.tile to handle batch dimension
        return (
            tf.concat((steps, tf.tile([[["2nd map"]]], [steps.shape[0], 1, 1])), axis=1),
            tf.concat((times, tf.tile([[[map_enter, map_elapsed]]], [times.shape[0], 1, 1])), axis=1),
            tf.concat((values, tf.tile([[values[:][-1][0]]], [values.shape[0], 1, 1])), axis=1)
        )


    optimized_timeline = timelined_benchmark(
        tf.data.Dataset.range(2)
        .interleave(  # Parallelize data reading
            dataset_generator_fun,
            num_parallel_calls=tf.data.AUTOTUNE
        )
        .batch(  # Vectorize your mapped function
            _batch_map_num_items,
            drop_remainder=True)
        .map(  # Parallelize map transformation
            time_consuming_map,
            num_parallel_calls=tf.data.AUTOTUNE
        )
        .cache()  # Cache data
        .map(  # Reduce memory usage
            memory_consuming_map,
            num_parallel_calls=tf.data.AUTOTUNE
        )
        .prefetch(  # Overlap producer and consumer works
            tf.data.AUTOTUNE
        )
        .unbatch(),
        5
    )

    draw_timeline(naive_timeline, "Naive", 15)

    draw_timeline(optimized_timeline, "Optimized", 15)

    plt.close('all')  # test
    out = capsys.readouterr().out  # test
    assert out.count('Execution time:') >= 9  # test: every benchmark ran to its end
    steps = set(naive_timeline['steps'].numpy().ravel().tolist())  # test
    assert steps == {b'Open', b'Read', b'Map', b'Train', b'Epoch'}  # test: the timeline's steps
    assert optimized_timeline['values'].shape[1] == 3  # test
