"""The `data` section: every source kind through load_arrays, the preparation steps, and the errors.

Real files in tmp_path, real Keras. The `slow` tests train each kind once through the real CLI; the CSV,
image and text kinds are trained (and predicted on) in test_predict.py.
"""

import csv
import gzip
import json
import struct

import numpy as np
import pytest
from conftest import REVIEWS, run_cli, write_images, write_texts

from specc.check import check_text
from specc.runners import RunError
from specc.runners.data import PREPROCESSING_FILE, load_arrays


def checked(text):
    result = check_text(text)
    assert result.ok, [d.message for d in result.errors]
    return result


def spec(data, layers="  - {type: Dense, units: 3, activation: softmax, input_dim: 4}",
         loss="sparse_categorical_crossentropy", epochs=2):
    return (f"specc: 1\nseed: 0\nlayers:\n{layers}\n"
            f"compile: {{optimizer: adam, loss: {loss}}}\n"
            f"train: {{epochs: {epochs}, batch_size: 16, validation_split: 0}}\n"
            f"data:\n{data}")


def load(tmp_path, data, **kw):
    return load_arrays(checked(spec(data, **kw)), tmp_path, 0)


def load_error(tmp_path, data, **kw) -> str:
    with pytest.raises(RunError) as e:
        load(tmp_path, data, **kw)
    return str(e.value)


def write_csv(path, header, rows, delimiter=","):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        if header:
            w.writerow(header)
        w.writerows(rows)


def blob_rows(n=40, seed=0, names=("cat", "dog", "eel")):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        k = i % len(names)
        rows.append([f"{v:.5f}" for v in rng.normal(k * 3, 0.3, 4)] + [names[k]])
    return rows


# -- npz and npy ----------------------------------------------------------------
def test_npy_pair_is_memory_mapped_and_loads(tmp_path):
    from specc.runners.data import read_npy

    x = np.arange(40 * 4, dtype="float64").reshape(40, 4)
    y = np.arange(40) % 3
    np.save(tmp_path / "X.npy", x)
    np.save(tmp_path / "Y.npy", y)
    assert isinstance(read_npy(tmp_path / "X.npy"), np.memmap)
    a = load(tmp_path, "  source: {type: npy, x: X.npy, y: Y.npy}\n  test_split: 0.25\n")
    assert a.x_train.shape == (30, 4) and a.x_test.shape == (10, 4)
    assert a.x_train.dtype == np.float32 and a.y_train.dtype == np.int32
    # Every sample keeps its own label through the shuffled split.
    for xs, ys in ((a.x_train, a.y_train), (a.x_test, a.y_test)):
        assert ((xs[:, 0] / 4).astype(int) % 3 == ys).all()
    assert sorted(np.concatenate([a.x_train[:, 0], a.x_test[:, 0]]).tolist()) == x[:, 0].tolist()


def test_npy_errors_name_the_file(tmp_path):
    np.save(tmp_path / "X.npy", np.zeros((5, 4)))
    np.save(tmp_path / "Y.npy", np.zeros(4, int))
    assert "Y2.npy" in load_error(tmp_path, "  source: {type: npy, x: X.npy, y: Y2.npy}\n")
    message = load_error(tmp_path, "  source: {type: npy, x: X.npy, y: Y.npy}\n")
    assert "X.npy has 5 samples but" in message and "Y.npy has 4" in message
    (tmp_path / "bad.npy").write_text("not an array")
    assert "bad.npy: not a .npy file" in load_error(tmp_path, "  source: {type: npy, x: bad.npy}\n")
    np.save(tmp_path / "Yf.npy", np.full(5, 0.5))  # a problem with the labels was blamed on X.npy alone
    assert f"X.npy and {tmp_path / 'Yf.npy'}: training labels are not integer class ids" in load_error(
        tmp_path, "  source: {type: npy, x: X.npy, y: Yf.npy}\n")


def test_a_column_of_class_ids_is_one_hot_encoded_like_a_vector(tmp_path):
    """Labels of shape (n, 1) with categorical_crossentropy crashed Keras's fit after the run directory existed."""
    np.save(tmp_path / "X.npy", np.ones((12, 4), "float32"))
    np.save(tmp_path / "Y.npy", (np.arange(12) % 3).reshape(-1, 1))
    a = load(tmp_path, "  source: {type: npy, x: X.npy, y: Y.npy}\n  test_split: 0.25\n",
             loss="categorical_crossentropy")
    assert a.y_train.shape == (9, 3) and a.y_train.sum(axis=1).tolist() == [1.0] * 9


def test_npz_missing_array_suggests_the_close_name(tmp_path):
    np.savez(tmp_path / "d.npz", features=np.zeros((8, 4)), labels=np.zeros(8, int))
    message = load_error(tmp_path, "  source: {type: npz, path: d.npz, x: feature, y: labels}\n")
    assert f"{tmp_path / 'd.npz'}: no array named 'feature'" in message
    assert "features, labels" in message and "did you mean 'features'?" in message


