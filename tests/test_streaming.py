"""Streaming large data (SPECC_STREAM): memory-mapped .npy sources and image folders are read batch by batch.

The fast tests check that the streamed splits are index sets prepared per batch with exactly the values the
in-memory path computes; the slow ones train through the real CLI: a streamed run resumes bit-exactly, and a
training set larger than the memory the run may use trains and evaluates.
"""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, run_cli, wait_for_epoch, weights, write_images

from specc.check import check_text
from specc.runners import RunError
from specc.runners.data import Lazy, load_arrays


def checked(text):
    result = check_text(text)
    assert result.ok, [d.message for d in result.errors]
    return result


SPEC = """\
specc: 1
seed: 0
layers:
  - {{type: Dense, units: 16, activation: relu, input_dim: {dim}}}
  - {{type: Dropout, rate: 0.2}}
  - {{type: Dense, units: 3, activation: softmax}}
compile: {{optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}}
train: {{epochs: {epochs}, batch_size: {batch}, validation_split: 0.2}}
data:
  source: {{type: npy, x: X.npy, y: Y.npy}}
{extra}"""


def write_npy(folder, n=200, dim=6, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.normal(y[:, None] * 2.0, 1.0, (n, dim))
    np.save(folder / "X.npy", x)
    np.save(folder / "Y.npy", y)
    return x, y


def loaded(tmp_path, monkeypatch, mode, extra="  normalize: true\n  rescale: 0.5\n", dim=6):
    monkeypatch.setenv("SPECC_STREAM", mode)
    return load_arrays(checked(SPEC.format(dim=dim, epochs=2, batch=16, extra=extra)), tmp_path, 0)


def test_streamed_npy_splits_are_index_sets_prepared_per_batch(tmp_path, monkeypatch):
    write_npy(tmp_path)
    memory = loaded(tmp_path, monkeypatch, "never")
    lazy = loaded(tmp_path, monkeypatch, "always")
    for name in ("x_train", "x_val", "x_test"):
        a, b = getattr(memory, name), getattr(lazy, name)
        assert isinstance(b, Lazy) and isinstance(b.base, np.memmap), name  # never copied out of the memmap
        assert b.shape == a.shape and b.dtype == a.dtype == np.float32
        np.testing.assert_array_equal(b.take(np.arange(len(b))), a)  # same split, same statistics
        idx = np.array([5, 0, 3, 3, 1])
        np.testing.assert_array_equal(b.take(idx), a[idx])  # any order, read sorted, returned as asked
    for name in ("y_train", "y_val", "y_test"):
        np.testing.assert_array_equal(getattr(memory, name), getattr(lazy, name))
    assert memory.preprocessing == lazy.preprocessing  # normalization statistics from chunks: identical
    assert lazy.fingerprint == loaded(tmp_path, monkeypatch, "always").fingerprint


def test_streamed_fingerprint_follows_the_file_without_reading_it_all(tmp_path, monkeypatch):
    x, _ = write_npy(tmp_path)
    first = loaded(tmp_path, monkeypatch, "always").fingerprint
    x[7, 2] += 1.0  # a row the sample may not cover: the file's modification time still changes
    np.save(tmp_path / "X.npy", x)
    os.utime(tmp_path / "X.npy", ns=(1, 1))
    assert loaded(tmp_path, monkeypatch, "always").fingerprint != first


def test_stream_mode_auto_keeps_small_data_in_memory_and_env_is_checked(tmp_path, monkeypatch):
    write_npy(tmp_path)
    a = loaded(tmp_path, monkeypatch, "auto")
    assert isinstance(a.x_train, np.ndarray) and not isinstance(a.x_train, np.memmap)
    monkeypatch.setenv("SPECC_STREAM", "sometimes")

    with pytest.raises(RunError, match="SPECC_STREAM=sometimes: use auto, always or never"):
        load_arrays(checked(SPEC.format(dim=6, epochs=1, batch=16, extra="")), tmp_path, 0)


def test_streamed_autoencoder_targets_are_the_inputs(tmp_path, monkeypatch):
    write_npy(tmp_path)
    monkeypatch.setenv("SPECC_STREAM", "always")
    text = ("specc: 1\nseed: 0\nlayers:\n  - {type: Dense, units: 2, activation: relu, input_dim: 6}\n"
            "  - {type: Dense, units: 6}\ncompile: {optimizer: adam, loss: mse}\n"
            "train: {epochs: 1, batch_size: 16, validation_split: 0.2}\n"
            "data:\n  source: {type: npy, x: X.npy}\n  target: input\n  rescale: 0.5\n")
    a = load_arrays(checked(text), tmp_path, 0)
    assert a.y_train is a.x_train and a.y_test is a.x_test


def test_streamed_images_are_decoded_per_batch(tmp_path, monkeypatch):
    import specc.runners.data.streams as streams

    write_images(tmp_path / "img", per_class=6)
    text = ("specc: 1\nseed: 0\nlayers:\n  - {type: Flatten, input_shape: [6, 5, 1]}\n"
            "  - {type: Dense, units: 2, activation: softmax}\n"
            "compile: {optimizer: adam, loss: sparse_categorical_crossentropy}\n"
            "train: {epochs: 1, batch_size: 4, validation_split: 0}\n"
            "data:\n  source: {type: images, path: img, image_size: [6, 5], color_mode: grayscale}\n"
            "  rescale: 0.00392156862745098\n  normalize: true\n")
    monkeypatch.setenv("SPECC_STREAM", "never")
    memory = load_arrays(checked(text), tmp_path, 0)
    decoded = []
    read = streams.read_images
    monkeypatch.setattr(streams, "read_images", lambda files, *a: decoded.append(len(files)) or read(files, *a))
    monkeypatch.setenv("SPECC_STREAM", "always")
    lazy = load_arrays(checked(text), tmp_path, 0)
    assert max(decoded) < 12  # never all 12 images at once: the statistics were read in chunks of rows
    assert isinstance(lazy.x_train, Lazy) and lazy.x_train.shape == memory.x_train.shape
    np.testing.assert_array_equal(lazy.x_train.take(np.arange(len(lazy.x_train))), memory.x_train)
    np.testing.assert_array_equal(lazy.x_test[:], memory.x_test)
    np.testing.assert_array_equal(lazy.y_train, memory.y_train)


# -- through the CLI -----------------------------------------------------------------------------
def _weights(run):
    return weights(run / "model.keras")


def test_a_damaged_image_met_while_streaming_is_the_error_training_reports(tmp_path):
    """TensorFlow wrapped it in an UnknownError ("Graph execution error: Detected at node PyFuncStateless ...",
    the file's name cut off mid-word); fit, evaluate and predict now raise the RunError itself (streamed_reads)."""
    import tensorflow as tf

    from specc.runners.data.streams import ImageRows
    from specc.runners.pipeline import Batching, streamed_reads, tf_stream_dataset

    write_images(tmp_path / "img", per_class=3)
    bad = tmp_path / "img" / "square" / "bad.png"
    bad.write_text("x")
    files = sorted((tmp_path / "img").rglob("*.*"))
    rows = ImageRows(files, [6, 5], "grayscale", tmp_path / "img")
    data = tf_stream_dataset(rows, np.zeros(len(files), "int32"), Batching(4, 0, 0, 1, False))
    with pytest.raises(RunError) as raised, streamed_reads():
        for _ in data:
            pass
    assert str(raised.value).startswith(f"{bad}: not a readable image")
    with pytest.raises(tf.errors.OpError), streamed_reads():  # any other error goes on as it is
        raise tf.errors.UnknownError(None, None, "not a read")


@pytest.mark.slow
def test_streamed_npy_run_resumes_exactly_and_matches_in_memory(tmp_path):
    write_npy(tmp_path, n=600)
    (tmp_path / "s.yaml").write_text(SPEC.format(dim=6, epochs=6, batch=16, extra="  normalize: true\n"))
    args = ["--set", "train.resume_interval=0", "-q"]
    stream = {"SPECC_STREAM": "always"}
    ref = tmp_path / "ref"
    out = run_cli("train", tmp_path / "s.yaml", "--run-dir", ref, *args, env=stream)
    assert out.returncode == 0, out.stderr
    memory = tmp_path / "memory"
    out = run_cli("train", tmp_path / "s.yaml", "--run-dir", memory, *args, env={"SPECC_STREAM": "never"})
    assert out.returncode == 0, out.stderr
    run_dir = tmp_path / "run"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **stream}
    proc = subprocess.Popen([sys.executable, "-m", "specc", "train", str(tmp_path / "s.yaml"), "--run-dir",
                             str(run_dir), *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for_epoch(proc, run_dir, 2)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    # No SPECC_STREAM here: resume and evaluate read the data the way run.json says it was trained.
    assert json.loads((run_dir / "run.json").read_text())["stream"] == "always"
    out = run_cli("train", "--resume", run_dir, "-q")
    assert out.returncode == 0, out.stderr
    assert json.loads((run_dir / "run.json").read_text())["resumed"]
    history = json.loads((ref / "history.json").read_text())
    assert json.loads((run_dir / "history.json").read_text()) == history
    assert json.loads((memory / "history.json").read_text()) == history  # streaming changes no value
    for a, b, c in zip(_weights(ref), _weights(run_dir), _weights(memory), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    metrics = json.loads((ref / "metrics.json").read_text())
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics
    out = run_cli("evaluate", run_dir, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == pytest.approx(metrics["test"], abs=1e-6)


PEAK = """\
import resource, subprocess, sys
out = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(out.stderr)
print(out.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


def peak_rss(*args, env):
    """(exit status, peak resident bytes) of `python -m specc ARGS`, measured by a parent of its own."""
    full = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env}
    out = subprocess.run([sys.executable, "-c", PEAK, sys.executable, "-m", "specc", *map(str, args)],
                         capture_output=True, text=True, cwd=ROOT, env=full, timeout=600)
    code, peak = out.stdout.split()[-2:]
    return int(code), int(peak), out.stderr


@pytest.mark.slow
def test_training_set_larger_than_the_memory_used_streams(tmp_path):
    dim, n = 1024, 384 * 1024  # 1.5 GiB of float32
    x = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype="float32", shape=(n, dim))
    y = np.arange(n) % 3
    for i in range(0, n, 32768):
        rows = np.arange(i, min(n, i + 32768))
        x[rows] = (y[rows, None] + np.sin(rows[:, None] * 0.001 + np.arange(dim))).astype("float32")
    x.flush()
    del x
    np.save(tmp_path / "Y.npy", y)
    size = (tmp_path / "X.npy").stat().st_size
    small = tmp_path / "small"
    small.mkdir()
    np.save(small / "X.npy", np.asarray(np.load(tmp_path / "X.npy", mmap_mode="r")[:4096]))
    np.save(small / "Y.npy", y[:4096])
    spec = SPEC.format(dim=dim, epochs=1, batch=1024, extra="  rescale: 0.5\n")
    try:
        # The same run on 4096 rows: what TensorFlow and the model take whatever the data.
        (small / "s.yaml").write_text(spec)
        code, base, err = peak_rss("train", small / "s.yaml", "--run-dir", small / "run", "-q",
                                   env={"SPECC_STREAM": "always"})
        assert code == 0, err
        (tmp_path / "s.yaml").write_text(spec)  # SPECC_STREAM unset: auto streams a file this large
        code, peak, err = peak_rss("train", tmp_path / "s.yaml", "--run-dir", tmp_path / "run", "-q", env={})
        assert code == 0, err
        info = json.loads((tmp_path / "run" / "run.json").read_text())
        assert info["data"]["train_samples"] + info["data"]["validation_samples"] + info["data"][
            "test_samples"] == n
        print(f"train: peak RSS {peak / 2**20:.0f} MiB (4096 rows: {base / 2**20:.0f} MiB) for a "
              f"{size / 2**20:.0f} MiB x.npy")
        assert peak - base < size * 0.2, f"peak RSS {peak / 2**20:.0f} MiB, file {size / 2**20:.0f} MiB"
        code, peak, err = peak_rss("evaluate", tmp_path / "run", env={})
        assert code == 0, err
        print(f"evaluate: peak RSS {peak / 2**20:.0f} MiB")
        assert peak - base < size * 0.2
    finally:
        (tmp_path / "X.npy").unlink(missing_ok=True)
