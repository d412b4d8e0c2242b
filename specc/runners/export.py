"""`specc export RUN_DIR --format savedmodel|tflite|onnx -o OUT`: a trained run's model where models are served.

- ``savedmodel``: Keras's own ``model.export(format="tf_saved_model")``; the folder loads with
  ``tf.saved_model.load`` (endpoint ``serve``, signature ``serving_default``) and serves with TF Serving.
- ``tflite``: the same route Keras's LiteRT export takes (an ``ExportArchive`` SavedModel, then TensorFlow's
  ``TFLiteConverter``) restricted to TFLite's built-in operators, so that the file runs on the plain LiteRT
  runtime (``ai_edge_litert``) with no TensorFlow ("Flex") ops. Recurrent layers need a fixed batch size there:
  when the batch axis cannot stay dynamic, the model is converted for one sample per call.
- ``onnx``: Keras's ``model.export(format="onnx")``, which runs tf2onnx on the TensorFlow backend.

After converting, the parity check runs the same inputs (up to 64 samples of the run's own test or validation
split when its data is a cheap local source, else seeded random inputs of the model's input shapes and dtypes)
through the Keras model and through the artifact, loaded as a server would (``tf.saved_model.load``, the LiteRT
interpreter, onnxruntime), in several batches. Every output element must satisfy
``|artifact - keras| <= atol + rtol * |keras|`` (numpy's ``allclose``); otherwise the export fails and nothing is
left behind. The artifact is written to a hidden sibling of OUT and renamed into place only after it passed.

Heavy modules (TensorFlow, Keras, numpy, tf2onnx, onnxruntime) are imported inside the functions.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import secrets
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import RunError
from .evaluate import check_run_model
from .files import output_folder

FORMATS = ("savedmodel", "tflite", "onnx")
EXTRA = 'pip install "specc[export]"'
# Default tolerances: float32 kernels of different runtimes agree to ~1e-6 on small models; mixed precision
# (float16/bfloat16 compute) runs are compared more loosely.
TOLERANCE = {"float32": (1e-4, 1e-3), "mixed": (5e-2, 5e-2)}
BATCHES = (1, 8, 32, 23)  # 64 samples in batches of several sizes: the batch axis must really be dynamic
RANDOM_SEED = 0
FREE_DIM = 8  # the size given to a variable (None) axis other than the batch axis in random inputs
CHEAP_SOURCES = ("sklearn", "npz", "npy", "csv")
# Python modules each format needs beyond TensorFlow and Keras: (module, pip package).
NEEDS = {
    "savedmodel": (),
    "tflite": (),  # converter in TensorFlow; runtime: ai_edge_litert, else TensorFlow's own interpreter
    "onnx": (("tf2onnx", "tf2onnx"), ("onnx", "onnx"), ("onnxruntime", "onnxruntime")),
}
RUNTIMES = {"savedmodel": "TensorFlow", "tflite": "the LiteRT interpreter", "onnx": "onnxruntime"}
RUN_FILES = ("model.keras", "run.json", "spec.yaml", "preprocessing.json", "metrics.json")


class ParityError(RunError):
    """The artifact's outputs differ from Keras's beyond the tolerance; ``report`` has the figures."""

    def __init__(self, message: str, report: ExportReport):
        super().__init__(message)
        self.report = report


@dataclass
class OutputParity:
    name: str
    shape: list
    max_abs_diff: float
    max_rel_diff: float
    ok: bool


@dataclass
class Parity:
    inputs: str  # "test split", "validation split" or "random (seed 0)"
    samples: int
    batches: int
    atol: float
    rtol: float
    max_abs_diff: float = 0.0
    max_rel_diff: float = 0.0
    ok: bool = True
    outputs: list = field(default_factory=list)


@dataclass
class ExportReport:
    run_dir: str
    format: str
    path: str
    written: bool
    bytes: int
    seconds: float
    converter: str
    runtime: str
    batch_size: int | None  # None: any batch size; 1: one sample per call (TFLite with recurrent layers)
    parity: Parity | None = None

    def to_json(self) -> dict:
        """The report as JSON values; a difference that is not finite (a NaN against a number) is null."""
        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list):
                return [clean(x) for x in v]
            return v

        return clean(asdict(self))


# -- checks that need no TensorFlow ----------------------------------------------------------------------------
def check_run_dir(run_dir: Path) -> None:
    """A run directory with a finished model, or a RunError that says what is wrong."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise RunError(f"{run_dir}: no such run directory")
    if not run_dir.is_dir():
        raise RunError(f"{run_dir} is not a run directory (a file; give the folder `specc train` wrote)")
    has_run = (run_dir / "run.json").is_file() or (run_dir / "spec.yaml").is_file()
    if not (run_dir / "model.keras").is_file():
        if not has_run:
            raise RunError(f"{run_dir} is not a run directory (no run.json, spec.yaml or model.keras)")
        status = ""
        try:
            status = json.loads((run_dir / "run.json").read_text()).get("status", "")
        except (OSError, ValueError, AttributeError):
            pass
        shown = f" (run.json status: {status})" if status else ""
        raise RunError(f"{run_dir} is an unfinished run{shown}: no model.keras yet; finish it with "
                       f"`specc train --resume {run_dir}`")
    if not has_run:
        raise RunError(f"{run_dir} is not a run directory (no run.json or spec.yaml beside model.keras)")