@pytest.mark.parametrize("x, says", [
    (np.float32(3), "'x' holds a single value, not an array of samples"),  # was: TypeError: len() of unsized object
    (np.ones((8, 4), complex), "'x' holds complex128 values, which no layer takes"),  # was: trained on the real part
    (np.array(["2020-01-01"] * 8, "datetime64[D]"), "'x' holds datetime64[D] values"),  # was: trained on day numbers
])
def test_arrays_that_are_no_samples_are_refused(tmp_path, x, says):
    np.savez(tmp_path / "d.npz", x=x, y=np.zeros(8 if x.ndim else (), int))
    assert says in load_error(tmp_path, "  source: {type: npz, path: d.npz}\n")
    np.save(tmp_path / "x.npy", x)
    assert says.replace("'x' ", "") in load_error(tmp_path, "  source: {type: npy, x: x.npy}\n")


@pytest.mark.parametrize("bad, where", [(np.nan, "sample"), (np.inf, "sample")])
def test_nan_or_inf_features_are_refused(tmp_path, bad, where):
    x = np.ones((10, 4))
    x[7, 2] = bad
    np.savez(tmp_path / "d.npz", x=x, y=np.zeros(10, int))
    message = load_error(tmp_path, "  source: {type: npz, path: d.npz}\n  test: {type: npz, path: d.npz}\n")
    assert "d.npz: the features contain NaN or infinity, first in sample 7 of the file" in message


def test_empty_data_is_refused(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((0, 4)), y=np.zeros(0, int))
    assert "d.npz: no samples (the data is empty)" in load_error(tmp_path, "  source: {type: npz, path: d.npz}\n")
    write_csv(tmp_path / "h.csv", ["a", "b", "c", "d", "y"], [])
    assert "h.csv: no samples" in load_error(tmp_path, "  source: {type: csv, path: h.csv, label: y}\n")
    (tmp_path / "e.csv").write_text("")
    assert "e.csv: the data file is empty" in load_error(tmp_path, "  source: {type: csv, path: e.csv, label: y}\n")


def test_shape_mismatch_suggests_the_reshape(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((8, 2, 2)), y=np.zeros(8, int))
    message = load_error(tmp_path, "  source: {type: npz, path: d.npz}\n")
    assert "samples have shape (2, 2) but the model's input" in message and "set data.reshape: [4]" in message
    assert load(tmp_path, "  source: {type: npz, path: d.npz}\n  reshape: [4]\n").x_train.shape == (6, 4)


# -- csv --------------------------------------------------------------------------
def test_csv_string_labels_become_sorted_class_ids(tmp_path):
    rows = blob_rows(names=("eel", "cat", "dog"))
    write_csv(tmp_path / "d.csv", ["a", "b", "c", "d", "kind"], rows)
    a = load(tmp_path, "  source: {type: csv, path: d.csv, label: kind}\n")
    assert a.classes == ["cat", "dog", "eel"]
    assert a.artifacts[PREPROCESSING_FILE]["classes"] == ["cat", "dog", "eel"]
    assert a.artifacts[PREPROCESSING_FILE]["columns"] == ["a", "b", "c", "d"]
    # The class of each sample is recoverable from its features (blob k is centred at 3k, k = row % 3).
    names = ["eel", "cat", "dog"]
    for x, y in zip(a.x_train, a.y_train):
        assert a.classes[y] == names[int(round(x.mean() / 3))]


def test_csv_columns_by_name_or_index_and_delimiter(tmp_path):
    rows = [[str(i), str(10 * i), "x" if i % 2 else "y", str(100 * i)] for i in range(20)]
    write_csv(tmp_path / "d.csv", ["id", "ten", "label", "hundred"], rows, delimiter=";")
    a = load(tmp_path, "  source: {type: csv, path: d.csv, label: label, features: [hundred, ten], delimiter: ';'}"
             "\n  test_split: 0\n", layers="  - {type: Dense, units: 2, activation: softmax, input_dim: 2}")
    assert a.x_train.shape == (20, 2)
    assert sorted(a.x_train[:, 0].tolist()) == [100.0 * i for i in range(20)]
    assert (a.x_train[:, 0] == 10 * a.x_train[:, 1]).all()
    write_csv(tmp_path / "n.csv", None, rows)
    b = load(tmp_path, "  source: {type: csv, path: n.csv, header: false, label: 2, features: [1, 3]}\n"
             "  test_split: 0\n", layers="  - {type: Dense, units: 2, activation: softmax, input_dim: 2}")
    assert b.classes == ["x", "y"] and b.x_train.shape == (20, 2)


def test_csv_numeric_labels_stay_numbers(tmp_path):
    write_csv(tmp_path / "d.csv", ["a", "b", "c", "d", "y"], [[*map(str, range(4)), str(i % 3)] for i in range(12)])
    a = load(tmp_path, "  source: {type: csv, path: d.csv, label: y}\n")
    assert a.classes is None and set(a.y_train.tolist()) <= {0, 1, 2}


def test_csv_missing_column_names_file_column_and_columns(tmp_path):
    write_csv(tmp_path / "d.csv", ["sepal", "petal", "width", "height", "species"], blob_rows())
    message = load_error(tmp_path, "  source: {type: csv, path: d.csv, label: specie}\n")
    assert str(tmp_path / "d.csv") in message
    assert "no column named 'specie'" in message
    assert "sepal, petal, width, height, species" in message and "did you mean 'species'?" in message


