"""The `specc` command line. Thin: every command calls into the pipeline.

Heavy modules (keras, tensorflow, numpy, rich) are imported inside the
commands that need them; `specc validate`, `summary`, `schema` and `--help`
never import TensorFlow or Keras (tests/test_imports.py proves it).
"""

from __future__ import annotations

import glob
import json
import os
import sys
from pathlib import Path
from typing import List

import typer

from . import __version__

app = typer.Typer(
    name="specc",
    help="Declarative YAML model specs for Keras: check, summarize, build, train, evaluate.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _version(value: bool):
    if value:
        typer.echo(f"specc {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
):
    """Declarative YAML model specs for Keras."""


def _usage(message: str) -> typer.Exit:
    typer.echo(f"specc: error: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


def expand_paths(paths: list[str]) -> list[Path]:
    """Files, folders (every *.yaml / *.yml below) and globs, in a stable order."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml") and q.is_file())
        elif not p.exists() and any(c in raw for c in "*?["):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                raise _usage(f"no files match '{raw}'")
            out += [Path(m) for m in matches if Path(m).is_file()]
        else:
            out.append(p)  # a missing file is reported as a diagnostic (E001)
    return out


def _print_diagnostics(result, stream=None) -> None:
    from .render import diagnostic_text

    for d in result.diagnostics:
        line = result.doc.source_line(d) if result.doc else None
        typer.echo(diagnostic_text(d, line), err=stream is sys.stderr)


def _checked(spec: Path, assignments: list[str] = ()):
    """Check one spec (after --set overrides) for a command that needs a valid one; exit 1 otherwise."""
    from .check import check_document
    from .loader import load_file
    from .overrides import OverrideError, apply

    doc, errors = load_file(spec)
    if doc is None:
        from .check import CheckResult

        result = CheckResult(file=str(spec), diagnostics=errors)
    else:
        for assignment in assignments:
            try:
                apply(doc, assignment)
            except OverrideError as e:
                raise _usage(f"--set {assignment}: {e}")
        result = check_document(doc, errors)
    if not result.ok:
        _print_diagnostics(result, sys.stderr)
        typer.echo(f"{spec}: {len(result.errors)} error(s)", err=True)
        raise typer.Exit(EXIT_INVALID)
    return result


FORMATS = ("text", "json", "github", "sarif")
OUTSIDE_HELP = ("Let the check read files outside the project (saved models named by `type: Model`); "
                "see docs/checking.md, Files specc reads.")


def _confine(ctx: typer.Context, allow_outside: bool) -> None:
    """The static commands read nothing outside the project unless --allow-outside-project (userfiles.py);
    for this command only (tests run several in one process)."""
    from .userfiles import confined

    scope = confined(not allow_outside)
    scope.__enter__()
    ctx.call_on_close(lambda: scope.__exit__(None, None, None))


def _refuse_if_too_big(result) -> None:
    """Never start allocating a model whose weights cannot fit in memory."""
    from .analysis.budget import fits_in_memory

    problem = fits_in_memory(result.spec, result.graph, result.info)
    if problem:
        typer.echo(f"specc: error: {problem}", err=True)
        raise typer.Exit(EXIT_INVALID)


@app.command()
def validate(
    ctx: typer.Context,
    paths: List[str] = typer.Argument(..., help="Spec files, folders or globs."),
    format: str = typer.Option("text", "--format", "-f", help="Output format: text, json, github or sarif."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to a file (json, sarif)."),
    ignore: List[str] = typer.Option([], "--ignore", help="Drop this warning code (repeatable), e.g. W405."),
    error: List[str] = typer.Option([], "--error", help="Make this warning code an error (repeatable)."),
    max_params: int | None = typer.Option(None, "--max-params", min=1, help="Budget: most parameters."),
    max_memory_mb: float | None = typer.Option(None, "--max-memory-mb", min=0, help="Budget: training memory (MB)."),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1, help="Batch size for the memory budget."),
    max_depth: int | None = typer.Option(None, "--max-depth", min=1, help="Budget: most layers input to output."),
    allow_outside: bool = typer.Option(False, "--allow-outside-project", help=OUTSIDE_HELP),
):
    """Check specs statically (no TensorFlow). Exit 0 valid, 1 invalid, 2 usage error."""
    _confine(ctx, allow_outside)
    from .check import check_file
    from .diagnostics import CODES, apply_policy
    from .render import github_lines, sarif, validate_json

    if format not in FORMATS:
        raise _usage(f"unknown format '{format}' (choose {', '.join(FORMATS)})")
    for code in (*ignore, *error):
        if code not in CODES or not code.startswith("W"):
            raise _usage(f"--ignore/--error take warning codes (W401...); got '{code}'")
    files = expand_paths(paths)
    if not files:
        raise _usage("no spec files found")
    budget = {"max_params": max_params, "max_memory_mb": max_memory_mb, "batch_size": batch_size,
              "max_depth": max_depth}
    results = [check_file(f, budget=budget) for f in files]
    for r in results:
        r.diagnostics = apply_policy(r.diagnostics, set(ignore), set(error))
    failed = [r for r in results if r.errors or (strict and r.warnings)]
    report = None
    if format == "json":
        report = json.dumps(validate_json(results, failed), indent=2) + "\n"
    elif format == "sarif":
        report = json.dumps(sarif(results, __version__), indent=2) + "\n"
    elif format == "github":
        for line in github_lines(results):
            typer.echo(line)
    else:
        for r in results:
            _print_diagnostics(r)
    if report is not None:
        if output is not None:
            from .runners.files import atomic_write_text

            atomic_write_text(output, report)
        else:
            typer.echo(report, nl=False)
    if format in ("text", "github") or output is not None:
        n_err = sum(len(r.errors) for r in results)
        n_warn = sum(len(r.warnings) for r in results)
        status = "ok" if not failed else "invalid"
        typer.echo(f"{len(results)} file(s) checked: {len(results) - len(failed)} valid, {len(failed)} invalid; "
                   f"{n_err} error(s), {n_warn} warning(s) [{status}]", err=output is not None)
    raise typer.Exit(EXIT_INVALID if failed else EXIT_OK)


@app.command()
def summary(
    ctx: typer.Context,
    spec: Path = typer.Argument(..., help="The spec file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    set_: List[str] = typer.Option([], "--set", help="Override a spec value: KEY=VALUE, e.g. vars.width=64."),
    allow_outside: bool = typer.Option(False, "--allow-outside-project", help=OUTSIDE_HELP),
):
    """Every layer's output shape and parameters, and the totals, computed statically."""
    _confine(ctx, allow_outside)
    from .render import shape_text, summary_data

    result = _checked(spec, set_)
    data = summary_data(result)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    for d in result.warnings:
        from .render import diagnostic_text

        typer.echo(diagnostic_text(d, result.doc.source_line(d)), err=True)
    rows = [(layer["name"], layer["type"], shape_text(layer["output_shape"]), f"{layer['params']:,}")
            for layer in data["layers"]]
    heads = ("Layer", "Type", "Output shape", "Params")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
    line = "  ".join(h.ljust(w) for h, w in zip(heads, widths))
    typer.echo(f"Model: {data['name']}")
    typer.echo(line)
    typer.echo("-" * len(line))
    for r in rows:
        typer.echo("  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2]),
                              r[3].rjust(widths[3])]))
    typer.echo("-" * len(line))
    p = data["params"]
    typer.echo(f"Total params: {p['total']:,}  (trainable: {p['trainable']:,}, non-trainable: {p['non_trainable']:,})")
    e = data["estimate"]
    typer.echo(f"Depth: {e['depth']} layers; estimated training memory at batch size {e['batch_size']}: "
               f"{e['training_mb']:,.1f} MB (weights {e['weights_mb']:,.1f}, gradients and optimizer "
               f"{e['optimizer_mb']:,.1f}, activations {e['activations_mb']:,.1f})")


