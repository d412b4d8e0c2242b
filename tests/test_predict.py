"""`specc predict` and `specc evaluate --data`: new data prepared exactly as the training data was.

Each module fixture trains one real run through the CLI (CSV, images, texts); the tests then predict and
evaluate with the CLI, or call the runners in-process where only the result matters.
"""

import csv
import json
import os
import shutil

import numpy as np
import pytest
from conftest import REVIEWS, run_cli, write_images, write_texts

from specc.runners import RunError
from specc.runners.data import PREPROCESSING_FILE

pytestmark = pytest.mark.slow

CLASSES = ["cat", "dog", "eel"]
COLUMNS = ["height", "weight", "age"]


def table(n, seed):
    """Three classes in features of very different scales: 1000s, 0.001s and 10s."""
    rng = np.random.default_rng(seed)
    k = np.arange(n) % 3
    x = np.stack([1000 + 300 * k + rng.normal(0, 50, n), 0.001 * k + rng.normal(0, 2e-4, n),
                  40 + rng.normal(0, 10, n)], axis=1)
    return x, k


def write_table(path, x, k, columns=COLUMNS, label=True):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*columns, "species"] if label else columns)
        for row, c in zip(x, k):
            w.writerow([*(f"{v:.6g}" for v in row), *([CLASSES[c]] if label else [])])


CSV_SPEC = """\
specc: 1
seed: 5
layers:
  - {type: Dense, units: 16, activation: relu, input_dim: 3}
  - {type: Dense, units: 3, activation: softmax}
compile: {optimizer: {type: Adam, learning_rate: 0.02}, loss: categorical_crossentropy, metrics: [accuracy]}
train: {epochs: 8, batch_size: 16, validation_split: 0.1}
data:
  source: {type: csv, path: train.csv, label: species}
  test: {type: csv, path: test.csv, label: species}
  normalize: true
"""


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("csv")
    x, k = table(150, 0)
    write_table(d / "train.csv", x, k)
    write_table(d / "test.csv", *table(30, 1))
    (d / "spec.yaml").write_text(CSV_SPEC)
    out = run_cli("train", d / "spec.yaml", "--run-dir", d / "run", "-q")
    assert out.returncode == 0, out.stderr
    return d, x