def test_csv_non_numeric_feature_names_line_and_column(tmp_path):
    rows = blob_rows(n=10)
    rows[4][1] = "n/a"
    write_csv(tmp_path / "d.csv", ["a", "b", "c", "d", "kind"], rows)
    message = load_error(tmp_path, "  source: {type: csv, path: d.csv, label: kind}\n")
    assert f"{tmp_path / 'd.csv'}: line 6, column 'b': 'n/a' is not a number" in message
    rows[4][1] = "nan"
    write_csv(tmp_path / "d.csv", ["a", "b", "c", "d", "kind"], rows)
    assert "line 6, column 'b': nan is not a finite number" in load_error(
        tmp_path, "  source: {type: csv, path: d.csv, label: kind}\n")
    rows[4] = rows[4][:3]
    write_csv(tmp_path / "d.csv", ["a", "b", "c", "d", "kind"], rows)
    assert "line 6 has 3 fields, but the header has 5" in load_error(
        tmp_path, "  source: {type: csv, path: d.csv, label: kind}\n")


@pytest.mark.parametrize("delimiter", ['"\\n"', '"\\r"', "'\"'"])
def test_csv_delimiter_that_ends_rows_or_quotes_is_refused_by_the_checker(delimiter):
    """A newline as the delimiter read each row as one field, then reported the header as a missing column."""
    result = check_text(spec(f"  source: {{type: csv, path: d.csv, label: kind, delimiter: {delimiter}}}\n"))
    assert [(d.code, d.path) for d in result.errors] == [("E102", "data.source.delimiter")]
    assert "it ends a row or quotes a field" in result.errors[0].message


def test_data_classes_are_distinct_and_each_has_samples(tmp_path):
    """A duplicate trained a model with two outputs for one class; an absent class, one that never saw an example."""
    np.savez(tmp_path / "d.npz", x=np.ones((12, 4)), y=np.arange(12) % 3)
    duplicate = check_text(spec("  source: {type: npz, path: d.npz}\n  classes: [0, 1, \"0\"]\n"))
    assert [(d.code, d.path, d.message) for d in duplicate.errors] == [
        ("E102", "data.classes", "classes lists '0' twice")]
    message = load_error(tmp_path, "  source: {type: npz, path: d.npz}\n  classes: [0, a, 2]\n")
    assert message.endswith("d.npz: data.classes lists 'a', but no sample has that label (the labels are: 0, 1, 2)")
    assert load(tmp_path, "  source: {type: npz, path: d.npz}\n  classes: [2, 0]\n").classes == ["2", "0"]


def test_an_array_of_python_objects_is_named_as_such_not_as_a_damaged_file(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.array([{"a": 1}] * 4, dtype=object), y=np.zeros(4, int))
    assert "cannot read the .npz file: it holds Python objects (an array of dtype object)" in load_error(
        tmp_path, "  source: {type: npz, path: d.npz}\n")


def test_csv_with_an_unclosed_quote_or_a_name_twice_is_refused(tmp_path):
    """An unclosed quote swallowed the lines after it into one field: samples lost without a word."""
    (tmp_path / "q.csv").write_text('a,b,y\n1,2,0\n3,"4,1\n5,6,0\n7,8,1\n')
    assert load_error(tmp_path, "  source: {type: csv, path: q.csv, label: y}\n",
                      layers="  - {type: Dense, units: 2, activation: softmax, input_dim: 2}").endswith(
        "q.csv: not a valid CSV file (a quote is opened and never closed; line 5)")
    (tmp_path / "t.csv").write_text("a,a,y\n1,2,0\n3,4,1\n")
    assert "t.csv: the header names the column 'a' twice" in load_error(
        tmp_path, "  source: {type: csv, path: t.csv, label: y}\n",
        layers="  - {type: Dense, units: 2, activation: softmax, input_dim: 2}")


def test_csv_test_source_labels_must_be_training_classes(tmp_path):
    write_csv(tmp_path / "train.csv", ["a", "b", "c", "d", "kind"], blob_rows())
    write_csv(tmp_path / "test.csv", ["a", "b", "c", "d", "kind"], blob_rows(n=6, names=("cat", "dgo", "eel")))
    message = load_error(tmp_path, "  source: {type: csv, path: train.csv, label: kind}\n"
                                   "  test: {type: csv, path: test.csv, label: kind}\n")
    assert "test.csv: test label 'dgo' is not one of the training classes (cat, dog, eel)" in message
    assert "did you mean 'dog'?" in message


def test_labels_out_of_range_for_the_output_layer(tmp_path):
    write_csv(tmp_path / "d.csv", ["a", "b", "c", "d", "kind"], blob_rows(names=tuple("abcd")))
    message = load_error(tmp_path, "  source: {type: csv, path: d.csv, label: kind}\n")
    assert "labels range from 0 to 3, but the output layer" in message and "3 unit(s)" in message