@app.command()
def diff(
    ctx: typer.Context,
    a: str = typer.Argument(..., help="The old spec: a path or a git revision REV:PATH."),
    b: str = typer.Argument(..., help="The new spec: a path or a git revision REV:PATH."),
    format: str = typer.Option("text", "--format", "-f", help="Output format: text, markdown or json."),
    allow_outside: bool = typer.Option(False, "--allow-outside-project", help=OUTSIDE_HELP),
):
    """Architecture-level diff of two specs. Exit 0 same, 1 different, 2 trouble (as diff(1))."""
    _confine(ctx, allow_outside)
    from .diff import DiffSourceError, as_json, as_markdown, as_text, check_source, diff_results

    if format not in ("text", "markdown", "json"):
        raise _usage(f"unknown format '{format}' (choose text, markdown or json)")
    results = []
    for ref in (a, b):
        try:
            result = check_source(ref)
        except DiffSourceError as e:
            raise _usage(str(e))
        if not result.ok:
            _print_diagnostics(result, sys.stderr)
            typer.echo(f"specc: error: {ref} is not a valid spec", err=True)
            raise typer.Exit(EXIT_USAGE)
        results.append(result)
    d = diff_results(*results)
    if format == "json":
        typer.echo(json.dumps(as_json(d), indent=2))
    else:
        typer.echo(as_markdown(d) if format == "markdown" else as_text(d), nl=False)
    raise typer.Exit(EXIT_INVALID if d.changed else EXIT_OK)


