"""A missing data file says what it must hold, from the spec itself (specc/runners/data/expected.py); data made
from that description loads."""

import shutil

import numpy as np
import pytest
from conftest import ROOT, probe_cli
from PIL import Image

from specc.check import check_file, check_text
from specc.runners import RunError
from specc.runners.data import load_arrays


def checked(text):
    result = check_text(text)
    assert result.ok, [d.message for d in result.errors]
    return result


def error_lines(result, base) -> list[str]:
    with pytest.raises(RunError) as e:
        load_arrays(result, base, 0)
    return str(e.value).splitlines()


def test_course_cnn_without_its_file_says_what_it_holds_before_importing_keras(tmp_path):
    spec = tmp_path / "course_cnn.yaml"
    shutil.copy(ROOT / "specs" / "course_cnn.yaml", spec)
    code, heavy, out = probe_cli("train", spec, "--run-dir", tmp_path / "run")
    assert code == 1 and heavy == [], out.stderr
    assert out.stderr.splitlines() == [
        f"specc: error: data file not found: {tmp_path / 'sign_mnist.npz'}",
        "  it must be a .npz file (numpy.savez) holding (n: the number of samples):",
        "    `x`: numbers of shape (n, 28, 28, 1)",
        "    `y`: integer class ids in 0..24 of shape (n,), or class names as strings (sorted, they become the ids)",
        "  e.g. numpy.savez('sign_mnist.npz', x=..., y=...)",
    ]
    assert not (tmp_path / "run").exists()

    # Made as described, it loads.
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "sign_mnist.npz", x=rng.random((50, 28, 28, 1)), y=rng.integers(0, 25, 50))
    arrays = load_arrays(check_file(spec), tmp_path, 7)
    assert arrays.x_train.shape[1:] == (28, 28, 1) and arrays.y_train.shape[1:] == (25,)  # one-hot for the loss


MULTI = """\
specc: 1
layers:
  - {type: Input, name: features, shape: [6]}
  - {type: Input, name: steps, shape: [5, 3]}
  - {type: Dense, name: dense_features, units: 8, inputs: features}
  - {type: GRU, name: gru, units: 8, inputs: steps}
  - {type: Concatenate, name: joined, inputs: [dense_features, gru]}
  - {type: Dense, name: kind, units: 3, activation: softmax}
  - {type: Dense, name: size, units: 1, inputs: joined}
outputs: [kind, size]
compile: {optimizer: adam, loss: {kind: sparse_categorical_crossentropy, size: mse}}
data:
  source: {type: npy, x: {features: f.npy, steps: s.npy}, y: {kind: k.npy, size: z.npy}}
"""


def test_npy_files_per_input_and_output(tmp_path):
    result = checked(MULTI)
    assert error_lines(result, tmp_path) == [
        f"data file not found: {tmp_path / 'f.npy'}",
        "  the .npy files (numpy.save) must hold (n: the number of samples):",
        "    f.npy (input 'features'): numbers of shape (n, 6)",
        "    s.npy (input 'steps'): numbers of shape (n, 5, 3)",
        "    k.npy (output 'kind'): integer class ids in 0..2 of shape (n,), or class names as strings (sorted, "
        "they become the ids)",
        "    z.npy (output 'size'): numbers of shape (n, 1) or (n,)",
    ]
    for name, shape in (("f", (20, 6)), ("s", (20, 5, 3)), ("z", (20,))):
        np.save(tmp_path / f"{name}.npy", np.ones(shape, "float32"))
    assert error_lines(result, tmp_path)[0] == f"data file not found: {tmp_path / 'k.npy'}"
    (tmp_path / "k.npy").mkdir()  # was "not found" too
    assert error_lines(result, tmp_path)[0] == f"data file {tmp_path / 'k.npy'} is a folder, not a file"
    (tmp_path / "k.npy").rmdir()
    np.save(tmp_path / "k.npy", np.array(["b", "a", "c", "a"] * 5))
    arrays = load_arrays(result, tmp_path, 0)
    assert arrays.x_train["steps"].shape[1:] == (5, 3)