@pytest.mark.parametrize("y, says", [
    # one-hot rows were "not integer class ids; set data.labels: raw for regression"
    (np.eye(3)[np.arange(12) % 3], "labels are rows of 3 (one-hot, it seems): give one class id per sample, 0 to 2"),
    # negative ids blamed the output layer's size
    (-(np.arange(12) % 3), "labels must be class ids from 0 to 2; found -2"),
    ((np.arange(12) % 3) + 0.5, "labels are not integer class ids (float64); give class ids 0 to 2, or set "
                                "data.labels: raw for regression"),
])
def test_labels_that_are_not_class_ids_say_what_they_are(tmp_path, y, says):
    np.savez(tmp_path / "d.npz", x=np.ones((12, 4), "float32"), y=y)
    assert says in load_error(tmp_path, "  source: {type: npz, path: d.npz}\n")


# -- explicit splits ------------------------------------------------------------------
def test_validation_and_test_sources_fill_their_arrays(tmp_path):
    for name, n in (("train", 30), ("val", 9), ("test", 12)):
        write_csv(tmp_path / f"{name}.csv", ["a", "b", "c", "d", "kind"], blob_rows(n=n))
    a = load(tmp_path, "  source: {type: csv, path: train.csv, label: kind}\n"
                       "  validation: {type: csv, path: val.csv, label: kind}\n"
                       "  test: {type: csv, path: test.csv, label: kind}\n",
             loss="categorical_crossentropy")
    assert a.x_train.shape == (30, 4) and a.x_val.shape == (9, 4) and a.x_test.shape == (12, 4)
    assert a.y_val.shape == (9, 3) and a.y_val.sum(axis=1).tolist() == [1.0] * 9  # one-hot, like training
    assert a.fingerprint != load(tmp_path, "  source: {type: csv, path: train.csv, label: kind}\n"
                                           "  test: {type: csv, path: test.csv, label: kind}\n",
                                 loss="categorical_crossentropy").fingerprint


