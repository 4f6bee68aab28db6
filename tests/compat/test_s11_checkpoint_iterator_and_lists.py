"""tf.train.Checkpoint saves a dataset iterator's position and restores it (the checkpoint guide's
``Checkpoint(iterator=iter(dataset))``), and a list or dict assigned to a checkpoint is wrapped so that items added
later are saved, and restored when added (TensorFlow's ListWrapper / _DictWrapper)."""

import numpy as np

import chainrule as tf


def _ints(values):
    return [int(v) for v in values]


def test_iterator_position_is_saved_and_restored(tmp_path):
    iterator = iter(tf.data.Dataset.range(10))
    ckpt = tf.train.Checkpoint(iterator=iterator)
    assert _ints([next(iterator), next(iterator), next(iterator)]) == [0, 1, 2]
    path = ckpt.save(str(tmp_path / "ckpt"))
    assert _ints([next(iterator), next(iterator)]) == [3, 4]

    ckpt.restore(path)  # the same iterator goes back to where it was saved
    assert int(next(iterator)) == 3

    fresh = iter(tf.data.Dataset.range(10))
    tf.train.Checkpoint(iterator=fresh).restore(path).assert_consumed()
    assert _ints(fresh) == [3, 4, 5, 6, 7, 8, 9]


def test_iterator_position_counts_after_restore(tmp_path):
    # saving again after a restore writes the position reached since, not the restored one
    dataset = tf.data.Dataset.range(100).batch(2).repeat()
    iterator = iter(dataset)
    ckpt = tf.train.Checkpoint(iterator=iterator)
    for _ in range(5):
        next(iterator)
    first = ckpt.save(str(tmp_path / "ckpt"))
    again = iter(dataset)
    ckpt2 = tf.train.Checkpoint(iterator=again)
    ckpt2.restore(first)
    for _ in range(3):
        next(again)
    second = ckpt2.save(str(tmp_path / "ckpt2"))
    last = iter(dataset)
    tf.train.Checkpoint(iterator=last).restore(second)
    np.testing.assert_array_equal(next(last).numpy(), [16, 17])


def test_iterator_without_a_checkpoint_is_a_plain_iterator():
    iterator = iter(tf.data.Dataset.from_tensor_slices({"x": np.arange(3.0)}))
    assert iter(iterator) is iterator
    assert iterator.element_spec["x"].shape == ()
    assert float(iterator.get_next()["x"]) == 0.0
    assert [float(e["x"]) for e in iterator] == [1.0, 2.0]


def test_list_assigned_empty_restores_items_appended_later(tmp_path):
    save = tf.train.Checkpoint()
    save.listed = [tf.Variable(1.)]
    save.listed.append(tf.Variable(2.))  # appended after assignment: saved too
    save.mapped = {}
    save.mapped["three"] = tf.Variable(3.)
    path = save.save(str(tmp_path / "lists"))

    restore = tf.train.Checkpoint()
    restore.listed = []
    restore.mapped = {}
    restore.restore(path)
    first, second, third = tf.Variable(0.), tf.Variable(0.), tf.Variable(0.)
    restore.listed.append(first)
    restore.listed.extend([second])
    restore.mapped["three"] = third
    assert (float(first.numpy()), float(second.numpy()), float(third.numpy())) == (1.0, 2.0, 3.0)


def test_tracked_lists_stay_lists():
    ckpt = tf.train.Checkpoint()
    ckpt.listed = [1, 2]
    assert isinstance(ckpt.listed, list) and ckpt.listed == [1, 2]
    ckpt.mapped = {"a": 1}
    assert isinstance(ckpt.mapped, dict) and ckpt.mapped == {"a": 1}
