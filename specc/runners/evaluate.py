"""`specc evaluate RUN_DIR [--data FILE]`: metrics of a trained run on its test split, or on other data."""

from __future__ import annotations

from pathlib import Path

from . import RunError
from .backend import import_keras


def open_run(run_dir: Path):
    """The checked spec and run.json of a run directory written by `specc train`."""
    from ..check import check_file

    run_dir = Path(run_dir)
    for name in ("spec.yaml", "model.keras", "run.json"):
        if not (run_dir / name).is_file():
            raise RunError(f"{run_dir} is not a complete run directory (no {name})")
    result = check_file(run_dir / "spec.yaml")
    if not result.ok:
        first = result.errors[0]
        raise RunError(f"{run_dir / 'spec.yaml'}: {first.message}")
    from .rundir import read_json

    info = read_json(run_dir / "run.json", "run record (run.json)")
    if result.spec.data is None:
        raise RunError(f"{run_dir / 'spec.yaml'} has no `data` section")
    return result, info


def check_run_model(path: Path) -> None:
    """RunError, said plainly, if the run's model file is missing, not a file, or not a .keras archive."""
    from ..userfiles import format_problem, regular_file_problem

    problem = regular_file_problem(path, what="model file") or format_problem(path, "keras")
    if problem:
        raise RunError(f"{problem}; the run's model is damaged (train it again)")


def load_run_model(run_dir: Path):
    keras = import_keras()
    path = Path(run_dir) / "model.keras"
    check_run_model(path)
    try:
        return keras.saving.load_model(path)
    except Exception as e:  # a damaged archive, or a model Keras refuses to load safely (a Lambda layer)
        raise RunError(f"{path}: cannot load the model ({type(e).__name__}: damaged or truncated, or not written by specc)") \
            from None


def evaluate_run(run_dir: Path, data=None, y=None, model=None) -> dict:
    """Reload the run's spec, data and model; return the metrics on the test split (or on ``data``).

    ``data`` is a file (.npz, .npy, .csv) or folder (images, texts) with labels, prepared exactly as the
    training data was: the same columns, class names, rescaling, normalization statistics and vocabulary.
    For a model whose data is given per input/output name, a .npz with one array per input and output. The
    metrics are named as Keras reports them (``loss``, and per output ``digit_loss``, ``digit_accuracy``, ...).
    ``data`` and ``y`` may also be values in memory (see ``data.new_samples``); ``model``: the run's model, when
    it is already loaded.
    """
    from .data import run_stream_mode

    run_dir = Path(run_dir)
    result, info = open_run(run_dir)
    with run_stream_mode(info):
        return _evaluate(run_dir, data, y, result, info, model)


def _evaluate(run_dir: Path, data, y, result, info: dict, model) -> dict:
    from .data import load_arrays, load_preprocessing, new_samples, prepare_new

    if data is None and y is not None:
        raise RunError("y was given without x: give the samples x with their labels y (or neither, for the test split)")
    import_keras()
    if data is not None:
        prep = load_preprocessing(run_dir, result, info)
        raw = new_samples(data, y, result, prep, labels=True)
        x, y = prepare_new(raw, result, prep, labels=True)
    else:
        arrays = load_arrays(result, run_dir, result.spec.seed)
        expected = info.get("data", {}).get("fingerprint")
        if expected and arrays.fingerprint != expected:
            raise RunError(f"the data differs from the data the run was trained on (fingerprint "
                           f"{arrays.fingerprint}, run.json says {expected})")
        x, y = arrays.x_test, arrays.y_test
    from .pipeline import batches, n_samples, streamed, streamed_reads

    if n_samples(x) == 0:
        raise RunError("no samples to evaluate on")
    model = model if model is not None else load_run_model(run_dir)
    batch_size = result.spec.train.batch_size

    if streamed(x) or streamed(y):  # a large .npy or images folder: batch by batch
        keras = import_keras()
        with streamed_reads():
            out = model.evaluate(batches(x, y, batch_size, keras.backend.backend()), verbose=0, return_dict=True)
    else:
        out = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    return {k: float(v) for k, v in out.items()}