# -- normalization ------------------------------------------------------------------
def test_normalize_uses_training_statistics_only(tmp_path):
    rng = np.random.default_rng(1)
    train = rng.normal([1000, -5, 0.01, 7], [100, 2, 0.001, 0], (50, 4))
    test = rng.normal(3000, 1, (20, 4))  # far from training: must NOT come out standardized
    np.savez(tmp_path / "train.npz", x=train, y=np.arange(50) % 3)
    np.savez(tmp_path / "test.npz", x=test, y=np.arange(20) % 3)
    a = load(tmp_path, "  source: {type: npz, path: train.npz}\n  test: {type: npz, path: test.npz}\n"
                       "  normalize: true\n  rescale: 2.0\n")
    stats = a.artifacts[PREPROCESSING_FILE]
    np.testing.assert_allclose(stats["mean"], (2 * train).mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(stats["std"][:3], (2 * train).std(axis=0)[:3], rtol=1e-5)
    assert stats["std"][3] == 1.0  # a constant feature: divided by 1, not 0
    np.testing.assert_allclose(a.x_train[:, :3].mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(a.x_train[:, :3].std(axis=0), 1, atol=1e-4)
    expected = (2 * test - np.asarray(stats["mean"])) / np.asarray(stats["std"])
    np.testing.assert_allclose(a.x_test, expected, rtol=1e-4)


# -- windows --------------------------------------------------------------------------
def test_windows_over_a_1d_series_split_by_time_without_sharing_steps(tmp_path):
    series = np.arange(100, dtype="float64")
    np.save(tmp_path / "s.npy", series)
    a = load(tmp_path, "  source: {type: npy, x: s.npy}\n  window: {size: 5, horizon: 2, stride: 1}\n"
                       "  test_split: 0.2\n", layers="  - {type: Dense, units: 1, input_dim: 5}", loss="mse")
    # x: 5 consecutive steps; y: the value 2 steps after the window's last step.
    for x, y in zip(np.concatenate([a.x_train, a.x_test]), np.concatenate([a.y_train, a.y_test])):
        assert (np.diff(x) == 1).all() and y == x[-1] + 2
    n = 100 - 5 - 2 + 1
    assert len(a.x_test) == round(n * 0.2)
    assert a.x_train[:, 0].tolist() == sorted(a.x_train[:, 0].tolist()), "not shuffled"
    assert a.x_test[0, 0] > a.x_train[-1, 0], "the test windows come last"
    train_steps = set(a.x_train.ravel()) | set(a.y_train.ravel())
    test_steps = set(a.x_test.ravel()) | set(a.y_test.ravel())
    assert not train_steps & test_steps, "no step of the series is in both splits"
    assert max(train_steps) == min(test_steps) - 1, "only the overlapping windows are dropped"


def test_windows_over_a_2d_series_with_separate_targets_and_normalize(tmp_path):
    t = np.arange(60, dtype="float64")
    rows = [[f"{v:g}", f"{10 * v:g}", f"{-v:g}"] for v in t]
    write_csv(tmp_path / "s.csv", ["a", "b", "target"], rows)
    a = load(tmp_path, "  source: {type: csv, path: s.csv, label: target}\n  window: {size: 4, stride: 2}\n"
                       "  test_split: 0.25\n  normalize: true\n",
             layers="  - {type: LSTM, units: 2, input_shape: [4, 2]}\n  - {type: Dense, units: 1}", loss="mse")
    assert a.x_train.shape[1:] == (4, 2) and a.y_train.ndim == 1
    stats = a.artifacts[PREPROCESSING_FILE]
    assert stats["series_ndim"] == 2 and len(stats["mean"]) == 2
    # statistics of the steps in the training windows (starts 0, 2, 4, ...), not of the whole series
    starts = 2 * np.arange(len(a.x_train))
    covered = (starts[:, None] + np.arange(4)).ravel()
    np.testing.assert_allclose(stats["mean"], [covered.mean(), 10 * covered.mean()], rtol=1e-5)
    np.testing.assert_allclose(stats["std"], [covered.std(), 10 * covered.std()], rtol=1e-5)
    # The target is the label column one step after each window: -(last a + 1).
    a_last = a.x_train[:, -1, 0] * stats["std"][0] + stats["mean"][0]
    np.testing.assert_allclose(a.y_train, -(a_last + 1), atol=1e-3)


def test_window_longer_than_the_series_is_an_error(tmp_path):
    np.save(tmp_path / "s.npy", np.arange(5.0))
    message = load_error(tmp_path, "  source: {type: npy, x: s.npy}\n  window: {size: 5}\n",
                         layers="  - {type: Dense, units: 1, input_dim: 5}", loss="mse")
    assert "s.npy: the series has 5 steps; one window needs 5 + 1" in message


# -- images and text --------------------------------------------------------------------
def test_images_folder_resized_with_class_names(tmp_path):
    write_images(tmp_path / "img")
    (tmp_path / "img" / "square" / "notes.txt").write_text("not an image: ignored")
    a = load(tmp_path, "  source: {type: images, path: img, image_size: [6, 5], color_mode: grayscale}\n"
                       "  rescale: 0.00392156862745098\n  test_split: 0.25\n",
             layers="  - {type: Flatten, input_shape: [6, 5, 1]}\n  - {type: Dense, units: 2, activation: softmax}")
    assert a.classes == ["circle", "square"]
    assert a.x_train.shape == (9, 6, 5, 1) and a.x_test.shape == (3, 6, 5, 1)
    assert 0 <= a.x_train.min() and a.x_train.max() <= 1
    # squares are filled to the corners; circles are not
    corners = np.concatenate([a.x_train, a.x_test])[:, 0, 0, 0]
    labels = np.concatenate([a.y_train, a.y_test])
    assert (corners[labels == 1] > 0.2).all() and (corners[labels == 0] < 0.2).all()
    rgb = load(tmp_path, "  source: {type: images, path: img, image_size: [6, 5]}\n",
               layers="  - {type: Flatten, input_shape: [6, 5, 3]}\n  - {type: Dense, units: 2, activation: softmax}")
    assert rgb.x_train.shape[1:] == (6, 5, 3)


def test_unreadable_image_and_missing_folder(tmp_path):
    write_images(tmp_path / "img", per_class=2)
    (tmp_path / "img" / "circle" / "broken.png").write_bytes(b"\x89PNG but not really")
    data = "  source: {type: images, path: img, image_size: [4, 4]}\n"
    layers = "  - {type: Flatten, input_shape: [4, 4, 3]}\n  - {type: Dense, units: 2, activation: softmax}"
    assert f"{tmp_path / 'img' / 'circle' / 'broken.png'}: not a readable image" in load_error(
        tmp_path, data, layers=layers)
    assert "images folder not found" in load_error(tmp_path, data.replace("img", "nope"), layers=layers)
    (tmp_path / "img" / "circle" / "broken.png").unlink()
    (tmp_path / "img" / "triangle").mkdir()  # a class without one example: trained as a class all the same
    assert load_error(tmp_path, data, layers=layers).endswith(
        "img: the class folder 'triangle' holds no images (.png, .jpg, .jpeg, .bmp, .gif files); add some or "
        "remove the folder")


def test_a_vocabulary_larger_than_the_embedding_is_refused_once_learnt(tmp_path):
    """max_tokens is a ceiling: the vocabulary learnt decides. Larger than the Embedding's rows, Keras failed
    mid-training with a graph-execution error, after the run directory existed."""
    write_texts(tmp_path / "train", REVIEWS)
    layers = ("  - {{type: Embedding, input_dim: {}, output_dim: 4, input_shape: [6]}}\n"
              "  - GlobalAveragePooling1D\n  - {{type: Dense, units: 2, activation: softmax}}")
    source = "  source: {type: text, path: train, max_tokens: 1000, output_sequence_length: 6}\n"
    size = len(load(tmp_path, source, layers=layers.format(1000)).artifacts[PREPROCESSING_FILE]["vocabulary"])
    assert 10 < size < 1000
    assert load(tmp_path, source, layers=layers.format(size)).x_train.max() == size - 1
    message = load_error(tmp_path, source, layers=layers.format(size - 1))
    assert message == (f"{tmp_path / 'train'}: the vocabulary learnt from the training texts has {size} tokens (ids 0 "
                       f"to {size - 1}), but the Embedding 'embedding' has input_dim {size - 1}: give it input_dim: "
                       f"{size} (or data.source.max_tokens), or set max_tokens: {size - 1}")


def test_text_vocabulary_is_adapted_on_the_training_split_only(tmp_path):
    write_texts(tmp_path / "train", REVIEWS)
    write_texts(tmp_path / "test", {"neg": ["zyzzyva awful"], "pos": ["quixotic great"]})
    a = load(tmp_path, "  source: {type: text, path: train, max_tokens: 50, output_sequence_length: 6}\n"
                       "  test: {type: text, path: test, output_sequence_length: 6}\n",
             layers="  - {type: Embedding, input_dim: 50, output_dim: 4, input_shape: [6]}\n"
                    "  - GlobalAveragePooling1D\n  - {type: Dense, units: 2, activation: softmax}")
    vocabulary = a.artifacts[PREPROCESSING_FILE]["vocabulary"]
    assert vocabulary[:2] == ["", "[UNK]"] and "awful" in vocabulary and "wonderful" in vocabulary
    assert "zyzzyva" not in vocabulary and "quixotic" not in vocabulary
    assert a.classes == ["neg", "pos"] and a.x_train.shape == (12, 6) and a.x_train.dtype == np.int32
    # test texts: the unknown word is id 1, the known one its vocabulary id, then padding
    assert a.x_test.tolist() == [[1, vocabulary.index("awful"), 0, 0, 0, 0],
                                 [1, vocabulary.index("great"), 0, 0, 0, 0]]
    assert a.y_test.tolist() == [0, 1]


# -- static checks of the section --------------------------------------------------------
@pytest.mark.parametrize("data, message", [
    ("  source: {type: keras, name: imdb}\n", "set output_sequence_length"),
    ("  source: {type: keras, name: mnist, num_words: 10}\n", "num_words applies to imdb and reuters"),
    ("  source: {type: csv, path: d.csv, header: false, label: y}\n", "0-based column indexes"),
    ("  source: {type: images, path: d, image_size: [4]}\n", "image_size must have at least 2 entries"),
    ("  source: {type: text, path: d, output_sequence_length: 4}\n  normalize: true\n",
     "do not apply to token ids"),
    ("  source: {type: npy, x: s.npy}\n  window: {size: 0}\n", "size must be greater than 0"),
    ("  source: {type: npz, path: d.npz}\n  noise: 0.1\n", "noise applies to autoencoders"),
    ("  source: {type: npz, path: d.npz, size: 3}\n", "size"),
])
def test_schema_refuses_inconsistent_data_sections(data, message):
    result = check_text(spec(data))
    assert not result.ok
    assert any(message in d.message for d in result.errors), [d.message for d in result.errors]


# -- keras.datasets, offline -----------------------------------------------------------------
KERAS_SPEC = """\
specc: 1
seed: 0
layers:
  - {type: Flatten, input_shape: [28, 28]}
  - {type: Dense, units: 10, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
train: {epochs: 1, batch_size: 8}
data:
  source: {type: keras, name: NAME}
  rescale: 0.00392156862745098
"""


def test_keras_dataset_not_cached_offline_is_a_clear_error(tmp_path):
    (tmp_path / "spec.yaml").write_text(KERAS_SPEC.replace("NAME", "mnist"))
    home = tmp_path / "keras_home"
    home.mkdir()
    out = run_cli("train", tmp_path / "spec.yaml", "--run-dir", tmp_path / "run", env={"KERAS_HOME": str(home)})
    assert out.returncode == 1
    assert "keras dataset 'mnist' could not be downloaded" in out.stderr
    assert str(home / "datasets") in out.stderr and "is not cached there" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "run").exists()


def write_fashion_mnist_cache(home, n_train=48, n_test=16):
    """The four gzipped IDX files keras.datasets.fashion_mnist reads from its cache (it checks no hash)."""
    folder = home / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype("uint8")
        images = rng.integers(0, 40, (n, 28, 28)).astype("uint8")
        images[np.arange(n), labels * 2, :] = 255  # a bright row marks the class
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">II", 2049, n) + labels.tobytes())
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())


