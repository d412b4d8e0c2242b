"""specc from Python: load a spec, look at it, build it, train it, open a run.

    import specc

    spec = specc.load("specs/digits_mlp.yaml", overrides=["train.epochs=2"])
    print(spec.summary())              # static: no TensorFlow
    spec.plot("digits_mlp.svg")        # the diagram (no Graphviz)
    run = spec.train(run_dir="runs/digits")
    run.metrics["test"]["accuracy"]
    run.predict(x)

Everything the `specc` command does for one spec goes through here; the command adds only the printing and the
exit codes. Nothing here imports TensorFlow, Keras or numpy until a model is built, trained or run, and nothing
here exits the interpreter: problems are exceptions (:class:`SpecError` for a spec with errors, :class:`RunError`
for a problem while building or running, ``ValueError`` for a malformed override).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterable, Union

from .diagnostics import Diagnostic, SpecError
from .runners import RunError

if TYPE_CHECKING:
    import keras

    from .check import CheckResult

Source = Union[str, "os.PathLike[str]"]

__all__ = ["load", "Spec", "SpecError", "open_run", "Run", "RunError", "from_keras"]


def _check(source, overrides: list[str], name: str | None) -> CheckResult:
    from .check import check_file, check_loaded
    from .loader import load_stream, load_text

    if hasattr(source, "read"):
        shown = str(name or getattr(source, "name", None) or "<stream>")
        doc, errors = load_stream(getattr(source, "buffer", source), shown)  # sys.stdin: its bytes
        return check_loaded(doc, errors, shown, overrides=overrides)
    if isinstance(source, str) and "\n" in source:
        doc, errors = load_text(source, name or "<string>")
        return check_loaded(doc, errors, name or "<string>", overrides=overrides)
    return check_file(Path(source), name, overrides=overrides)


def _assignments(overrides: Iterable[str]) -> list[str]:
    """``overrides`` as a list; TypeError for one string, which would otherwise be read a character at a time."""
    if isinstance(overrides, (str, bytes)):
        raise TypeError(f"overrides is a list of KEY=VALUE strings, not one string: overrides=[{overrides!r}]")
    return list(overrides)


def load(source: Source | IO[str] | IO[bytes], overrides: Iterable[str] = (), *, name: str | None = None) -> Spec:
    """Load and check a spec; return it as a :class:`Spec`.

    ``source`` is a path to a spec file, spec text (a ``str`` holding a line break, or a one-line mapping that
    starts with ``specc:`` or ``{``), or an open file (read whole, with the size limit a file has).
    ``overrides`` are ``KEY=VALUE`` assignments applied before checking (to the spec merged over its base, for
    a spec that ``extends:`` one), as ``specc train --set`` applies them (``"train.epochs=2"``,
    ``"layers.hidden.units=64"``). ``name`` is how diagnostics name the source (default: the path,
    ``<string>`` or the stream's name).

    Raises :class:`SpecError` carrying every diagnostic when the spec has errors (warnings alone do not
    raise: they are in :attr:`Spec.warnings`), ``ValueError`` for a malformed override (its
    ``assignment`` attribute names it), and ``TypeError`` for overrides given as one string, not a list.
    """
    overrides = _assignments(overrides)
    if isinstance(source, str) and "\n" not in source and source.lstrip().startswith(("specc:", "{")):
        source += "\n"  # a one-line spec, not a file name
    from .check import require_model

    result = require_model(_check(source, overrides, name))
    if not result.ok:
        from .render import spec_error

        raise spec_error(result)
    if hasattr(source, "read"):  # keep the text: a stream cannot be read twice
        source = result.doc.text if result.doc.text.count("\n") else result.doc.text + "\n"
        name = result.file
    return Spec(result, source, overrides, name)


class Spec:
    """A checked spec: its static summary and diagram (no TensorFlow), and the model it builds and trains.

    Made by :func:`load`. In a notebook it shows its summary table and its diagram. ``result`` is the checker's
    full result (graph, static shapes, parameters) for tools that need more than the methods below.
    """

    def __init__(self, result: CheckResult, source: Source, overrides: list[str], name: str | None = None):
        self.result = result  #: the checker's full result (``specc.check.CheckResult``), for tools
        self._source, self._overrides, self._name = source, overrides, name

    def __repr__(self) -> str:
        return f"<specc.Spec '{self.name}': {len(self.result.graph.nodes)} layers, {self.params['total']:,} params>"

    @property
    def name(self) -> str:
        """The model's name: the spec's ``name``, else the file's stem."""
        from .render import model_name

        return model_name(self.result)

    @property
    def file(self) -> str:
        """How diagnostics name the spec's source: its path, ``<string>`` or ``<stdin>``."""
        return self.result.file

    @property
    def warnings(self) -> list[Diagnostic]:
        """The checker's warnings (a spec with errors never loads)."""
        return self.result.warnings

    @property
    def params(self) -> dict[str, int]:
        """Parameter counts, computed statically: ``{"total", "trainable", "non_trainable"}``."""
        p = self.result.params
        return {"total": p.total, "trainable": p.trainable, "non_trainable": p.non_trainable}

    def summary(self) -> str:
        """The table `specc summary` prints: every layer's output shape and parameters, the totals and the
        estimated training memory. Static: no TensorFlow."""
        from .render import summary_text

        return summary_text(self.result)

    def summary_data(self) -> dict[str, Any]:
        """The summary as data: the document `specc summary --json` prints."""
        from .render import summary_data

        return summary_data(self.result)

    def plot(self, to_file: Source | None = None) -> str:
        """The architecture diagram as SVG text; with ``to_file``, also written there, in the format of its
        suffix (.svg, .png, .mmd or .md for Mermaid). No TensorFlow, no Graphviz. Raises ``ValueError`` for
        another suffix, or for .png without matplotlib."""
        from .plot import render, write_diagram

        if to_file is not None:
            write_diagram(self.result, Path(to_file))
        return render(self.result, ".svg")

    def build(self, compile: bool = True) -> keras.Model:
        """The model as a plain ``keras.Model`` (compiled with the spec's optimizer, loss and metrics unless
        ``compile=False``). Raises :class:`RunError` when its weights could not fit in memory."""
        check_size(self.result)
        from .lower import keras_model

        return keras_model(self.result, compile=compile)

    def train(self, run_dir: Source | None = None, epochs: int | None = None, *, overrides: Iterable[str] = (),
              device: str = "auto", verbose: bool = True) -> Run:
        """Train on the spec's data and write a run directory (default ``runs/NAME-TIME``); return it as a
        :class:`Run`. ``epochs`` and ``overrides`` change the spec for this run only. Progress is one plain line
        per epoch (no terminal control codes: it reads the same in a notebook); ``verbose=False`` prints nothing.

        Raises :class:`RunError` for a problem with the data or the run directory, ``ValueError`` for a
        ``device`` other than ``auto``, ``cpu`` or ``gpu``, and ``KeyboardInterrupt``
        when interrupted (the run directory can then be resumed with `specc train --resume`).
        """
        from .runners.train import Interrupted, train_run

        if device not in ("auto", "cpu", "gpu"):
            raise ValueError(f"unknown device '{device}' (choose cpu, gpu or auto)")
        extra = _assignments(overrides) + ([f"train.epochs={epochs}"] if epochs is not None else [])
        spec = load(self._source, self._overrides + extra, name=self._name) if extra else self
        check_size(spec.result)
        location = spec.result.doc.location
        try:
            run, _ = train_run(spec.result, location if location is not None else Path(spec.file),
                               run_dir=None if run_dir is None else Path(run_dir), quiet=not verbose, device=device)
        except Interrupted as e:
            raise KeyboardInterrupt(str(e)) from None
        return Run(run)

    def _repr_html_(self) -> str:
        from .notebook import spec_html

        return spec_html(self)


def check_size(result: CheckResult) -> None:
    """Raise :class:`RunError` for a model whose weights cannot fit in memory: never start allocating it."""
    from .analysis.budget import fits_in_memory

    problem = fits_in_memory(result.spec, result.graph, result.info)
    if problem:
        raise RunError(problem)


def open_run(run_dir: Source) -> Run:
    """A run directory written by `specc train` (or :meth:`Spec.train`). Raises :class:`RunError` when it is
    not one."""
    return Run(run_dir)


class Run:
    """A run directory (``dir``): its spec, history, metrics and model, and the model's evaluation and predictions
    on new data, prepared exactly as the training data was. In a notebook it shows its metrics and learning
    curves."""

    def __init__(self, run_dir: Source):
        self.dir = Path(run_dir)  #: the run directory
        for name in ("spec.yaml", "run.json"):
            if not (self.dir / name).is_file():
                raise RunError(f"{self.dir} is not a run directory (no {name})")
        self._model = None

    def __repr__(self) -> str:
        return f"<specc.Run '{self.dir}': {self.info.get('status', 'unknown')}>"

    def _json(self, name: str, default: Any = None) -> Any:
        path = self.dir / name
        if not path.is_file() and default is not None:
            return default
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise RunError(f"{path}: cannot read ({e})") from None

    @property
    def info(self) -> dict[str, Any]:
        """run.json: provenance (versions, backend, device, seed, data fingerprint, times, status)."""
        return self._json("run.json")

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-epoch values, as Keras's ``History.history``: ``{"loss": [...], "val_accuracy": [...]}``."""
        return self._json("history.json", {})

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        """The final metrics by split: ``{"train": {...}, "validation": {...}, "test": {...}}`` (empty for a run
        that has not finished)."""
        return self._json("metrics.json", {})

    @property
    def spec(self) -> Spec:
        """The spec as trained (defaults filled in, overrides applied)."""
        return load(self.dir / "spec.yaml")

    @property
    def model(self) -> keras.Model:
        """The trained model (loaded once, with plain ``keras.saving.load_model``)."""
        if self._model is None:
            from .runners.evaluate import load_run_model

            if not (self.dir / "model.keras").is_file():
                raise RunError(f"{self.dir} has no model.keras (the run did not finish)")
            self._model = load_run_model(self.dir)
        return self._model

    def evaluate(self, x: Any = None, y: Any = None) -> dict[str, float]:
        """Metrics on the run's test split; or on ``x`` (a data file or folder, labels inside) or on ``x`` and
        ``y`` in memory (features as the training source held them, labels as class names or ids)."""
        from .runners.evaluate import evaluate_run

        return evaluate_run(self.dir, x, y, model=self.model)

    def predict(self, x: Any) -> Any:
        """The model's outputs for ``x`` (a data file or folder, or features in memory), prepared as the training
        data was: a numpy array, or a dict of arrays by output name for a model with several outputs."""
        from .runners.predict import predict_outputs

        return predict_outputs(self.dir, x, model=self.model)[0]

    def _repr_html_(self) -> str:
        from .notebook import run_html

        return run_html(self)


def from_keras(model: keras.Model) -> str:
    """A live Keras model as spec text (what `specc import` writes, without a file). Raises ``ValueError``
    listing every part of the model that a spec cannot express."""
    from .importer import ImportFailure
    from .importing import import_serialized

    try:
        config = json.loads(model.to_json())
    except (AttributeError, TypeError, ValueError) as e:
        raise ImportFailure(f"not a Keras model that can be serialized ({e})") from None
    imported = import_serialized(config)
    if imported.problems:
        raise ImportFailure("\n".join(str(p) for p in imported.problems))
    return imported.text