@app.command()
def fmt(
    ctx: typer.Context,
    paths: List[str] = typer.Argument(..., help="Spec files, folders or globs."),
    check: bool = typer.Option(False, "--check", help="Only report files that are not formatted (exit 1)."),
    allow_outside: bool = typer.Option(False, "--allow-outside-project", help=OUTSIDE_HELP),
):
    """Rewrite specs in the canonical layout, keeping comments. Exit 1 with --check if any would change."""
    _confine(ctx, allow_outside)
    from .fmt import FormatError, format_file_text
    from .runners.files import atomic_write_text

    files = expand_paths(paths)
    if not files:
        raise _usage("no spec files found")
    bad = changed = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
            new, diagnostics = format_file_text(text, str(path))
        except (OSError, UnicodeDecodeError, FormatError) as e:
            typer.echo(f"{path}: error: {e}", err=True)
            bad += 1
            continue
        if new is None:
            from .render import diagnostic_text

            for d in diagnostics:
                typer.echo(diagnostic_text(d), err=True)
            typer.echo(f"{path}: not formatted: the spec is invalid", err=True)
            bad += 1
        elif new != text:
            changed += 1
            if check:
                typer.echo(f"would reformat {path}")
            else:
                atomic_write_text(path, new)
                typer.echo(f"reformatted {path}")
    verb = "would be reformatted" if check else "reformatted"
    typer.echo(f"{len(files)} file(s): {changed} {verb}, {bad} invalid", err=True)
    raise typer.Exit(EXIT_INVALID if bad or (check and changed) else EXIT_OK)


@app.command()
def plot(
    ctx: typer.Context,
    spec: Path = typer.Argument(..., help="The spec file."),
    output: Path = typer.Option(..., "--output", "-o", help="Diagram file: .mmd/.md (Mermaid), .svg or .png."),
    allow_outside: bool = typer.Option(False, "--allow-outside-project", help=OUTSIDE_HELP),
):
    """Draw the architecture (no TensorFlow, no Graphviz needed)."""
    _confine(ctx, allow_outside)
    from .plot import PlotError, write_diagram

    result = _checked(spec)
    try:
        write_diagram(result, output)
    except PlotError as e:
        raise _usage(str(e))
    typer.echo(f"wrote {output}")