@pytest.mark.slow
def test_keras_dataset_from_the_local_cache_trains_offline(tmp_path):
    home = tmp_path / "keras_home"
    write_fashion_mnist_cache(home)
    (tmp_path / "spec.yaml").write_text(KERAS_SPEC.replace("NAME", "fashion_mnist"))
    out = run_cli("train", tmp_path / "spec.yaml", "--run-dir", tmp_path / "run", "--epochs", "1", "-q",
                  env={"KERAS_HOME": str(home)})
    assert out.returncode == 0, out.stderr
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    # Keras's own split of the cached files: 48 training (some held out for validation), 16 test samples
    assert info["data"]["test_samples"] == 16
    assert info["data"]["train_samples"] + info["data"].get("validation_samples", 0) == 48
    classes = json.loads((tmp_path / "run" / PREPROCESSING_FILE).read_text())["classes"]
    assert classes[0] == "T-shirt/top" and len(classes) == 10


# -- the other kinds, trained through the CLI ---------------------------------------------------
@pytest.mark.slow
def test_npy_windowed_series_trains_and_predicts(tmp_path):
    t = np.arange(300, dtype="float32")
    np.save(tmp_path / "series.npy", np.sin(t / 8) * 50 + 200)
    (tmp_path / "spec.yaml").write_text(
        "specc: 1\nseed: 0\nlayers:\n  - {type: LSTM, units: 4, input_shape: [12, 1]}\n  - {type: Dense, units: 1}\n"
        "compile: {optimizer: adam, loss: mse}\ntrain: {epochs: 1, batch_size: 32}\n"
        "data:\n  source: {type: npy, x: series.npy}\n  window: {size: 12}\n  reshape: [12, 1]\n"
        "  normalize: true\n")
    run = tmp_path / "run"
    out = run_cli("train", tmp_path / "spec.yaml", "--run-dir", run, "--epochs", "1", "-q")
    assert out.returncode == 0, out.stderr
    stats = json.loads((run / PREPROCESSING_FILE).read_text())
    assert stats["series_ndim"] == 1 and isinstance(stats["mean"], float) and stats["mean"] > 100
    # predict on a new stretch of the series: one forecast per full window
    np.save(tmp_path / "new.npy", (np.sin(np.arange(30) / 8) * 50 + 200).astype("float32"))
    out = run_cli("predict", run, tmp_path / "new.npy", "-o", tmp_path / "forecast.npy")
    assert out.returncode == 0, out.stderr
    assert np.load(tmp_path / "forecast.npy").shape == (30 - 12 + 1, 1)


