import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


def run_cli(*args, cwd=None, env=None, timeout=300, umask=-1, input=None):
    """Run the real CLI in a subprocess: `python -m specc ARGS` (with ``umask``, under that umask; ``input``: its
    standard input)."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "specc", *map(str, args)],
        capture_output=True, text=True, cwd=cwd or ROOT, env=full_env, timeout=timeout, umask=umask, input=input,
    )


# Modules a static command must not import (TensorFlow alone costs seconds and half a gigabyte).
HEAVY = ("tensorflow", "keras", "numpy", "jax", "torch", "sklearn")

_PROBE = """
import sys, runpy, json
sys.argv = ["specc", *{args!r}]
try:
    runpy.run_module("specc", run_name="__main__")
except SystemExit as e:
    code = e.code
else:
    code = 0
print("@@" + json.dumps({{"code": code, "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def probe_cli(*args, heavy=HEAVY, timeout=120, env=None, cwd=None):
    """Run `specc ARGS` in a fresh interpreter: (its exit code, which of ``heavy`` it imported, the process).
    ``env``: variables added to the environment (shell completion is asked for this way)."""
    import json

    out = subprocess.run([sys.executable, "-c", _PROBE.format(args=[str(a) for a in args], heavy=heavy)],
                         capture_output=True, text=True, cwd=cwd or ROOT, timeout=timeout,
                         env={**os.environ, **(env or {})})
    line = next((x for x in out.stdout.splitlines() if x.startswith("@@")), None)
    assert line is not None, out.stdout + out.stderr
    result = json.loads(line[2:])
    return result["code"], result["heavy"], out


def probe_python(code: str, heavy=HEAVY, timeout=120):
    """Run Python ``code`` in a fresh interpreter: (which of ``heavy`` it imported, the process)."""
    import json

    probe = code + f"\nimport sys, json\nprint('@@' + json.dumps([m for m in {tuple(heavy)!r} if m in sys.modules]))\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    line = next((x for x in out.stdout.splitlines() if x.startswith("@@")), None)
    assert line is not None, out.stdout + out.stderr
    return json.loads(line[2:]), out


def env_with_specc_on_path(folder: Path) -> dict:
    """An environment with a `specc` command on PATH that runs this checkout (what shells and their
    completion scripts call)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / "specc"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m specc "$@"\n')
    exe.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}


def assert_names_its_schema(spec: Path) -> None:
    """The spec's first line is the yaml-language-server modeline, and the schema file it names (relative to
    the spec, as editors resolve it) validates the spec."""
    import json
    import re

    import jsonschema

    from specc.loader import load_text

    text = spec.read_text()
    match = re.match(r"# yaml-language-server: \$schema=(\S+)\n", text)
    assert match, text.splitlines()[0]
    schema = json.loads((spec.parent / match.group(1)).read_text())
    jsonschema.validate(load_text(text)[0].data, schema)


@pytest.fixture
def cli():
    return run_cli


def blobs(path, n=240, classes=3, seed=0, label_offset=0):
    """Three well-separated Gaussian blobs in 4-D: any working model learns them."""
    import numpy as np

    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centers = rng.normal(0, 4, (classes, 4))
    x = centers[y] + rng.normal(0, 0.5, (n, 4))
    np.savez(path, features=x.astype("float32"), labels=(y + label_offset).astype("int64"))


TINY_SPEC = """\
specc: 1
name: blobs
seed: 3
layers:
  - {type: Dense, units: 16, activation: relu, input_dim: 4}
  - {type: Dense, units: 3, activation: softmax}
compile:
  optimizer: {type: Adam, learning_rate: 1.0e-2}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
train: {epochs: 3, batch_size: 16, validation_split: 0.2, tensorboard: false}
data:
  source: {type: npz, path: blobs.npz, x: features, y: labels}
  test_split: 0.25
"""


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory) -> dict:
    """Two real runs of a tiny classifier (131 parameters, 3 epochs) that differ only in the learning rate
    (`a`: 0.01, `b`: 0.05), trained once per test process under one folder (`root`). Read them; copy one
    before changing it."""
    base = tmp_path_factory.mktemp("tiny_runs")
    blobs(base / "blobs.npz")
    spec = base / "blobs.yaml"
    spec.write_text(TINY_SPEC)
    root = base / "runs"
    runs = {"spec": spec, "root": root}
    for name, rate in (("a", "0.01"), ("b", "0.05")):
        out = run_cli("train", spec, "--run-dir", root / name, "-q", "--set", f"compile.optimizer.learning_rate={rate}")
        assert out.returncode == 0, out.stderr
        runs[name] = root / name
    return runs


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server on 127.0.0.1 (Debian's postgresql package; .ci/run installs it), started in a
    temporary directory as an unprivileged user (postgres refuses to run as root) and stopped at the end.
    Fails, never skips, when it cannot start."""
    import shutil
    import socket
    import tempfile
    import time

    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    assert bins, "PostgreSQL is not installed (apt-get install postgresql; .ci/run does it)"
    bin_dir = bins[-1].parent
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="specc-pg-"))
    if as_user:
        shutil.chown(root, "postgres", "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data, log = root / "data", root / "log"

    def run(*cmd):
        out = subprocess.run([*as_user, *map(str, cmd)], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, f"{cmd[0]} failed: {out.stdout}{out.stderr}" + (
            log.read_text() if log.exists() else "")

    run(bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "postgres")
    run(bin_dir / "pg_ctl", "-D", data, "-l", log, "-w", "-o",
        f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off", "start")
    try:
        run(bin_dir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "specc")
        yield f"postgresql://postgres@127.0.0.1:{port}/specc"
    finally:
        run(bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "stop")
        time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


# -- `specc import` round trips (tests/test_import*.py); Keras and numpy are imported where used --------
def randomize(model, seed: int = 0) -> None:
    """Weights unlike any fresh initialization (moving statistics included), so a load must carry them."""
    import numpy as np
    from keras import layers as L

    rng = np.random.default_rng(seed)
    for w in model.weights:
        shape = tuple(w.shape)
        values = rng.normal(0.0, 0.05, shape) if w.trainable else rng.uniform(0.5, 1.5, shape)
        w.assign(np.asarray(values).astype(w.dtype))
    for layer in model.layers:
        if isinstance(layer, L.Normalization) and layer.built:
            layer.finalize_state()  # it computes with copies of its statistics, made when they are set


def keras_rows(model) -> dict:
    import numpy as np

    rows = {}
    for layer in model.layers:
        try:
            shape = list(layer.output.shape)
        except (AttributeError, ValueError):
            shape = None  # a layer called more than once has no single output
        trainable = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
        rows[layer.name] = {"class": type(layer).__name__, "output_shape": shape, "params": layer.count_params(),
                            "trainable_params": trainable}
    return rows


def keras_totals(model) -> dict:
    import numpy as np

    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    total = model.count_params()
    return {"total": total, "trainable": trainable, "non_trainable": total - trainable}


# Later calls of a shared layer or model; Keras operations as layers; a Sequential's input (not in .layers).
EXTRA_KINDS = {"Shared", "Model", "Rescaling", "Add", "Subtract", "Multiply", "Input"}


def assert_same_architecture(model, summary: dict) -> None:
    """The spec's static summary against the Keras model's own layer list."""
    ours = {row["name"]: row for row in summary["layers"]}
    for name, want in keras_rows(model).items():
        assert name in ours, f"Keras layer {name!r} is missing from the imported spec"
        row = ours[name]
        kind = "Model" if want["class"] in ("Functional", "Sequential") else \
            "Input" if want["class"] == "InputLayer" else want["class"]
        assert row["type"] == kind, name
        if want["output_shape"] is not None:
            assert row["output_shape"] == want["output_shape"], name
        assert (row["params"], row["trainable_params"]) == (want["params"], want["trainable_params"]), name
    names = {layer.name for layer in model.layers}
    for row in summary["layers"]:
        if row["name"] not in names:  # a later call of a shared layer, or a Keras operation (x + 3.0)
            assert row["type"] in EXTRA_KINDS and row["params"] == 0, row
    assert summary["params"] == keras_totals(model)


def sample(model, seed: int = 1):
    import numpy as np

    rng = np.random.default_rng(seed)
    xs = [rng.normal(size=(2, *t.shape[1:])).astype("float32") for t in model.inputs]
    return xs[0] if len(xs) == 1 else xs


def predictions(model, x) -> list:
    import numpy as np

    out = model(x, training=False)  # eagerly: tracing a large model for predict() costs more than running it
    return [np.asarray(y) for y in (out if isinstance(out, (list, tuple)) else [out])]


def weights_of(keras_file):
    """The weights file inside a .keras file, taken out: Keras reads it inside the zip with seeks that
    reread the member from its start, so a model of 800 layers takes minutes there and seconds here."""
    import zipfile

    folder = keras_file.parent / f"{keras_file.stem}_weights"
    with zipfile.ZipFile(keras_file) as z:
        return z.extract("model.weights.h5", folder)


def assert_same_predictions(original, built, keras_file) -> None:
    import numpy as np

    x = sample(original)
    want = predictions(original, x)
    before = predictions(built, x)
    assert not all(np.allclose(b, w, atol=1e-4) for b, w in zip(before, want)), "vacuous: fresh weights agree"
    built.load_weights(weights_of(keras_file))
    for got, expected in zip(predictions(built, x), want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def round_trip(model, tmp_path, weights: bool = True) -> dict:
    """Save the model both ways, import both, check the architecture (and weights and predictions)."""
    from specc.importing import import_model
    from specc.lower import keras_model
    from specc.render import summary_data

    randomize(model)
    keras_file = tmp_path / "original.keras"
    model.save(keras_file)
    json_file = tmp_path / "original.json"
    json_file.write_text(model.to_json())
    from_json = import_model(json_file)
    imported = import_model(keras_file)
    assert imported.problems == [] and from_json.problems == [], [str(p) for p in imported.problems]
    assert from_json.spec == imported.spec  # the same config either way
    assert imported.result.ok and not imported.result.errors
    assert_same_architecture(model, summary_data(imported.result))
    if weights:
        built = keras_model(imported.result, compile=False)
        assert built.count_params() == model.count_params()
        assert [tuple(t.shape) for t in built.outputs] == [tuple(t.shape) for t in model.outputs]
        assert_same_predictions(model, built, keras_file)
    return imported.spec