@app.command()
def init(
    template: str | None = typer.Argument(None, help="Template name (see --list)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Where to write the spec."),
    list_: bool = typer.Option(False, "--list", help="List the templates."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
):
    """Write a commented starting spec from a template."""
    from .templates import EXTRA_FILES, TEMPLATES, template_file, template_text

    if list_:
        width = max(map(len, TEMPLATES))
        for name, about in TEMPLATES.items():
            typer.echo(f"{name:<{width}}  {about}")
        return
    if template is None or output is None:
        raise _usage("give a template and -o FILE (see `specc init --list`)")
    if template not in TEMPLATES:
        from .diagnostics import did_you_mean

        hint = did_you_mean(template, TEMPLATES)
        raise _usage(f"unknown template '{template}'" + (f"; {hint}" if hint else "") + " (see `specc init --list`)")
    extra = [output.parent / rel for rel in EXTRA_FILES.get(template, [])]
    for path in [output, *extra]:
        if path.exists() and not force:
            raise _usage(f"{path} exists (use --force to overwrite)")
    from .runners.files import atomic_write_bytes, atomic_write_text

    for rel, path in zip(EXTRA_FILES.get(template, []), extra):
        atomic_write_bytes(path, template_file(rel))
        typer.echo(f"wrote {path}")
    atomic_write_text(output, template_text(template))
    typer.echo(f"wrote {output}; next: specc summary {output}")


@app.command()
def build(
    spec: Path = typer.Argument(..., help="The spec file."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the model (.keras)."),
    set_: List[str] = typer.Option([], "--set", help="Override a spec value: KEY=VALUE, e.g. vars.width=64."),
):
    """Compile the spec to an untrained Keras model; it loads with plain keras.saving.load_model."""
    if output.suffix != ".keras":
        raise _usage("the output file must end in .keras")
    result = _checked(spec, set_)
    from .lower import keras_model
    from .runners.files import atomic_keras_save

    _refuse_if_too_big(result)
    model = keras_model(result)
    atomic_keras_save(model, output)
    typer.echo(f"wrote {output} ({model.count_params():,} params)")


@app.command()
def schema(output: Path | None = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout.")):
    """The JSON Schema of the spec language (for editors and other tools)."""
    from .jsonschema import spec_schema
    from .runners.files import atomic_write_text

    text = json.dumps(spec_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        atomic_write_text(output, text)


def _unexpected(e: Exception, what: str) -> typer.Exit:
    """An error no runner turned into a message: one line, not a traceback (SPECC_DEBUG=1 shows it)."""
    if os.environ.get("SPECC_DEBUG"):
        raise e
    message = " ".join(str(e).split())[:300]
    typer.echo(f"specc: error: {what} failed: {type(e).__name__}{': ' + message if message else ''} "
               f"(SPECC_DEBUG=1 shows where)", err=True)
    return typer.Exit(EXIT_INVALID)


@app.command()
def train(
    spec: Path | None = typer.Argument(None, help="The spec file (not needed with --resume)."),
    run_dir: Path | None = typer.Option(None, "--run-dir", help="Where to write the run (default runs/NAME-TIME)."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Override train.epochs."),
    set_: List[str] = typer.Option([], "--set", help="Override a spec value: KEY=VALUE, e.g. train.batch_size=64."),
    device: str = typer.Option("auto", "--device", help="cpu, gpu or auto."),
    fast: bool = typer.Option(False, "--fast", help="The fast preset: mixed precision and XLA where they measured faster "
                              "(train.fast; see docs/performance.md)."),
    resume: Path | None = typer.Option(None, "--resume", help="Continue an interrupted run directory."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress; only errors and the final summary."),
    as_json: bool = typer.Option(False, "--json", help="Print the final metrics as JSON on stdout."),
    workers: int | None = typer.Option(None, "--workers", help="Train data-parallel on N local worker processes "
                                       "(see docs/distributed.md)."),
):
    """Train the spec's model on its data and write a run directory. Exit 130 when interrupted (resumable)."""
    if device not in ("auto", "cpu", "gpu"):
        raise _usage(f"unknown device '{device}' (choose cpu, gpu or auto)")
    if workers is not None and not 1 <= workers <= 64:  # distribute.MAX_LOCAL_WORKERS
        raise _usage(f"--workers takes a number of worker processes from 1 to 64; got {workers}")
    if resume is not None:
        if spec is not None or set_ or run_dir is not None or fast:
            raise _usage("--resume continues a run as it was configured: give only --resume RUN_DIR (and --epochs)")
        spec_path = resume / "spec.yaml"
        if not spec_path.is_file():
            raise _usage(f"{resume} is not a run directory (no spec.yaml)")
    elif spec is None:
        raise _usage("give a spec file (or --resume RUN_DIR)")
    else:
        spec_path = spec
    assignments = list(set_) + ([f"train.epochs={epochs}"] if epochs is not None else []) + (
        ["train.fast=true"] if fast else [])
    result = _checked(spec_path, assignments)
    if resume is not None:
        from .runners.rundir import already_complete

        done = already_complete(resume, result.spec.train.epochs)
        if done:  # a finished run is left byte for byte as it is
            typer.echo(f"specc: {done}", err=True)
            raise typer.Exit(EXIT_OK)
    _refuse_if_too_big(result)
    # --- multi-worker training (runners/distribute.py, docs/distributed.md) ---
    from .runners import distribute

    try:
        cluster = distribute.cluster_from_env()  # set by a cluster launcher, or by --workers for its workers
        if cluster is not None and workers not in (None, cluster.num_processes):
            raise distribute.DistributeError(f"--workers {workers}, but {cluster.source} in the environment "
                                             f"describes {cluster.num_processes} workers")
        n_workers = cluster.num_processes if cluster is not None else workers or 1
        if resume is not None:
            distribute.check_resumable(resume)
        if n_workers > 1 and resume is not None:
            raise distribute.DistributeError("a multi-worker run cannot be resumed (see docs/distributed.md)")
        if n_workers > 1:
            distribute.check_engine()
        if cluster is None and n_workers > 1:  # one device per local worker
            distribute.check_batch(result.spec.train.batch_size, n_workers, n_workers)
    except distribute.DistributeError as e:
        raise _usage(str(e))
    if cluster is None and n_workers > 1:  # the launcher: start the workers here and wait for them
        from .runners.train import default_run_dir

        target = run_dir if run_dir is not None else default_run_dir(result)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            typer.echo(f"specc: error: run directory {target} already exists and is not empty; choose another "
                       f"with --run-dir", err=True)
            raise typer.Exit(EXIT_INVALID)
        raise typer.Exit(distribute.launch_local(sys.argv[1:], n_workers, target, device))
    # ---
    from .runners import RunError
    from .runners.train import Interrupted, train_run

    try:
        run, metrics = train_run(result, spec, run_dir=run_dir, resume=resume, device=device, cluster=cluster,
                                 quiet=quiet or as_json or (cluster is not None and not cluster.chief))
    except RunError as e:
        typer.echo(f"specc: error: {e}", err=True)
        raise typer.Exit(EXIT_INVALID)
    except Interrupted as e:
        typer.echo(f"specc: {e}", err=True)
        raise typer.Exit(EXIT_INTERRUPTED)
    except Exception as e:
        raise _unexpected(e, "training")
    if cluster is not None and not cluster.chief:  # multi-worker: only the chief reports and keeps the run
        typer.echo(f"worker {cluster.process_id} of {cluster.num_processes}: done; worker 0 wrote the run", err=True)
        return
    if as_json:
        typer.echo(json.dumps({"run_dir": str(run), "metrics": metrics}, indent=2))
        return
    for split in ("train", "validation", "test"):
        if metrics.get(split):
            shown = "  ".join(f"{k} {v:.4f}" for k, v in metrics[split].items())
            typer.echo(f"{split:>10}: {shown}")
    typer.echo(f"run: {run}")


@app.command()
def evaluate(
    run_dir: Path = typer.Argument(..., help="A run directory written by `specc train`."),
    data: Path | None = typer.Option(None, "--data", help="Evaluate on this data file instead of the test split."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Metrics of a trained run on its test split (or on other data)."""
    from .runners import RunError
    from .runners.evaluate import evaluate_run

    try:
        metrics = evaluate_run(run_dir, data=data)
    except RunError as e:
        typer.echo(f"specc: error: {e}", err=True)
        raise typer.Exit(EXIT_INVALID)
    except Exception as e:
        raise _unexpected(e, "evaluation")
    if as_json:
        typer.echo(json.dumps(metrics, indent=2))
    else:
        for k, v in metrics.items():
            typer.echo(f"{k}: {v:.6g}")


@app.command()
def predict(
    run_dir: Path = typer.Argument(..., help="A run directory written by `specc train`."),
    input: Path = typer.Argument(..., help="Inputs: .npz, .npy, .csv or an image file/folder."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write predictions (.npy, .npz: one array per output, or .csv)."),
):
    """Predictions of a trained run for new inputs (class names for classifiers in CSV)."""
    from .runners import RunError
    from .runners.predict import predict_run

    try:
        n = predict_run(run_dir, input, output)
    except RunError as e:
        typer.echo(f"specc: error: {e}", err=True)
        raise typer.Exit(EXIT_INVALID)
    except Exception as e:
        raise _unexpected(e, "prediction")
    typer.echo(f"wrote {output} ({n} predictions)")


@app.command()
def export(
    run_dir: Path = typer.Argument(..., help="A run directory written by `specc train`."),
    format: str = typer.Option(..., "--format", "-f", help="savedmodel, tflite or onnx."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write it (a folder for savedmodel)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing OUT."),
    atol: float | None = typer.Option(None, "--atol", min=0, help="Parity: absolute tolerance (default 1e-4)."),
    rtol: float | None = typer.Option(None, "--rtol", min=0, help="Parity: relative tolerance (default 1e-3)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
):
    """Export a trained run for serving, then check the artifact's predictions against Keras's (parity)."""
    from .runners import RunError
    from .runners.export import FORMATS, ParityError, export_run, report_lines

    if format not in FORMATS:
        raise _usage(f"unknown format '{format}' (choose {', '.join(FORMATS)})")
    if (output.exists() or output.is_symlink()) and not force:
        raise _usage(f"{output} exists (use --force to overwrite)")
    try:
        report = export_run(run_dir, format, output, force=force, atol=atol, rtol=rtol)
    except ParityError as e:
        if as_json:
            typer.echo(json.dumps(e.report.to_json(), indent=2))
        else:
            for line in report_lines(e.report):
                typer.echo(line, err=True)
        typer.echo(f"specc: error: {e}", err=True)
        raise typer.Exit(EXIT_INVALID)
    except RunError as e:
        typer.echo(f"specc: error: {e}", err=True)
        raise typer.Exit(EXIT_INVALID)
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        for line in report_lines(report):
            typer.echo(line)


@app.command(name="import")
def import_(
    model: Path = typer.Argument(..., help="A .keras file, or a JSON config written by model.to_json()."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the spec (.yaml or .yml)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
):
    """Turn a Keras model into a spec (no TensorFlow). Exit 1, writing nothing, if a spec cannot express it."""
    from .importer import ImportFailure, import_model
    from .runners.files import atomic_write_text

    if output.suffix not in (".yaml", ".yml"):
        raise _usage("the output file must end in .yaml or .yml")
    if output.exists() and not force:
        raise _usage(f"{output} exists (use --force to overwrite)")
    try:
        imported = import_model(model, source=str(model))
    except ImportFailure as e:
        typer.echo(f"{model}: error: {e}", err=True)
        raise typer.Exit(EXIT_INVALID)
    if imported.problems:
        for problem in imported.problems:
            typer.echo(f"{model}: error: {problem}", err=True)
        typer.echo(f"{model}: not imported ({len(imported.problems)} error(s)); nothing written", err=True)
        raise typer.Exit(EXIT_INVALID)
    atomic_write_text(output, imported.text)
    result = imported.result
    typer.echo(f"wrote {output} ({len(result.graph.nodes)} layers, {result.params.total:,} params); "
               f"next: specc summary {output}")


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    app()
