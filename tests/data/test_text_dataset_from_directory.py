"""keras.utils.text_dataset_from_directory on folders the tests write: labels, label modes, class_names order,
batching, shuffling with a seed, validation splits (disjoint, 'both'), max_length, and Keras's errors."""
import numpy as np
import pytest

from chainrule import keras

text_dataset_from_directory = keras.utils.text_dataset_from_directory


@pytest.fixture
def folder(tmp_path):
    """neg/ holds 4 texts, pos/ holds 6 (one in a nested folder), plus files that are not .txt."""
    for label, count in (("neg", 4), ("pos", 6)):
        (tmp_path / label).mkdir()
        for i in range(count):
            (tmp_path / label / f"{i}.txt").write_text(f"{label} review {i}", encoding="utf-8")
    (tmp_path / "pos" / "more").mkdir()
    (tmp_path / "pos" / "more" / "x.txt").write_text("pos nested", encoding="utf-8")
    (tmp_path / "pos" / "notes.md").write_text("not a text file for Keras", encoding="utf-8")
    (tmp_path / ".hidden").mkdir()
    return tmp_path


def everything(dataset):
    texts, labels = [], []
    for x, y in dataset:
        texts += [text.decode("utf-8") for text in x.numpy()]
        labels += y.numpy().tolist()
    return texts, labels


def test_inferred_labels_sorted_classes_and_batches(folder, capsys):
    ds = text_dataset_from_directory(folder, batch_size=4, shuffle=False)
    assert "Found 11 files belonging to 2 classes." in capsys.readouterr().out
    assert ds.class_names == ["neg", "pos"]
    batches = list(ds)
    assert [len(x.numpy()) for x, _ in batches] == [4, 4, 3]
    texts, labels = everything(ds)
    assert texts[:5] == ["neg review 0", "neg review 1", "neg review 2", "neg review 3", "pos review 0"]
    assert "pos nested" in texts and all(isinstance(t, str) for t in texts)
    assert labels == [0] * 4 + [1] * 7
    assert batches[0][1].numpy().dtype == np.int32
    assert int(ds.cardinality()) == 3


def test_class_names_choose_and_order_the_classes(folder):
    ds = text_dataset_from_directory(folder, class_names=["pos", "neg"], shuffle=False, verbose=False)
    texts, labels = everything(ds)
    assert ds.class_names == ["pos", "neg"]
    assert all(label == (0 if t.startswith("pos") else 1) for t, label in zip(texts, labels))
    only = text_dataset_from_directory(folder, class_names=["neg"], shuffle=False, verbose=False)
    assert everything(only)[1] == [0] * 4
    with pytest.raises(ValueError, match="did not match the names of the subdirectories"):
        text_dataset_from_directory(folder, class_names=["neg", "other"], verbose=False)


def test_label_modes(folder):
    binary = next(iter(text_dataset_from_directory(folder, label_mode="binary", shuffle=False, verbose=False)))[1]
    assert binary.numpy().dtype == np.float32 and binary.numpy().shape == (11, 1)
    categorical = next(iter(text_dataset_from_directory(folder, label_mode="categorical", shuffle=False,
                                                        verbose=False)))[1].numpy()
    np.testing.assert_array_equal(categorical, np.eye(2, dtype=np.float32)[[0] * 4 + [1] * 7])
    texts_only = next(iter(text_dataset_from_directory(folder, label_mode=None, shuffle=False, verbose=False)))
    assert texts_only.numpy().shape == (11,)
    given = text_dataset_from_directory(folder, labels=list(range(11)), shuffle=False, verbose=False)
    assert everything(given)[1] == list(range(11)) and given.class_names == [str(i) for i in range(11)]
    unbatched = text_dataset_from_directory(folder, batch_size=None, shuffle=False, verbose=False)
    first_text, first_label = next(iter(unbatched))
    assert first_text.shape == () and first_text.numpy() == b"neg review 0" and int(first_label) == 0


def test_shuffle_with_a_seed_is_repeatable_and_keeps_pairs(folder):
    one = everything(text_dataset_from_directory(folder, seed=7, verbose=False))
    two = everything(text_dataset_from_directory(folder, seed=7, verbose=False))
    assert one == two
    assert sorted(one[0]) == sorted(everything(text_dataset_from_directory(folder, shuffle=False,
                                                                           verbose=False))[0])
    assert all(label == (1 if t.startswith("pos") else 0) for t, label in zip(*one))


def test_validation_split_gives_disjoint_subsets(folder):
    kwargs = dict(validation_split=0.3, seed=1337, verbose=False, batch_size=2)
    train = everything(text_dataset_from_directory(folder, subset="training", **kwargs))[0]
    val = everything(text_dataset_from_directory(folder, subset="validation", **kwargs))[0]
    assert len(train) == 8 and len(val) == 3 and not set(train) & set(val)
    both_train, both_val = text_dataset_from_directory(folder, subset="both", **kwargs)
    assert sorted(everything(both_train)[0]) == sorted(train) and sorted(everything(both_val)[0]) == sorted(val)
    assert both_val.class_names == ["neg", "pos"]


def test_max_length_keeps_the_first_bytes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "t.txt").write_text("héllo world", encoding="utf-8")
    text = next(iter(text_dataset_from_directory(tmp_path, max_length=3, verbose=False)))[0].numpy()[0]
    assert text == "hé".encode("utf-8")  # 'h' and the two bytes of 'é'
    cut = next(iter(text_dataset_from_directory(tmp_path, max_length=2, verbose=False)))[0].numpy()[0]
    assert cut == b"h"  # the half of 'é' is left out


def test_errors(folder, tmp_path):
    with pytest.raises(ValueError, match="you must provide a `seed` argument"):
        text_dataset_from_directory(folder, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="If `subset` is set, `validation_split` must be set"):
        text_dataset_from_directory(folder, subset="training", seed=1)
    with pytest.raises(ValueError, match='`subset` must be either "training", "validation" or "both"'):
        text_dataset_from_directory(folder, validation_split=0.2, subset="test", seed=1)
    with pytest.raises(ValueError, match="`label_mode` argument must be one of"):
        text_dataset_from_directory(folder, label_mode="sparse")
    with pytest.raises(ValueError, match="`labels` argument should be a list/tuple of integer labels"):
        text_dataset_from_directory(folder, labels="folders")
    with pytest.raises(ValueError, match="Expected the lengths of `labels` to match the number of files"):
        text_dataset_from_directory(folder, labels=[0, 1], verbose=False)
    (tmp_path / "empty" / "c1").mkdir(parents=True)
    (tmp_path / "empty" / "c2").mkdir()
    (tmp_path / "empty" / "c3").mkdir()
    with pytest.raises(ValueError, match="No text files found in directory"):
        text_dataset_from_directory(tmp_path / "empty", verbose=False)
    with pytest.raises(ValueError, match='`label_mode="binary"`, there must be exactly 2 class_names'):
        text_dataset_from_directory(tmp_path / "empty", label_mode="binary", verbose=False)
    with pytest.raises(ValueError, match="Could not find directory"):
        text_dataset_from_directory(tmp_path / "missing")
