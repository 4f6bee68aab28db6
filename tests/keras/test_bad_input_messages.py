"""fit/evaluate/predict say what is wrong with data that is not arrays of numbers, in chainrule's words: which
argument (x, y, x[1], x['image']), its dtype or the shapes that differ, and what to do; never NumPy's message from
deep inside an op, and never a silent conversion (complex numbers losing their imaginary part)."""
import numpy as np
import pytest

from chainrule.keras import Input, Model, Sequential, layers


@pytest.fixture(scope="module")
def model():
    model = Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    return model


def run(model, call: str, x, y=None):
    if call == "fit":
        return model.fit(x, np.zeros((2, 2), np.float32) if y is None else y, verbose=0)
    if call == "evaluate":
        return model.evaluate(x, np.zeros((2, 2), np.float32) if y is None else y, verbose=0)
    return model.predict(x, verbose=0)


BAD_X = {
    "strings": (np.array([["1", "2", "3"], ["4", "5", "6"]]),
                r"x holds strings \(dtype U1, e.g. '1'\): a model takes numbers. .*x.astype\('float32'\)"),
    "bytes": (np.array([[b"a", b"b", b"c"]] * 2), r"x holds strings \(dtype S1, e.g. b'a'\)"),
    "objects with a string": (np.array([[1, "a", 3], [4, 5, 6]], dtype=object),
                              r"x is an object array \(dtype object\) and x\[0, 1\] is the str 'a', not a number"),
    "objects with None": (np.array([[1.0, 2.0, 3.0], [4.0, None, 6.0]], dtype=object),
                          r"x\[1, 1\] is None \(a missing value\? fill it in first\)"),
    "objects of ragged rows": (np.array([np.ones(3), np.ones(2)], dtype=object),
                               r"x is an object array of sequences: x\[0\] has shape \(3,\) but x\[1\] has shape "
                               r"\(2,\)"),
    "a ragged list": ([[1, 2, 3], [4, 5]], r"x is a ragged list: x\[0\] has shape \(3,\) but x\[1\] has shape \(2,\)"
                                           r"\. Every sample must have the same shape"),
    "a list ragged deeper down": ([[[1, 2, 3]], [[4, 5, 6], [7, 8]]],
                                  r"x\[1\]\[0\] has shape \(3,\) but x\[1\]\[1\] has shape \(2,\)"),
    "complex numbers": (np.ones((2, 3), np.complex64), r"x has dtype complex64: a model takes real numbers"),
    "dates": (np.array([["2020-01-01"] * 3] * 2, dtype="datetime64[D]"), r"x has dtype datetime64\[D\]"),
    "a structured array": (np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]),
                           r"x is a structured array with fields \['a', 'b'\]"),
}


@pytest.mark.parametrize("call", ["fit", "evaluate", "predict"])
@pytest.mark.parametrize("case", list(BAD_X))
def test_bad_x_is_named_with_what_is_wrong(model, call, case):
    x, message = BAD_X[case]
    with pytest.raises(TypeError, match=message):
        run(model, call, x)


@pytest.mark.parametrize("y, message", [
    (np.array(["cat", "dog"]), r"y holds strings \(dtype U3, e.g. 'cat'\): .*np.unique\(y, return_inverse=True\)"),
    (np.array([[1, 2], [3, None]], dtype=object), r"y is an object array \(dtype object\) and y\[1, 1\] is None"),
    ([[1, 2], [3]], r"y is a ragged list: y\[0\] has shape \(2,\) but y\[1\] has shape \(1,\)"),
])
def test_bad_y_is_named(model, y, message):
    for call in ("fit", "evaluate"):
        with pytest.raises(TypeError, match=message):
            run(model, call, np.ones((2, 3), np.float32), y)


def test_bad_sample_weight_is_named(model):
    with pytest.raises(TypeError, match=r"sample_weight holds strings"):
        model.fit(np.ones((2, 3)), np.zeros((2, 2)), sample_weight=np.array(["a", "b"]), verbose=0)


def test_an_input_of_a_multi_input_model_is_named_by_its_place_or_key():
    a, b = Input((3,), name="a"), Input((2,), name="b")
    model = Model([a, b], layers.Dense(1)(layers.Concatenate()([a, b])))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match=r"x\[1\] holds strings"):
        model.fit([np.ones((2, 3)), np.array([["p", "q"]] * 2)], np.zeros((2, 1)), verbose=0)
    with pytest.raises(TypeError, match=r"x\['b'\] is an object array \(dtype object\) and x\['b'\]\[0, 0\] is None"):
        model.predict({"a": np.ones((2, 3)), "b": np.array([[None, 1], [2, 3]], dtype=object)}, verbose=0)


def test_arrays_with_different_sample_counts_name_each_array(model):
    """A list of per-sample arrays is read as one array per model input: the message says so, and how to stack."""
    with pytest.raises(ValueError, match=r"x\[0\] has 3 samples \(shape \(3,\)\), x\[1\] has 2 samples \(shape "
                                         r"\(2,\)\).*read as one array per model input.*np.stack\(x\)"):
        model.predict([np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0])], verbose=0)
    with pytest.raises(ValueError, match=r"x has 2 samples \(shape \(2, 3\)\), y has 3 samples \(shape \(3, 2\)\)"):
        model.fit(np.ones((2, 3)), np.zeros((3, 2)), verbose=0)
    with pytest.raises(ValueError, match=r"x is a single value \(shape \(\)\)"):
        model.predict(np.float32(3.0), verbose=0)


def test_batches_from_a_generator_are_checked_too(model):
    def batches():
        yield np.ones((2, 3), np.float32), np.zeros((2, 2), np.float32)
        yield np.array([["a", "b", "c"]] * 2), np.zeros((2, 2), np.float32)

    with pytest.raises(TypeError, match="x holds strings"):
        model.fit(batches(), epochs=1, verbose=0)


def test_object_arrays_of_numbers_still_work_as_numbers(model):
    numbers = np.arange(6, dtype=np.float32).reshape(2, 3)
    as_objects = numbers.astype(object)
    np.testing.assert_array_equal(model.predict(as_objects, verbose=0), model.predict(numbers, verbose=0))
    rows = np.empty(2, dtype=object)
    rows[0], rows[1] = numbers[0], numbers[1]  # one array per sample, as pandas' .values can give
    np.testing.assert_array_equal(model.predict(rows, verbose=0), model.predict(numbers, verbose=0))
    labels = np.array([[0, 1], [1, 0]], dtype=object)
    assert model.evaluate(numbers, labels, verbose=0) == model.evaluate(numbers, labels.astype(np.float32), verbose=0)