def check_output(run_dir: Path, out: Path, force: bool) -> None:
    output_folder(out, folder_ok=True)  # a path that cannot be written at all, said first
    out_r, run_r = Path(out).resolve(), Path(run_dir).resolve()
    if out_r == run_r or run_r.is_relative_to(out_r) or out_r in {run_r / n for n in RUN_FILES}:
        raise RunError(f"{out}: refusing to write over the run directory or its files; choose another -o")
    if (Path(out).exists() or Path(out).is_symlink()) and not force:
        raise RunError(f"{out} exists (use --force to overwrite)")


def check_dependencies(fmt: str) -> None:
    """Fail early, before importing TensorFlow, when a module the format needs is not installed."""
    needed = [("tensorflow", "tensorflow"), ("keras", "keras"), *NEEDS[fmt]]
    missing = [pkg for module, pkg in needed if importlib.util.find_spec(module) is None]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise RunError(f"--format {fmt} needs {', '.join(missing)}, which {verb} not installed: {EXTRA}")


def _import(module: str, fmt: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise RunError(f"--format {fmt} needs {module}, which cannot be imported ({e}): {EXTRA}") from None


# -- the export ------------------------------------------------------------------------------------------------
def export_run(run_dir: Path, fmt: str, out: Path, *, force: bool = False, atol: float | None = None,
               rtol: float | None = None) -> ExportReport:
    """Export the run's model.keras to ``out``, check parity, and rename it into place; return the report.

    Raises RunError for user problems (ParityError, with the report, when the artifact disagrees with Keras).
    Nothing is left at ``out`` (or beside it) unless the export succeeded."""
    if fmt not in FORMATS:
        raise RunError(f"unknown format '{fmt}' (choose {', '.join(FORMATS)})")
    run_dir, out = Path(run_dir), Path(out)
    check_run_dir(run_dir)
    path = run_dir / "model.keras"
    check_run_model(path)
    check_output(run_dir, out, force)
    check_dependencies(fmt)
    if fmt == "onnx":
        _import("onnxruntime", fmt)  # light (no TensorFlow): a broken install fails before the slow part
    keras = _tensorflow_keras()
    t0 = time.perf_counter()
    try:  # the forward pass only: no optimizer state to restore
        model = keras.saving.load_model(path, compile=False)
    except Exception as e:  # a damaged archive (zipfile.BadZipFile), or one Keras refuses to load safely
        raise RunError(f"{path}: cannot load the model ({type(e).__name__}: {_first_line(e)})") from None
    mixed = any(getattr(layer, "compute_dtype", "float32") in ("float16", "bfloat16") for layer in _layers(model))
    default_atol, default_rtol = TOLERANCE["mixed" if mixed else "float32"]
    atol = default_atol if atol is None else float(atol)
    rtol = default_rtol if rtol is None else float(rtol)

    batches, where = parity_inputs(model, run_dir)
    try:
        reference = [_keras_outputs(keras, model, b) for b in batches]
    except Exception as e:  # noqa: BLE001
        raise RunError(f"the Keras model does not run on the parity inputs ({where}): {_first_line(e)}") from None

    tmp = output_folder(out, folder_ok=True) / f".{out.name}.{secrets.token_hex(4)}.tmp"
    try:
        try:
            if fmt == "savedmodel":
                converter, batch_size = _to_savedmodel(model, tmp)
            elif fmt == "tflite":
                converter, batch_size = _to_tflite(keras, model, tmp)
            else:
                converter, batch_size = _to_onnx(model, tmp)
            try:
                runtime, run = _runner(fmt, tmp, model, batch_size)
                got = [run(b) for b in batches]
            except RunError:
                raise
            except Exception as e:  # noqa: BLE001 - a runtime that cannot run the artifact is the user's answer
                raise RunError(f"the exported {fmt} model does not run in {RUNTIMES[fmt]}: {_first_line(e)}") from None
        except RunError as e:
            if mixed and fmt != "savedmodel":
                raise RunError(f"{e} (this run computes in float16/bfloat16, mixed precision: export it as "
                               f"savedmodel, or train it with train.precision: float32)") from None
            raise
        parity = compare(model, reference, got, where, atol, rtol)
        report = ExportReport(run_dir=str(run_dir), format=fmt, path=str(out), written=False, bytes=_size(tmp),
                              seconds=0.0, converter=converter, runtime=runtime, batch_size=batch_size,
                              parity=parity)
        if not parity.ok:
            report.seconds = round(time.perf_counter() - t0, 3)
            bad = next(o for o in parity.outputs if not o.ok)
            raise ParityError(
                f"{fmt} export of {run_dir} failed the parity check: output '{bad.name}' differs from Keras by up to "
                f"{bad.max_abs_diff:.3g} (tolerance: atol {atol:g} + rtol {rtol:g} * |keras|); nothing written",
                report)
        _sync(tmp)
        _publish(tmp, out)
        report.written = True
        report.seconds = round(time.perf_counter() - t0, 3)
        return report
    finally:
        _remove(tmp)


def _tensorflow_keras():
    """Keras on the TensorFlow backend: every format here converts through TensorFlow graphs."""
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "tensorflow"
    from .backend import import_keras

    keras = import_keras()
    if keras.backend.backend() != "tensorflow":
        raise RunError(f"export needs Keras's TensorFlow backend; this process uses {keras.backend.backend()} "
                       f"(unset KERAS_BACKEND)")
    return keras


def _layers(model):
    """Every layer, nested models and wrapped layers (Bidirectional, TimeDistributed) included."""
    seen, stack = [], list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        seen.append(layer)
        stack += list(getattr(layer, "layers", []) or [])
        for attr in ("layer", "forward_layer", "backward_layer"):
            inner = getattr(layer, attr, None)
            if inner is not None and hasattr(inner, "compute_dtype"):
                stack.append(inner)
    return seen


# -- parity inputs -----------------------------------------------------------------------------------------------
def parity_inputs(model, run_dir: Path):
    """(batches, where): batches are lists of arrays, one per model input, of sizes BATCHES."""
    n = sum(BATCHES)
    data = _split_inputs(model, run_dir, n)
    if data is not None:
        arrays, where = data
    else:
        arrays, where = _random_inputs(model, n), f"random (seed {RANDOM_SEED})"
    total = len(arrays[0])
    batches, start = [], 0
    for size in BATCHES:
        if start >= total:
            break
        batches.append([a[start:start + size] for a in arrays])
        start += size
    return batches, where


def _split_inputs(model, run_dir: Path, n: int):
    """Up to n samples of the run's test (else validation) split, when its data is cheap to load; else None."""
    import numpy as np

    spec_path = Path(run_dir) / "spec.yaml"
    if not spec_path.is_file():
        return None
    try:
        from ..check import check_file

        result = check_file(spec_path)
        data = result.spec.data if result.ok else None
        if data is None:
            return None
        sources = [s for s in (data.source, data.validation, data.test) if s is not None]
        if any(s.type not in CHEAP_SOURCES for s in sources):
            return None
        from .data import load_arrays, run_stream_mode

        try:
            info = json.loads((Path(run_dir) / "run.json").read_text())
        except (OSError, ValueError):
            info = {}
        with run_stream_mode(info):
            arrays = load_arrays(result, Path(run_dir), result.spec.seed)
    except Exception:  # noqa: BLE001 - the data moved or changed: random inputs check parity just as well
        return None
    from .pipeline import n_samples, take

    for x, where in ((arrays.x_test, "test split"), (arrays.x_val, "validation split")):
        if x is None or not n_samples(x):
            continue
        k = min(n, n_samples(x))
        x = take(x, np.arange(k))
        names = [t.name for t in model.inputs]
        if isinstance(x, dict):
            if set(names) - set(x):
                return None
            parts = [np.asarray(x[name]) for name in names]
        elif len(names) == 1:
            parts = [np.asarray(x)]
        else:
            return None
        for part, t in zip(parts, model.inputs):
            want = tuple(t.shape[1:])
            if part.ndim != len(want) + 1 or any(w is not None and w != s for w, s in zip(want, part.shape[1:])):
                return None
        return [part.astype(_np_dtype(t.dtype)) for part, t in zip(parts, model.inputs)], f"{where}"
    return None


def _np_dtype(dtype) -> str:
    name = str(getattr(dtype, "name", dtype))
    return "float32" if name == "bfloat16" else name


def _random_inputs(model, n: int):
    import numpy as np

    rng = np.random.default_rng(RANDOM_SEED)
    vocab = [int(layer.input_dim) for layer in _layers(model) if type(layer).__name__ == "Embedding"]
    out = []
    for t in model.inputs:
        shape = (n, *(FREE_DIM if d is None else d for d in t.shape[1:]))
        dtype = _np_dtype(t.dtype)
        if dtype == "bool":
            a = rng.random(shape) < 0.5
        elif dtype == "uint8":
            a = rng.integers(0, 256, shape).astype(dtype)
        elif dtype.startswith(("int", "uint")):
            a = rng.integers(0, min(vocab) if vocab else 2, shape).astype(dtype)
        else:
            a = rng.standard_normal(shape).astype(dtype)
        out.append(a)
    return out


def _keras_outputs(keras, model, batch):
    import numpy as np

    y = model(batch if len(batch) > 1 else batch[0], training=False)
    return [np.asarray(keras.ops.convert_to_numpy(t)) for t in keras.tree.flatten(y)]


def compare(model, reference, got, where: str, atol: float, rtol: float) -> Parity:
    """Parity figures over every batch and output: it passes when |artifact - keras| <= atol + rtol * |keras|
    elementwise; max_rel_diff is the largest |artifact - keras| over the largest |keras| of that output."""
    import numpy as np

    names = list(getattr(model, "output_names", None) or [])
    n_out = len(reference[0])
    names = names if len(names) == n_out else [f"output_{i}" for i in range(n_out)]
    parity = Parity(inputs=where, samples=sum(len(r[0]) for r in reference), batches=len(reference),
                    atol=atol, rtol=rtol)
    for j in range(n_out):
        max_abs = scale = 0.0
        ok = True
        shape = None
        for ref, art in zip(reference, got):
            if len(art) != n_out:
                raise RunError(f"the exported model has {len(art)} output(s), the Keras model {n_out}")
            r = np.asarray(ref[j], dtype="float64")
            a = np.asarray(art[j], dtype="float64")
            if a.shape != r.shape:
                if a.size == r.size:
                    a = a.reshape(r.shape)
                else:
                    raise RunError(f"output '{names[j]}' of the exported model has shape {a.shape[1:]}, "
                                   f"Keras's {r.shape[1:]}")
            shape = [None, *r.shape[1:]]
            both_nan = np.isnan(r) & np.isnan(a)
            diff = np.where(both_nan, 0.0, np.abs(a - r))
            diff = np.where(np.isnan(diff), np.inf, diff)
            if diff.size:
                max_abs = max(max_abs, float(diff.max()))
                scale = max(scale, float(np.abs(np.nan_to_num(r, posinf=0, neginf=0)).max()))
                ok = ok and bool((diff <= atol + rtol * np.abs(np.nan_to_num(r))).all())
        max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
        parity.outputs.append(OutputParity(name=names[j], shape=shape, max_abs_diff=max_abs, max_rel_diff=max_rel,
                                           ok=ok))
    parity.max_abs_diff = max(o.max_abs_diff for o in parity.outputs)
    parity.max_rel_diff = max(o.max_rel_diff for o in parity.outputs)
    parity.ok = all(o.ok for o in parity.outputs)
    return parity


# -- converters --------------------------------------------------------------------------------------------------
def _converter_error(fmt: str, e: BaseException) -> RunError:
    text = str(e)
    marker = "TF Select ops:"
    if marker in text:
        ops = text.split(marker, 1)[1].strip().splitlines()[0].strip()
        return RunError(f"cannot export to {fmt}: the model needs TensorFlow ops that TFLite's built-in operators "
                        f"lack ({ops}); use --format savedmodel or onnx")
    return RunError(f"cannot export to {fmt}: the converter failed: {_first_line(e)}")


def _first_line(e: BaseException) -> str:
    for line in str(e).splitlines():
        line = line.strip()
        if line and not line.startswith(("<unknown>", "loc(")):
            return (line[:300] + "...") if len(line) > 300 else line
    return type(e).__name__


def _quiet():
    import contextlib
    import logging
    import warnings

    from .backend import native_stderr_muted

    @contextlib.contextmanager
    def quiet():
        saved = {name: logging.getLogger(name).level for name in ("tf2onnx", "absl")}
        with native_stderr_muted(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in saved:
                logging.getLogger(name).setLevel(logging.ERROR)
            try:
                yield
            finally:
                for name, level in saved.items():
                    logging.getLogger(name).setLevel(level)

    return quiet()


def _to_savedmodel(model, tmp: Path):
    import tensorflow as tf

    try:
        with _quiet():
            model.export(str(tmp), format="tf_saved_model", verbose=False)
    except Exception as e:  # noqa: BLE001
        raise _converter_error("savedmodel", e) from None
    from .files import ordinary_modes

    ordinary_modes(tmp)
    return f"keras {_version('keras')} tf_saved_model (tensorflow {tf.__version__})", None


def _signature(tf, model, batch):
    specs = [tf.TensorSpec((batch, *t.shape[1:]), t.dtype, name=t.name) for t in model.inputs]
    return [specs] if len(specs) > 1 else specs


def _tflite_bytes(tf, keras, model, batch):
    import functools
    import tempfile

    with tempfile.TemporaryDirectory(prefix="specc-tflite-") as saved:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serve", functools.partial(model.__call__, training=False),
                             input_signature=_signature(tf, model, batch))
        archive.write_out(saved, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        return converter.convert()


def _to_tflite(keras, model, tmp: Path):
    import tensorflow as tf

    from .files import atomic_write_bytes

    batch_size = None
    try:
        with _quiet():
            try:
                flat = _tflite_bytes(tf, keras, model, None)
            except Exception:  # noqa: BLE001 - recurrent layers lower to builtins only with a fixed batch size
                batch_size = 1
                flat = _tflite_bytes(tf, keras, model, 1)
    except Exception as e:  # noqa: BLE001
        raise _converter_error("tflite", e) from None
    atomic_write_bytes(tmp, flat)
    return f"tensorflow {tf.__version__} TFLiteConverter (built-in ops)", batch_size


def _to_onnx(model, tmp: Path):
    _import("tf2onnx", "onnx")
    onnx = _import("onnx", "onnx")
    try:
        with _quiet():
            model.export(str(tmp), format="onnx", verbose=False)
    except Exception as e:  # noqa: BLE001
        raise _converter_error("onnx", e) from None
    try:
        opset = max(o.version for o in onnx.load(str(tmp)).opset_import if o.domain in ("", "ai.onnx"))
    except Exception:  # noqa: BLE001 - the check below loads it with onnxruntime anyway
        opset = "?"
    return f"tf2onnx {_version('tf2onnx')} (opset {opset})", None


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


# -- runtimes ----------------------------------------------------------------------------------------------------
def _runner(fmt: str, path: Path, model, batch_size):
    """(runtime description, function batch -> list of output arrays) for the artifact at ``path``."""
    names = [t.name for t in model.inputs]
    if fmt == "savedmodel":
        return _savedmodel_runner(path, names)
    if fmt == "tflite":
        return _tflite_runner(path, names, batch_size)
    return _onnx_runner(path, names)


def _savedmodel_runner(path: Path, names):
    import numpy as np
    import tensorflow as tf

    with _quiet():
        loaded = tf.saved_model.load(str(path))

    def run(batch):
        y = loaded.serve(batch if len(batch) > 1 else batch[0])
        y = list(y) if isinstance(y, (list, tuple)) else [y]
        return [np.asarray(t) for t in y]

    return f"tf.saved_model.load (tensorflow {tf.__version__})", run


def _by_name(details: dict, names, what: str):
    """Map the artifact's input names to the model's inputs (positionally when the names differ)."""
    keys = list(details)
    if set(names) <= set(keys):
        return names
    if len(keys) == len(names) == 1:
        return keys
    raise RunError(f"the exported {what} model's inputs {keys} do not match the model's inputs {names}")


def _tflite_runner(path: Path, names, batch_size):
    import numpy as np

    try:
        from ai_edge_litert.interpreter import Interpreter

        runtime = f"ai_edge_litert {_version('ai-edge-litert')}"
    except ImportError:
        import tensorflow as tf

        Interpreter = getattr(tf.lite, "Interpreter", None)
        if Interpreter is None:
            raise RunError(f"--format tflite needs the LiteRT runtime (ai-edge-litert) to check the model: "
                           f"{EXTRA}") from None
        runtime = f"tf.lite.Interpreter (tensorflow {tf.__version__})"
    with _quiet():
        interpreter = Interpreter(model_path=str(path))
        runner = interpreter.get_signature_runner()
    inputs = runner.get_input_details()
    keys = _by_name(inputs, names, "tflite")
    outs = sorted(runner.get_output_details(), key=lambda k: (len(k), k))  # output_0, output_1, ..., output_10

    def call(batch):
        feed = {k: np.asarray(a).astype(inputs[k]["dtype"]) for k, a in zip(keys, batch)}
        with _quiet():
            y = runner(**feed)
        return [np.asarray(y[k]) for k in outs]

    def run(batch):
        if batch_size is None:
            return call(batch)
        parts = [call([a[i:i + 1] for a in batch]) for i in range(len(batch[0]))]
        return [np.concatenate([p[j] for p in parts]) for j in range(len(outs))]

    return runtime, run


def _onnx_runner(path: Path, names):
    ort = _import("onnxruntime", "onnx")
    with _quiet():
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    keys = [i.name for i in session.get_inputs()]
    if set(names) <= set(keys):
        keys = names
    elif len(keys) != len(names):
        raise RunError(f"the exported onnx model has {len(keys)} input(s), the Keras model {len(names)}")

    def run(batch):
        return list(session.run(None, dict(zip(keys, batch))))

    return f"onnxruntime {ort.__version__}", run


# -- files -------------------------------------------------------------------------------------------------------
def _size(path: Path) -> int:
    path = Path(path)
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def _sync(path: Path) -> None:
    """Flush the artifact's files to disk before it is renamed into place."""
    files = [f for f in Path(path).rglob("*") if f.is_file()] if Path(path).is_dir() else [Path(path)]
    for f in files:
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove(path: Path) -> None:
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _publish(tmp: Path, out: Path) -> None:
    """Rename the finished artifact to ``out``; an existing ``out`` (checked for --force before) is replaced."""
    if not (out.exists() or out.is_symlink()):
        os.rename(tmp, out)
        return
    if tmp.is_file() and not out.is_dir():
        from .files import publish

        publish(tmp, out)  # atomic; the file keeps the replaced one's mode, as an ordinary write would
        return
    old = out.parent / f".{out.name}.{secrets.token_hex(4)}.old"
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    _remove(old)


# -- the report --------------------------------------------------------------------------------------------------
def human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def report_lines(report: ExportReport) -> list[str]:
    p = report.parity
    lines = [
        f"format:    {report.format}",
        f"path:      {report.path}" + ("" if report.written else " (not written)"),
        f"size:      {human_size(report.bytes)} ({report.bytes:,} bytes)",
        f"converter: {report.converter}",
        f"runtime:   {report.runtime}" + (f", batch size fixed at {report.batch_size}" if report.batch_size else ""),
    ]
    if p is not None:
        lines.append(f"parity:    {p.samples} samples ({p.inputs}) in {p.batches} batches: max abs diff "
                     f"{p.max_abs_diff:.3g}, max rel diff {p.max_rel_diff:.3g}; tolerance atol {p.atol:g} + rtol "
                     f"{p.rtol:g}*|keras| [{'ok' if p.ok else 'FAILED'}]")
        if len(p.outputs) > 1:
            for o in p.outputs:
                lines.append(f"           {o.name}: max abs diff {o.max_abs_diff:.3g}, max rel diff "
                             f"{o.max_rel_diff:.3g} [{'ok' if o.ok else 'FAILED'}]")
    lines.append(f"time:      {report.seconds:.1f} s")
    return lines