CASES = {
    "csv": ("  source: {type: csv, path: t.csv, label: price}",
            "  - {type: Dense, units: 1, input_dim: 5}", "mse",
            ["  it must be a CSV table (a header row, then one sample per row) with 5 numeric feature columns",
             "  and the label column price: numbers"]),
    "reshape and classes": (
        "  source: {type: npz, path: d.npz, x: pixels, y: digit}\n  reshape: [8, 8, 1]\n  classes: [5, 6, 7]",
        "  - {type: Conv2D, filters: 2, kernel_size: 3, input_shape: [8, 8, 1]}\n  - Flatten\n"
        "  - {type: Dense, units: 3, activation: softmax}", "sparse_categorical_crossentropy",
        ["  it must be a .npz file (numpy.savez) holding (n: the number of samples):",
         "    `pixels`: numbers, 64 per sample in any shape, e.g. (n, 64) (data.reshape makes them (n, 8, 8, 1))",
         "    `digit`: labels of shape (n,); only the samples labelled 5, 6, 7 are kept, numbered 0.. in that order",
         "  e.g. numpy.savez('d.npz', pixels=..., digit=...)"]),
    "autoencoder": ("  source: {type: npz, path: d.npz}\n  target: input",
                    "  - {type: Dense, units: 2, input_dim: 4}\n  - {type: Dense, units: 4}", "mse",
                    ["  it must be a .npz file (numpy.savez) holding (n: the number of samples):",
                     "    `x`: numbers of shape (n, 4)", "  e.g. numpy.savez('d.npz', x=...)"]),
    "windows": ("  source: {type: npz, path: d.npz, y: null}\n  window: {size: 10}",
                "  - {type: LSTM, units: 4, input_shape: [10, 3]}\n  - {type: Dense, units: 3}", "mse",
                ["  it must be a .npz file (numpy.savez) holding (n: the number of samples):",
                 "    `x`: a series of numbers of shape (steps, 3), cut into windows of 10 steps",
                 "  e.g. numpy.savez('d.npz', x=...)"]),
    "images": ("  source: {type: images, path: pics, image_size: [8, 8], color_mode: grayscale}",
               "  - {type: Conv2D, filters: 2, kernel_size: 3, input_shape: [8, 8, 1]}\n  - Flatten\n"
               "  - {type: Dense, units: 1, activation: sigmoid}", "binary_crossentropy",
               ["  it must be a folder with one sub-folder per class (2: one output unit, binary), each holding "
                "images (png, jpg, jpeg, bmp, gif) of any size, resized to 8x8 and read as grayscale;",
                "  the sub-folders' names, sorted, are the classes"]),
    "text": ("  source: {type: text, path: reviews, output_sequence_length: 6}",
             "  - {type: Embedding, input_dim: 50, output_dim: 4, input_shape: [6]}\n  - Flatten\n"
             "  - {type: Dense, units: 3, activation: softmax}", "sparse_categorical_crossentropy",
             ["  it must be a folder with one sub-folder per class (3, one per output unit), each holding .txt "
              "files (UTF-8);", "  the sub-folders' names, sorted, are the classes"]),
}


@pytest.mark.parametrize("case", CASES)
def test_each_source_kind_says_what_it_needs(tmp_path, case):
    data, layers, loss, expected = CASES[case]
    result = checked(f"specc: 1\nseed: 0\nlayers:\n{layers}\ncompile: {{optimizer: adam, loss: {loss}}}\n"
                     f"data:\n{data}\n")
    lines = error_lines(result, tmp_path)
    assert lines[0].endswith("not found: " + str(tmp_path / result.spec.data.source.path))
    assert lines[1:] == expected


def test_made_as_the_images_case_describes_it_loads(tmp_path):
    data, layers, loss, _ = CASES["images"]
    result = checked(f"specc: 1\nseed: 0\nlayers:\n{layers}\ncompile: {{optimizer: adam, loss: {loss}}}\n"
                     f"data:\n{data}\n  test_split: 0.25\n")
    for k, name in enumerate(("cat", "dog")):
        (tmp_path / "pics" / name).mkdir(parents=True)
        for i in range(4):
            Image.new("RGB", (12 + i, 10), (90 * k, 40, 200)).save(tmp_path / "pics" / name / f"{i}.png")
    arrays = load_arrays(result, tmp_path, 0)
    assert arrays.classes == ["cat", "dog"] and np.asarray(arrays.x_train).shape[1:] == (8, 8, 1)


def test_a_missing_validation_file_is_described_too(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.ones((10, 4)), y=np.zeros(10, "int64"))
    result = checked("specc: 1\nseed: 0\nlayers:\n  - {type: Dense, units: 2, activation: softmax, input_dim: 4}\n"
                     "compile: {optimizer: adam, loss: sparse_categorical_crossentropy}\n"
                     "data:\n  source: {type: npz, path: d.npz}\n  validation: {type: npz, path: v.npz}\n")
    lines = error_lines(result, tmp_path)
    assert lines[0] == f"data file not found: {tmp_path / 'v.npz'}" and "    `x`: numbers of shape (n, 4)" in lines