# -- new data is prepared exactly as the training data ------------------------------------------------
def _npz_case(d):
    rng = np.random.default_rng(2)
    np.savez(d / "train.npz", features=rng.normal(50, 9, (40, 2, 2)), target=np.arange(40) % 3)
    np.savez(d / "test.npz", features=rng.normal(50, 9, (10, 2, 2)), target=np.arange(10) % 3)
    return ("  source: {type: npz, path: train.npz, x: features, y: target}\n"
            "  test: {type: npz, path: test.npz, x: features, y: target}\n"
            "  rescale: 0.5\n  normalize: true\n  reshape: [4]\n"), "test.npz", {}


def _csv_case(d):
    write_csv(d / "train.csv", ["a", "b", "c", "d", "kind"], blob_rows(n=30))
    write_csv(d / "test.csv", ["a", "b", "c", "d", "kind"], blob_rows(n=9, seed=4))
    return ("  source: {type: csv, path: train.csv, label: kind, features: [d, c, b, a]}\n"
            "  test: {type: csv, path: test.csv, label: kind, features: [d, c, b, a]}\n  normalize: true\n"), \
        "test.csv", {}


def _images_case(d):
    write_images(d / "train", per_class=4)
    write_images(d / "test", per_class=2, sizes=((16, 16),))
    return ("  source: {type: images, path: train, image_size: [5, 6]}\n"
            "  test: {type: images, path: test, image_size: [5, 6]}\n  normalize: true\n"), "test", \
        {"layers": "  - {type: Flatten, input_shape: [5, 6, 3]}\n  - {type: Dense, units: 2, activation: softmax}"}


def _text_case(d):
    write_texts(d / "train", REVIEWS)
    write_texts(d / "test", {"neg": ["bad, boring!"], "pos": ["Great fun", "unknown words great"]})
    return ("  source: {type: text, path: train, max_tokens: 30, output_sequence_length: 4}\n"
            "  test: {type: text, path: test, output_sequence_length: 4}\n"), "test", \
        {"layers": "  - {type: Embedding, input_dim: 30, output_dim: 2, input_shape: [4]}\n  - Flatten\n"
                   "  - {type: Dense, units: 2, activation: softmax}"}


@pytest.mark.parametrize("case", [_npz_case, _csv_case, _images_case, _text_case], ids=["npz", "csv", "images", "text"])
def test_new_data_is_prepared_like_the_training_data(tmp_path, case):
    """evaluate --data and predict read a file through the saved preprocessing (not the training data):
    given the test source's own file, they get exactly the test arrays load_arrays made."""
    from specc.runners.data import Preprocessing, prepare_new, read_new_data

    data, test_file, kw = case(tmp_path)
    result = checked(spec(data, **kw))
    a = load_arrays(result, tmp_path, 0)
    prep = Preprocessing.from_json(json.loads(json.dumps(a.artifacts[PREPROCESSING_FILE])))  # as saved
    x, y = prepare_new(read_new_data(tmp_path / test_file, result, prep, labels=True), result, prep, labels=True)
    np.testing.assert_array_equal(x, a.x_test)
    np.testing.assert_array_equal(y, a.y_test)
    x_only, none = prepare_new(read_new_data(tmp_path / test_file, result, prep, labels=False), result, prep,
                               labels=False)
    assert none is None
    assert sorted(map(bytes, x_only)) == sorted(map(bytes, a.x_test))