def test_the_run_keeps_class_names_columns_and_training_statistics(csv_run):
    d, x = csv_run
    prep = json.loads((d / "run" / PREPROCESSING_FILE).read_text())
    assert prep["classes"] == CLASSES and prep["columns"] == COLUMNS and prep["label_column"] == "species"
    x = np.array([[float(f"{v:.6g}") for v in row] for row in x])  # as written to the file
    x = x[: len(x) - int(len(x) * 0.1)]  # statistics leave out the validation part (validation_split: 0.1)
    np.testing.assert_allclose(prep["mean"], x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(prep["std"], x.std(axis=0), rtol=1e-5)
    metrics = json.loads((d / "run" / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.9, "standardized features are easy to separate"


def test_predict_csv_writes_class_names_and_probabilities(csv_run, tmp_path):
    d, _ = csv_run
    out = run_cli("predict", d / "run", d / "test.csv", "-o", tmp_path / "pred.csv")
    assert out.returncode == 0, out.stderr
    assert "wrote" in out.stdout and "(30 predictions)" in out.stdout
    rows = list(csv.reader(open(tmp_path / "pred.csv")))
    assert rows[0] == ["class", "prob_cat", "prob_dog", "prob_eel"]
    assert len(rows) == 31
    truth = [r[3] for r in list(csv.reader(open(d / "test.csv")))[1:]]
    for row in rows[1:]:
        p = [float(v) for v in row[1:]]
        assert sum(p) == pytest.approx(1, abs=1e-4)
        assert row[0] == CLASSES[int(np.argmax(p))]
    assert sum(r[0] == t for r, t in zip(rows[1:], truth)) >= 27


def test_predict_reuses_the_saved_normalization(csv_run, tmp_path):
    """Raw outputs equal the model applied to inputs standardized with the training file's own statistics,
    computed here with numpy; and predict needs no training data to do it."""
    import keras

    from specc.runners.predict import predict_run

    d, x_train = csv_run
    x_new, _ = table(12, 7)
    # columns in another order and no label column: matched by name
    write_table(tmp_path / "new.csv", x_new[:, [2, 0, 1]], np.zeros(12, int), columns=["age", "height", "weight"],
                label=False)
    out = run_cli("predict", d / "run", tmp_path / "new.csv", "-o", tmp_path / "raw.npy")
    assert out.returncode == 0, out.stderr
    raw = np.load(tmp_path / "raw.npy")
    assert raw.shape == (12, 3)

    x_train = np.array([[float(f"{v:.6g}") for v in row] for row in x_train])
    x_train = x_train[: len(x_train) - int(len(x_train) * 0.1)]  # without the validation part
    x_new = np.array([[float(f"{v:.6g}") for v in row] for row in x_new])
    standardized = ((x_new - x_train.mean(axis=0)) / x_train.std(axis=0)).astype("float32")
    model = keras.saving.load_model(d / "run" / "model.keras")
    np.testing.assert_allclose(raw, model.predict(standardized, verbose=0), atol=1e-5)

    moved = tmp_path / "elsewhere.csv"
    shutil.move(d / "train.csv", moved)
    try:
        assert predict_run(d / "run", tmp_path / "new.csv", tmp_path / "again.npy") == 12
    finally:
        shutil.move(moved, d / "train.csv")
    np.testing.assert_array_equal(np.load(tmp_path / "again.npy"), raw)


def test_evaluate_data_reproduces_the_test_metrics(csv_run):
    d, _ = csv_run
    out = run_cli("evaluate", d / "run", "--data", d / "test.csv", "--json")
    assert out.returncode == 0, out.stderr
    metrics = json.loads((d / "run" / "metrics.json").read_text())
    assert json.loads(out.stdout) == pytest.approx(metrics["test"], abs=1e-5)


def test_library_calls_leave_the_stream_mode_as_they_found_it(csv_run, tmp_path, monkeypatch):
    """evaluate/predict read the data the way the run was trained, within the call only: an environment change
    would follow the process into every later run and child process (it once broke unrelated tests)."""
    from specc.runners.data import stream_mode
    from specc.runners.evaluate import evaluate_run
    from specc.runners.predict import predict_run

    d, _ = csv_run
    monkeypatch.delenv("SPECC_STREAM", raising=False)
    assert json.loads((d / "run" / "run.json").read_text())["stream"] == "auto"
    run = json.loads((d / "run" / "run.json").read_text())
    (d / "run" / "run.json").write_text(json.dumps({**run, "stream": "never"}))
    try:
        evaluate_run(d / "run")
        predict_run(d / "run", d / "test.csv", tmp_path / "p.csv")
    finally:
        (d / "run" / "run.json").write_text(json.dumps(run))
    assert "SPECC_STREAM" not in os.environ and stream_mode() == "auto"


def test_evaluate_data_on_other_data_and_its_errors(csv_run, tmp_path):
    from specc.runners.evaluate import evaluate_run

    d, _ = csv_run
    write_table(tmp_path / "other.csv", *table(9, 3))
    assert set(evaluate_run(d / "run", tmp_path / "other.csv")) == {"loss", "accuracy"}
    with open(tmp_path / "other.csv", "a") as f:
        f.write("1000,0.001,40,cow\n")
    with pytest.raises(RunError, match=r"other.csv: label 'cow' is not one of the training classes"):
        evaluate_run(d / "run", tmp_path / "other.csv")
    np.save(tmp_path / "x.npy", np.zeros((3, 3)))
    with pytest.raises(RunError, match=r"a .npy file holds one array, but evaluating needs labels"):
        evaluate_run(d / "run", tmp_path / "x.npy")


def test_predict_errors_are_clear(csv_run, tmp_path, monkeypatch):
    from specc.runners.predict import predict_run

    d, _ = csv_run
    run = d / "run"
    with pytest.raises(RunError, match=r"must be a .npy \(raw outputs\) or a .csv"):
        predict_run(run, d / "test.csv", tmp_path / "out.txt")
    with pytest.raises(RunError, match=r"data file not found: .*nope.csv"):
        predict_run(run, tmp_path / "nope.csv", tmp_path / "out.csv")
    project = tmp_path / "project"  # a file inside the working folder's project: its header may be quoted
    project.mkdir()
    (project / "pyproject.toml").write_text("")
    write_table(project / "cols.csv", np.zeros((2, 3)), [0, 1], columns=["height", "wieght", "age"])
    monkeypatch.chdir(project)
    with pytest.raises(RunError, match=r"cols.csv: no column named 'weight' .*did you mean 'wieght'"):
        predict_run(run, project / "cols.csv", tmp_path / "out.csv")
    elsewhere = tmp_path / "elsewhere"  # from another project, the file's header is not shown
    elsewhere.mkdir()
    (elsewhere / "pyproject.toml").write_text("")
    monkeypatch.chdir(elsewhere)
    with pytest.raises(RunError, match=r"cols.csv: no column named 'weight' among its 4 columns \(a file outside"):
        predict_run(run, project / "cols.csv", tmp_path / "out.csv")
    np.save(tmp_path / "wide.npy", np.zeros((2, 5)))
    with pytest.raises(RunError, match=r"wide.npy: samples have shape \(5,\) but the model's input"):
        predict_run(run, tmp_path / "wide.npy", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
    out = run_cli("predict", tmp_path, d / "test.csv", "-o", tmp_path / "out.csv")
    assert out.returncode == 1 and "not a complete run directory" in out.stderr
    assert "Traceback" not in out.stderr
    inputs = tmp_path / "inputs.csv"  # predictions written over their own inputs: refused, the file kept
    shutil.copy(d / "test.csv", inputs)
    out = run_cli("predict", run, inputs, "-o", tmp_path / "." / "inputs.csv")
    assert out.returncode == 2 and "is the input: write the predictions to another file" in out.stderr
    assert inputs.read_bytes() == (d / "test.csv").read_bytes()


# -- images ----------------------------------------------------------------------------
IMAGES_SPEC = """\
specc: 1
seed: 0
layers:
  - {type: Conv2D, filters: 4, kernel_size: 3, activation: relu, input_shape: [10, 10, 1]}
  - GlobalAveragePooling2D
  - {type: Dense, units: 2, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
train: {epochs: 1, batch_size: 8}
data:
  source: {type: images, path: img, image_size: [10, 10], color_mode: grayscale}
  rescale: 0.00392156862745098
"""


def test_images_train_then_predict_a_folder_and_a_file(tmp_path):
    from specc.runners.predict import predict_run

    write_images(tmp_path / "img", per_class=10)
    (tmp_path / "spec.yaml").write_text(IMAGES_SPEC)
    out = run_cli("train", tmp_path / "spec.yaml", "--run-dir", tmp_path / "run", "--epochs", "1", "-q")
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "run" / PREPROCESSING_FILE).read_text())["classes"] == ["circle", "square"]

    write_images(tmp_path / "new", classes=("circle",), per_class=3, sizes=((30, 20),))
    out = run_cli("predict", tmp_path / "run", tmp_path / "new", "-o", tmp_path / "pred.csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(open(tmp_path / "pred.csv")))
    assert rows[0] == ["file", "class", "prob_circle", "prob_square"]
    assert [r[0] for r in rows[1:]] == ["circle/0.jpg", "circle/1.png", "circle/2.jpg"]
    assert all(r[1] in ("circle", "square") for r in rows[1:])
    assert predict_run(tmp_path / "run", tmp_path / "new" / "circle" / "1.png", tmp_path / "one.npy") == 1
    one = np.load(tmp_path / "one.npy")
    assert one.shape == (1, 2)
    assert one[0, 0] == pytest.approx(float(rows[2][2]), abs=1e-5)


# -- texts ----------------------------------------------------------------------------------
TEXT_SPEC = """\
specc: 1
seed: 0
layers:
  - {type: Embedding, input_dim: 40, output_dim: 8, input_shape: [5]}
  - GlobalAveragePooling1D
  - {type: Dense, units: 2, activation: softmax}
compile: {optimizer: {type: Adam, learning_rate: 0.05}, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
train: {epochs: 1, batch_size: 4}
data:
  source: {type: text, path: reviews, max_tokens: 40, output_sequence_length: 5}
  test_split: 0.25
"""


def test_texts_train_then_predict_and_evaluate_with_the_saved_vocabulary(tmp_path):
    from specc.runners.evaluate import evaluate_run

    write_texts(tmp_path / "reviews", {k: v * 3 for k, v in REVIEWS.items()})
    (tmp_path / "spec.yaml").write_text(TEXT_SPEC)
    out = run_cli("train", tmp_path / "spec.yaml", "--run-dir", tmp_path / "run", "--epochs", "1", "-q")
    assert out.returncode == 0, out.stderr
    vocabulary = json.loads((tmp_path / "run" / PREPROCESSING_FILE).read_text())["vocabulary"]
    assert "awful" in vocabulary and len(vocabulary) <= 40

    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "a.txt").write_text("Awful, boring!")
    (tmp_path / "new" / "b.txt").write_text("a wonderful great film")
    out = run_cli("predict", tmp_path / "run", tmp_path / "new", "-o", tmp_path / "pred.csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(open(tmp_path / "pred.csv")))
    assert rows[0] == ["file", "class", "prob_neg", "prob_pos"] and [r[0] for r in rows[1:]] == ["a.txt", "b.txt"]

    shutil.rmtree(tmp_path / "reviews")  # the vocabulary comes from the run, not from the training texts
    write_texts(tmp_path / "labelled", REVIEWS)
    metrics = evaluate_run(tmp_path / "run", tmp_path / "labelled")
    assert set(metrics) == {"loss", "accuracy"} and 0 <= metrics["accuracy"] <= 1
