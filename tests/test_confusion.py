"""The confusion matrix counted during the test set's evaluate (specc/runners/confusion.py) is the matrix that
predicting the test set gives, for every kind of class target; where it cannot be, no counter (or no matrix)."""

import numpy as np
import pytest

from specc.runners.confusion import ConfusionCounter
from specc.runners.plots import class_ids


def _model(units: int, activation: str, loss: str):
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,))  # functional, as specc builds them
    model = keras.Model(inputs, keras.layers.Dense(units, activation=activation)(inputs))
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


def _data(units: int, kind: str, n: int):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 6)).astype("float32")
    labels = rng.integers(0, max(units, 2), n)
    if kind == "one_hot":
        return x, np.eye(units, dtype="float32")[labels]
    y = labels.astype("float32") if kind == "binary" else labels
    return x, y


@pytest.mark.parametrize("units, activation, loss, kind", [
    (4, "softmax", "sparse_categorical_crossentropy", "sparse"),
    (4, "softmax", "categorical_crossentropy", "one_hot"),
    (1, "sigmoid", "binary_crossentropy", "binary"),
])
def test_counted_matrix_is_the_predicted_one(units, activation, loss, kind, tmp_path):
    model = _model(units, activation, loss)
    x, y = _data(units, kind, 90)
    x_test, y_test = _data(units, kind, 37)  # a last batch of 5: the test function is traced again
    counter = ConfusionCounter.attach(model, y_test)
    assert counter is not None
    model.fit(x, y, batch_size=16, epochs=1, validation_split=0.2, verbose=0)  # validation counts: reset below
    counter.reset()
    model.evaluate(x_test, y_test, batch_size=16, verbose=0)
    n = max(units, 2)
    expected = np.zeros((n, n), int)
    np.add.at(expected, (class_ids(y_test, units), class_ids(model.predict(x_test, verbose=0), units)), 1)
    counted = counter.matrix(len(x_test))
    assert counted is not None and counted.sum() == 37
    np.testing.assert_array_equal(counted, expected)
    model.save(tmp_path / "m.keras")  # the counter is not part of the model
    import keras

    assert len(keras.saving.load_model(tmp_path / "m.keras").weights) == len(model.weights) == 2


def test_no_counter_for_a_regression_and_no_matrix_unless_every_sample_counted():
    model = _model(1, "linear", "mse")
    assert ConfusionCounter.attach(model, np.linspace(0, 3, 10).astype("float32")) is None
    model = _model(3, "softmax", "sparse_categorical_crossentropy")
    counter = ConfusionCounter.attach(model, np.zeros(8, int))
    x, y = _data(3, "sparse", 8)
    counter.reset()
    model.evaluate(x, y, batch_size=4, verbose=0)
    assert counter.matrix(8).sum() == 8
    assert counter.matrix(9) is None  # not one pair per test sample: the plot predicts instead