# -- labels used as they are, against the output they train (before the run directory exists) ---------------
def test_window_targets_must_fit_the_output(tmp_path):
    np.save(tmp_path / "s.npy", np.arange(150.0).reshape(50, 3))  # 3 features: each target is a row of 3
    data = "  source: {type: npy, x: s.npy}\n  window: {size: 4}\n"
    message = load_error(tmp_path, data, layers="  - {type: LSTM, units: 2, input_shape: [4, 3]}\n"
                                                "  - {type: Dense, units: 1}", loss="mse")
    assert "the training labels have shape (3,) per sample, but the output 'dense' gives (1,)" in message
    a = load(tmp_path, data, layers="  - {type: LSTM, units: 2, input_shape: [4, 3]}\n  - {type: Dense, units: 3}",
             loss="mse")
    assert a.y_train.shape[1:] == (3,)


def test_raw_class_ids_with_categorical_crossentropy_are_refused_when_read(tmp_path):
    x = np.random.default_rng(0).normal(size=(30, 4)).astype("float32")
    np.savez(tmp_path / "ids.npz", x=x, y=np.arange(30) % 3)
    np.savez(tmp_path / "onehot.npz", x=x, y=np.eye(3)[np.arange(30) % 3])
    message = load_error(tmp_path, "  source: {type: npz, path: ids.npz}\n  labels: raw\n",
                         loss="categorical_crossentropy")
    assert "labels have shape () per sample, but the output 'dense' gives (3,)" in message
    assert "categorical_crossentropy needs one-hot labels" in message
    a = load(tmp_path, "  source: {type: npz, path: onehot.npz}\n  labels: raw\n", loss="categorical_crossentropy")
    assert a.y_train.shape[1:] == (3,)
    assert load(tmp_path, "  source: {type: npz, path: ids.npz}\n", loss="categorical_crossentropy").y_train.shape[1:] \
        == (3,)  # auto: one-hot encoded for this loss


@pytest.mark.parametrize("array", [
    np.arange(24, dtype="float32").reshape(2, 3, 4),
    np.arange(12, dtype="int64").reshape(3, 4)[:, ::2],  # not contiguous
    np.array([True, False, True]),
    np.array(["cat", "dog"]),
    np.array(3.5),  # 0-d
    np.array([{"a": 1}, None], dtype=object),
], ids=["float32", "strided", "bool", "str", "0-d", "object"])
def test_the_fingerprint_hashes_the_bytes_of_each_array(array):
    """Runs recorded before (run.json's data fingerprint, which --resume compares) keep their fingerprints: the
    hash is of dtype, shape and the array's bytes in C order, however they are read."""
    import hashlib

    from specc.runners.data.prepare import fingerprint

    c = np.ascontiguousarray(array)
    expected = hashlib.sha256(str(c.dtype).encode() + str(c.shape).encode() + c.tobytes()).hexdigest()[:16]
    assert fingerprint(array) == expected


# -- read while Keras is imported ---------------------------------------------------


def pending(monkeypatch, tmp_path, data, **kw):
    """PendingArrays as `specc train` makes it in a fresh process, before Keras is imported."""
    import sys

    from specc.runners.data import PendingArrays

    monkeypatch.delitem(sys.modules, "keras", raising=False)
    return PendingArrays(checked(spec(data, **kw)), tmp_path, 0)


def test_arrays_read_on_a_thread_while_keras_loads_equal_the_arrays_read_after(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(50, 4)), y=np.arange(50) % 3)
    data = "  source: {type: npz, path: d.npz}\n  normalize: true\n"
    ahead = pending(monkeypatch, tmp_path, data)
    assert ahead.thread is not None
    a, b = ahead.result(), load(tmp_path, data)
    assert a.fingerprint == b.fingerprint and a.description == b.description
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_an_error_on_the_reading_thread_is_raised_by_result(tmp_path, monkeypatch):
    x = np.ones((10, 4))
    x[7, 2] = np.nan
    np.savez(tmp_path / "d.npz", x=x, y=np.zeros(10, int))
    ahead = pending(monkeypatch, tmp_path, "  source: {type: npz, path: d.npz}\n")
    assert ahead.thread is not None
    with pytest.raises(RunError, match="d.npz: the features contain NaN or infinity, first in sample 7"):
        ahead.result()


def test_the_reading_thread_reads_as_the_resumed_run_did(tmp_path, monkeypatch):
    """A resumed run reads its data the way it was trained (a context variable): so does the thread."""
    from specc.runners.data import Lazy, run_stream_mode

    monkeypatch.delenv("SPECC_STREAM", raising=False)
    np.save(tmp_path / "X.npy", np.ones((40, 4)))
    np.save(tmp_path / "Y.npy", np.arange(40) % 3)
    with run_stream_mode({"stream": "always"}):
        ahead = pending(monkeypatch, tmp_path, "  source: {type: npy, x: X.npy, y: Y.npy}\n")
    assert ahead.thread is not None and isinstance(ahead.result().x_train, Lazy)


def test_sources_that_need_keras_are_read_when_asked_for(tmp_path, monkeypatch):
    write_texts(tmp_path / "train", REVIEWS)
    ahead = pending(monkeypatch, tmp_path, "  source: {type: text, path: train, output_sequence_length: 6}\n",
                    layers="  - {type: Embedding, input_dim: 50, output_dim: 4, input_shape: [6]}\n"
                           "  - GlobalAveragePooling1D\n  - {type: Dense, units: 2, activation: softmax}")
    assert ahead.thread is None and ahead.result().x_train.shape[1:] == (6,)
