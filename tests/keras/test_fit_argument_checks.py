"""fit/evaluate/predict refuse arguments Keras refuses, with a message naming the argument (issue 15): 0 samples,
batch_size 0 or negative (it used to become 32), epochs=-1 (an empty history), steps and validation arguments out
of range, and a list of arrays given to a one-input model (stacked silently by predict)."""
import numpy as np
import pytest

from chainrule import keras
from chainrule.data import Dataset


def model():
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    m.compile("sgd", "mse")
    return m


X = np.ones((8, 3), np.float32)
Y = np.ones((8, 2), np.float32)


@pytest.mark.parametrize("call", [
    lambda m: m.fit(np.zeros((0, 3)), np.zeros((0, 2)), verbose=0),
    lambda m: m.evaluate(np.zeros((0, 3)), np.zeros((0, 2)), verbose=0),
    lambda m: m.predict(np.zeros((0, 3)), verbose=0),
    lambda m: m.fit(X, Y, validation_data=(np.zeros((0, 3)), np.zeros((0, 2))), verbose=0),
], ids=["fit", "evaluate", "predict", "validation_data"])
def test_zero_samples_are_refused(call):
    with pytest.raises(ValueError, match=r"non-empty: x has 0 samples \(shape \(0, 3\)\)"):
        call(model())


def test_an_empty_dataset_is_refused():
    empty = Dataset.from_tensor_slices((X, Y)).take(0).batch(4)
    with pytest.raises(ValueError, match="non-empty"):
        model().fit(empty, verbose=0)
    with pytest.raises(ValueError, match="non-empty"):
        model().evaluate(empty, verbose=0)


@pytest.mark.parametrize("name, value", [
    ("batch_size", 0), ("batch_size", -4), ("batch_size", 2.5), ("batch_size", True),
    ("epochs", -1), ("epochs", 1.5), ("initial_epoch", -1),
    ("steps_per_epoch", 0), ("steps_per_epoch", -1), ("validation_steps", 0), ("validation_batch_size", 0),
    ("validation_split", 1.0), ("validation_split", -0.1), ("validation_split", "0.2"),
    ("validation_freq", 0), ("validation_freq", [0, 2]),
])
def test_fit_refuses_bad_numbers_naming_the_argument(name, value):
    m = model()
    before = [w.copy() for w in m.get_weights()]
    kwargs = {name: value}
    if name in ("validation_steps", "validation_batch_size", "validation_freq"):
        kwargs["validation_data"] = (X, Y)
    with pytest.raises(ValueError, match=rf"`{name}`.*Received: {name}="):
        m.fit(X, Y, verbose=0, **kwargs)
    assert all((a == b).all() for a, b in zip(before, m.get_weights()))  # refused before any step


@pytest.mark.parametrize("method", ["evaluate", "predict"])
@pytest.mark.parametrize("name, value", [("batch_size", 0), ("batch_size", -1), ("steps", 0), ("steps", -2)])
def test_evaluate_and_predict_refuse_bad_numbers(method, name, value):
    args = (X, Y) if method == "evaluate" else (X,)
    with pytest.raises(ValueError, match=rf"`{name}`"):
        getattr(model(), method)(*args, verbose=0, **{name: value})


def test_good_values_still_train():
    m = model()
    history = m.fit(X, Y, batch_size=np.int64(4), epochs=2, validation_split=0.25, validation_freq=[2],
                    verbose=0)
    assert len(history.history["loss"]) == 2 and len(history.history["val_loss"]) == 1
    assert m.fit(X, Y, epochs=0, verbose=0).history == {}  # as Keras: nothing to do, no error


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_a_list_of_arrays_for_a_one_input_model_is_refused(method):
    samples = [X[i] for i in range(8)]  # one array per sample: it would have been stacked (predict) or split
    args = (samples, Y) if method != "predict" else (samples,)
    with pytest.raises(ValueError, match=r"expects 1 input\(s\), but x is a list of 8 arrays.*np\.stack"):
        getattr(model(), method)(*args, verbose=0)
    with pytest.raises(ValueError, match=r"expects 1 input\(s\), but x is a list of 2 arrays"):
        model().predict([X, X], verbose=0)


def test_a_functional_model_with_two_inputs_takes_a_list_of_two():
    a, b = keras.Input((3,)), keras.Input((3,))
    m = keras.Model([a, b], keras.layers.Dense(2)(keras.layers.Concatenate()([a, b])))
    m.compile("sgd", "mse")
    m.fit([X, X], Y, verbose=0)
    with pytest.raises(ValueError, match=r"expects 2 input\(s\), but x is a list of 3 arrays"):
        m.predict([X, X, X], verbose=0)
