"""The `specc` command line. Thin: every command calls into the pipeline.

Heavy modules (keras, tensorflow, numpy, rich) are imported inside the
commands that need them; `specc validate`, `summary`, `schema` and `--help`
never import TensorFlow or Keras (tests/test_imports.py proves it).
"""

from __future__ import annotations

import errno
import glob
import json
import os
import sys
from pathlib import Path
from typing import List

import typer

from .completion import model_files, run_dirs, spec_paths, template_names
from .paths import STDIN
from .version import __version__

app = typer.Typer(
    name="specc",
    help="Declarative YAML model specs for Keras: check, summarize, build, train, evaluate.",
    no_args_is_help=True,
    add_completion=True,
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




def _echo_diagnostics(text: str, err: bool = False) -> None:
    """Diagnostics text, in colour on a terminal (see style.py: NO_COLOR, FORCE_COLOR)."""
    from .style import colour_enabled, diagnostics_ansi

    painted = colour_enabled(sys.stderr if err else sys.stdout)
    typer.echo(diagnostics_ansi(text) if painted else text, err=err, color=painted)


def _print_diagnostics(result, stream=None) -> None:
    from .render import diagnostic_text

    for d in result.diagnostics:
        line = result.doc.source_line(d) if result.doc else None
        _echo_diagnostics(diagnostic_text(d, line), err=stream is sys.stderr)


def _checked(spec, assignments: list[str] = ()):
    """Load and check one spec (after --set overrides) for a command that needs a valid one; exit 1 otherwise."""
    from .api import SpecError, load
    from .overrides import OverrideError

    try:
        return load(sys.stdin, assignments, name="<stdin>") if str(spec) == STDIN else load(spec, assignments)
    except OverrideError as e:
        raise _usage(f"--set {e.assignment}: {e}")
    except SpecError as e:
        _echo_diagnostics(str(e), err=True)
        raise typer.Exit(EXIT_INVALID)


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


@app.command()
def validate(
    ctx: typer.Context,
    paths: List[str] = typer.Argument(..., help="Spec files, folders or globs.", autocompletion=spec_paths),
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
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Processes checking files (0: one per core, for "
                             "many files)."),
):
    """Check specs statically (no TensorFlow). Exit 0 valid, 1 invalid, 2 usage error."""
    _confine(ctx, allow_outside)
    from .batch import Policy, check_files
    from .diagnostics import CODES
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
    if sum(str(f) == STDIN for f in files) > 1:
        raise _usage("standard input (-) can be read once")
    policy = Policy(budget, frozenset(ignore), frozenset(error), confined=not allow_outside)
    results = []
    for r in check_files(files, policy, jobs):
        if format == "text":  # as each file is checked
            for text in r.texts:
                _echo_diagnostics(text)
        results.append(r)
    failed = [r for r in results if r.errors or (strict and r.warnings)]
    report = None
    if format == "json":
        report = json.dumps(validate_json(results, failed), indent=2) + "\n"
    elif format == "sarif":
        report = json.dumps(sarif(results, __version__), indent=2) + "\n"
    elif format == "github":
        for line in github_lines(results):
            typer.echo(line)
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
    spec: Path = typer.Argument(..., help="The spec file.", autocompletion=spec_paths),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    set_: List[str] = typer.Option([], "--set", help="Override a spec value: KEY=VALUE, e.g. vars.width=64."),
    allow_outside: bool = typer.Option(False, "--allow-outside-project", help=OUTSIDE_HELP),
):
    """Every layer's output shape and parameters, and the totals, computed statically."""
    _confine(ctx, allow_outside)
    spec_ = _checked(spec, set_)
    if as_json:
        typer.echo(json.dumps(spec_.summary_data(), indent=2))
        return
    for d in spec_.warnings:
        from .render import diagnostic_text

        _echo_diagnostics(diagnostic_text(d, spec_.result.doc.source_line(d)), err=True)
    _echo_table(spec_.summary())


def _echo_table(text: str) -> None:
    """The summary table, its heading and totals in bold on a terminal."""
    from .style import colour_enabled, paint

    painted = colour_enabled(sys.stdout)
    if painted:
        lines = text.split("\n")
        lines = [paint(line, "head") if i == 1 or line.startswith(("Model:", "Total params:")) else line
                 for i, line in enumerate(lines)]
        text = "\n".join(lines)
    typer.echo(text, color=painted)


@app.command()
def diff(
    ctx: typer.Context,
    a: str = typer.Argument(..., help="The old spec: a path, a run directory (its spec.yaml) or a git revision "
                            "REV:PATH.", autocompletion=spec_paths),
    b: str = typer.Argument(..., help="The new spec: a path, a run directory or a git revision REV:PATH.",
                            autocompletion=spec_paths),
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
    paths: List[str] = typer.Argument(..., help="Spec files, folders or globs.", autocompletion=spec_paths),
    check: bool = typer.Option(False, "--check", help="Only report files that are not formatted (exit 1)."),
    allow_outside: bool = typer.Option(False, "--allow-outside-project", help=OUTSIDE_HELP),
):
    """Rewrite specs in the canonical layout, keeping comments. Exit 1 with --check if any would change."""
    _confine(ctx, allow_outside)
    from .fmt import FormatError, format_file_text
    from .runners.files import atomic_write_text

    if STDIN in paths:
        if len(paths) > 1:
            raise _usage("standard input (-) is formatted on its own, not with files")
        raise typer.Exit(_fmt_stdin(check))
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

            _echo_diagnostics("\n".join(diagnostic_text(d) for d in diagnostics), err=True)
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


def _fmt_stdin(check: bool) -> int:
    """`specc fmt -`: the formatted spec on standard output (with --check, only whether it would change)."""
    from .fmt import FormatError, format_file_text
    from .loader import MAX_BYTES, decode
    from .render import diagnostic_text

    text, diagnostics = decode(sys.stdin.buffer.read(MAX_BYTES + 1), "<stdin>")
    new = None
    if text is not None:
        try:
            new, diagnostics = format_file_text(text, "<stdin>")
        except FormatError as e:
            typer.echo(f"<stdin>: error: {e}", err=True)
            return EXIT_INVALID
    if new is None:
        _echo_diagnostics("\n".join(diagnostic_text(d) for d in diagnostics), err=True)
        typer.echo("<stdin>: not formatted: the spec is invalid", err=True)
        return EXIT_INVALID
    if check:
        if new != text:
            typer.echo("would reformat <stdin>")
        return EXIT_INVALID if new != text else EXIT_OK
    typer.echo(new, nl=False)
    return EXIT_OK


@app.command()
def plot(
    ctx: typer.Context,
    spec: Path = typer.Argument(..., help="The spec file.", autocompletion=spec_paths),
    output: Path = typer.Option(..., "--output", "-o", help="Diagram file: .mmd/.md (Mermaid), .svg or .png."),
    allow_outside: bool = typer.Option(False, "--allow-outside-project", help=OUTSIDE_HELP),
):
    """Draw the architecture (no TensorFlow, no Graphviz needed)."""
    _confine(ctx, allow_outside)
    from .plot import PlotError

    spec_ = _checked(spec)
    try:
        spec_.plot(output)
    except PlotError as e:
        raise _usage(str(e))
    typer.echo(f"wrote {output}")


@app.command()
def init(
    template: str | None = typer.Argument(None, help="Template name (see --list).", autocompletion=template_names),
    output: Path | None = typer.Option(None, "--output", "-o", help="Where to write the spec (with specc.schema.json "
                                        "beside it, for editors: docs/editors.md)."),
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
    from .jsonschema import with_modeline
    from .runners.files import atomic_write_bytes, atomic_write_text, output_folder

    extra = [output.parent / rel for rel in EXTRA_FILES.get(template, [])]
    for path in [output, *extra]:  # every path can be written, before any is
        output_folder(path)
        if path.exists() and not force:
            raise _usage(f"{path} exists (use --force to overwrite)")

    for rel, path in zip(EXTRA_FILES.get(template, []), extra):
        atomic_write_bytes(path, template_file(rel))
        typer.echo(f"wrote {path}")
    _write_schema_beside(output, force)
    atomic_write_text(output, with_modeline(template_text(template)))
    typer.echo(f"wrote {output}; next: specc summary {output}")


def _write_schema_beside(spec: Path, force: bool) -> None:
    """The JSON Schema that the spec's modeline names, beside it (kept if there, unless --force)."""
    from .jsonschema import SCHEMA_FILE, schema_text
    from .runners.files import atomic_write_text

    path = spec.parent / SCHEMA_FILE
    if path.exists() and not force:
        return
    atomic_write_text(path, schema_text())
    typer.echo(f"wrote {path} (the spec language's JSON Schema, for editors: see docs/editors.md)")


@app.command()
def build(
    spec: Path = typer.Argument(..., help="The spec file.", autocompletion=spec_paths),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the model (.keras)."),
    set_: List[str] = typer.Option([], "--set", help="Override a spec value: KEY=VALUE, e.g. vars.width=64."),
):
    """Compile the spec to an untrained Keras model; it loads with plain keras.saving.load_model."""
    if output.suffix != ".keras":
        raise _usage("the output file must end in .keras")
    spec_ = _checked(spec, set_)
    from .runners import RunError
    from .runners.files import atomic_keras_save

    try:
        model = spec_.build()
    except RunError as e:
        typer.echo(f"specc: error: {e}", err=True)
        raise typer.Exit(EXIT_INVALID)
    atomic_keras_save(model, output)
    typer.echo(f"wrote {output} ({model.count_params():,} params)")


@app.command()
def schema(output: Path | None = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout "
                                              "(- is stdout).")):
    """The JSON Schema of the spec language (for editors and other tools)."""
    from .jsonschema import schema_text
    from .runners.files import atomic_write_text

    text = schema_text()
    if output is None or str(output) == "-":
        typer.echo(text, nl=False)
    else:
        atomic_write_text(output, text)


def _unexpected(e: Exception, what: str) -> typer.Exit:
    """An error no runner turned into a message: one line, not a traceback (SPECC_DEBUG=1 shows it)."""
    from .runners.files import OutputError

    if os.environ.get("SPECC_DEBUG") or isinstance(e, OutputError):  # OutputError: said by main in one line
        raise e
    message = " ".join(str(e).split())[:300]
    typer.echo(f"specc: error: {what} failed: {type(e).__name__}{': ' + message if message else ''} "
               f"(SPECC_DEBUG=1 shows where)", err=True)
    return typer.Exit(EXIT_INVALID)


def _track_option(track: str | None, resume: Path | None) -> list[str]:
    """`--track mlflow` is `--set track.type=mlflow`."""
    if track not in (None, "mlflow"):
        raise _usage(f"unknown tracker '{track}' (choose mlflow)")
    if track is not None and resume is not None:
        raise _usage("--resume continues a run as it was configured (its spec's track: section)")
    return [f"track.type={track}"] if track else []


def _require_tracker(result) -> None:
    """A spec with `track:` needs the mlflow extra: say so before anything trains."""
    if result.spec.track is not None:
        from .runners import RunError
        from .runners.tracking import require_mlflow

        try:
            require_mlflow()
        except RunError as e:
            raise _usage(str(e))


def _trainable(spec_path: Path, assignments: list[str], resume: Path | None):
    """The checked spec of `specc train`: valid, not finished already (--resume), small enough to allocate,
    and its tracker installed."""
    from .api import RunError, check_size

    result = _checked(spec_path, assignments).result
    if resume is not None:
        from .runners.rundir import already_complete

        done = already_complete(resume, result.spec.train.epochs)
        if done:  # a finished run is left byte for byte as it is
            typer.echo(f"specc: {done}", err=True)
            raise typer.Exit(EXIT_OK)
    try:
        check_size(result)
    except RunError as e:
        typer.echo(f"specc: error: {e}", err=True)
        raise typer.Exit(EXIT_INVALID)
    _require_tracker(result)
    return result


def _workers(result, workers: int | None, resume: Path | None):
    """(cluster, number of workers) of a multi-worker run (runners/distribute.py, docs/distributed.md): the
    cluster this process joins (set by a cluster launcher, or by --workers for its workers), or None."""
    from .runners import distribute

    try:
        cluster = distribute.cluster_from_env()
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
    return cluster, n_workers


@app.command()
def train(
    spec: Path | None = typer.Argument(None, help="The spec file (not needed with --resume).",
                                     autocompletion=spec_paths),
    run_dir: Path | None = typer.Option(None, "--run-dir", help="Where to write the run (default runs/NAME-TIME)."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Override train.epochs."),
    set_: List[str] = typer.Option([], "--set", help="Override a spec value: KEY=VALUE, e.g. train.batch_size=64."),
    device: str = typer.Option("auto", "--device", help="cpu, gpu or auto."),
    fast: bool = typer.Option(False, "--fast", help="The fast preset: mixed precision and XLA where they measured faster "
                              "(train.fast; see docs/performance.md)."),
    resume: Path | None = typer.Option(None, "--resume", help="Continue an interrupted run directory.",
                                       autocompletion=run_dirs),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress; only errors and the final summary."),
    as_json: bool = typer.Option(False, "--json", help="Print the final metrics as JSON on stdout."),
    workers: int | None = typer.Option(None, "--workers", help="Train data-parallel on N local worker processes "
                                       "(see docs/distributed.md)."),
    track: str | None = typer.Option(None, "--track", help="Also log the run to a tracking server: mlflow (the "
                                     "spec's track: section, or MLFLOW_TRACKING_URI; see docs/runs.md)."),
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
        ["train.fast=true"] if fast else []) + _track_option(track, resume)
    from .api import RunError

    result = _trainable(spec_path, assignments, resume)
    _note_search(result, spec_path, resume is not None or quiet or as_json)
    cluster, n_workers = _workers(result, workers, resume)
    if cluster is None and n_workers > 1:  # the launcher: start the workers here and wait for them
        from .runners import distribute
        from .runners.train import default_run_dir

        target = run_dir if run_dir is not None else default_run_dir(result)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            typer.echo(f"specc: error: run directory {target} already exists and is not empty; choose another "
                       f"with --run-dir", err=True)
            raise typer.Exit(EXIT_INVALID)
        raise typer.Exit(distribute.launch_local(sys.argv[1:], n_workers, target, device))
    # ---
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


def _note_search(result, spec_path: Path, silent: bool) -> None:
    """`specc train` on a spec with a search: section trains its written values, and says so."""
    if result.spec.search is not None and not silent:
        typer.echo(f"note: {spec_path} has a `search:` section; this trains the values written in the spec "
                   f"(`specc tune {spec_path}` runs the search)", err=True)


@app.command()
def tune(
    spec: Path | None = typer.Argument(None, help="A spec with a `search:` section (not needed with --resume).",
                                     autocompletion=spec_paths),
    trials: int | None = typer.Option(None, "--trials", min=1, help="How many trials (default: search.trials, "
                                      "or every point of a grid)."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, max=64, help="Local worker processes sharing the study."),
    storage: str | None = typer.Option(None, "--storage", help="Study storage: a database URL (postgresql://...) "
                                       "shared by several machines, or journal:FILE (default: in the sweep dir)."),
    study: str | None = typer.Option(None, "--study", help="The study's name (default: the spec's name)."),
    sweep_dir: Path | None = typer.Option(None, "--sweep-dir", help="Where to write the sweep (default "
                                          "sweeps/NAME-TIME)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the points (or the space) with parameter counts "
                                 "and verdicts; train nothing (no TensorFlow)."),
    resume: Path | None = typer.Option(None, "--resume", help="Continue an interrupted sweep directory."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No table: only errors and the sweep directory."),
    worker: Path | None = typer.Option(None, "--worker", hidden=True, help="Run as one worker of a sweep."),
):
    """Search the spec's `search:` space with Optuna: every point checked, every trial a run directory.
    Exit 0 done, 1 invalid spec, 2 usage (storage, study, sweep directory), 130 interrupted (resumable)."""
    from .runners import RunError
    from .runners import tune as tuning

    try:
        if worker is not None:
            raise typer.Exit(_tune_worker(worker))
        if resume is not None:
            if spec is not None or storage or study or sweep_dir is not None or dry_run:
                raise _usage("--resume continues a sweep as it was asked for: give only --resume DIR "
                             "(and --trials, --jobs)")
            sweep = _resumable(resume, trials)
        else:
            if spec is None:
                raise _usage("give a spec with a `search:` section (or --resume SWEEP_DIR)")
            result = _checked_search(spec)
            if dry_run:
                _dry_run(result, trials)
                return
            from datetime import datetime

            from .render import model_name

            target = sweep_dir or Path("sweeps") / f"{model_name(result)}-{datetime.now():%Y%m%d-%H%M%S}"
            sweep = tuning.new_sweep(spec, result, target, trials, storage, study)
        code, _ = tuning.run_sweep(sweep, jobs=jobs, quiet=quiet, resume=resume is not None)
    except (tuning.TuneError, RunError) as e:  # RunError: track: without the mlflow extra
        raise _usage(str(e))
    raise typer.Exit(code)


def _tune_worker(sweep_dir: Path) -> int:
    from .runners import tune as tuning
    from .runners.train import Interrupted

    sweep = tuning.load_sweep(sweep_dir)
    sweep.shared = True
    with tuning.Stop() as stop:
        try:
            tuning.run_worker(sweep, stop)
        except Interrupted:
            return EXIT_INTERRUPTED
    return EXIT_INTERRUPTED if stop else EXIT_OK


def _resumable(sweep_dir: Path, trials: int | None):
    """A sweep to continue: its spec unchanged, no coordinator of it alive."""
    from .runners import tune as tuning

    sweep = tuning.load_sweep(sweep_dir, trials)
    if sweep.info.get("status") == "running" and tuning.coordinator_alive(sweep.info):
        raise tuning.TuneError(f"{sweep_dir} is being run by process {sweep.info.get('pid')}; wait for it or stop it")
    if sweep.spec_file.is_file():
        change = tuning.spec_change(sweep.text, sweep.spec_file.read_text(encoding="utf-8"),
                                    f"{sweep_dir}/spec.yaml", str(sweep.spec_file))
        if change is not None:
            raise tuning.TuneError(f"{sweep.spec_file} changed since this sweep started; the difference:\n{change}\n"
                                   f"to search the changed spec, start a new study: specc tune {sweep.spec_file} "
                                   f"--sweep-dir NEW_DIR")
    sweep.write_info(status="running", pid=os.getpid(), trials=sweep.trials)
    return sweep


def _checked_search(spec: Path):
    """The spec, checked (exit 1), with a search space to run (exit 2 without one). Points of the space that
    fail the check (E502) do not stop the sweep: they are recorded `invalid` and never train."""
    from .check import check_document
    from .loader import load_file
    from .runners.tune import blocking_errors

    doc, errors = load_file(spec)
    search = doc.data.get("search") if doc is not None and isinstance(doc.data, dict) else None
    if doc is not None and isinstance(doc.data, dict) and (not isinstance(search, dict) or not search.get("space")):
        what = "no `search:` section" if search is None else "an empty search space"
        raise _usage(f"{spec} has {what}: nothing to tune (see docs/tuning.md)")
    if doc is None:
        return _checked(spec).result  # exits: the file cannot be read
    result = check_document(doc, errors)
    blocking = blocking_errors(result)
    if blocking:
        result.diagnostics = blocking
        _print_diagnostics(result, sys.stderr)
        typer.echo(f"{spec}: {len(blocking)} error(s)", err=True)
        raise typer.Exit(EXIT_INVALID)
    from .render import diagnostic_text

    for d in result.diagnostics:  # failing points and warnings: said, then recorded as the sweep reaches them
        typer.echo(diagnostic_text(d, result.doc.source_line(d)), err=True)
    result.diagnostics = []
    return result


def _dry_run(result, trials: int | None) -> None:
    """The space, and each checked point's parameters and verdict, without TensorFlow."""
    from .analysis.search import MAX_CHECKED_POINTS, check_point, count_points, label, points, probe_values
    from .check import check_document
    from .runners.tune import target_trials

    search = result.spec.search
    objective = search.objective
    values = probe_values(search)
    total = count_points(values)
    typer.echo(f"{result.spec.name or result.file}: sampler {search.sampler.type}, pruner {search.pruner.type}, "
               f"objective {objective.metric} ({objective.resolved_direction}), "
               f"{target_trials(search, trials)} trial(s)")
    typer.echo("space:")
    for key, param in search.space.items():
        if param.type == "categorical":
            shown = "[" + ", ".join(label(c) for c in param.choices) + "]"
        else:
            shown = f"{param.low}..{param.high}" + (f" step {param.step}" if param.step not in (None, 1) else "") + (
                " (log)" if param.log else "")
        typer.echo(f"  {key}: {param.type} {shown}")
    what = "grid points" if search.sampler.type == "grid" else "points checked (choices and range ends)"
    typer.echo(f"{what}: {min(total, MAX_CHECKED_POINTS)} of {total}")
    keys = list(values)
    for i, values_ in enumerate(points(values, MAX_CHECKED_POINTS)):
        point = check_point(result.source, values_, check_document, result.budget)
        verdict = "ok" if point.ok else f"invalid: {point.errors[0].code} {point.errors[0].message}"
        params = f"{point.params:,} params" if point.params is not None else "? params"
        typer.echo(f"  {i:>4}  " + "  ".join(f"{k}={label(values_[k])}" for k in keys) + f"  {params}  {verdict}")


@app.command()
def evaluate(
    run_dir: Path = typer.Argument(..., help="A run directory written by `specc train`.", autocompletion=run_dirs),
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
    run_dir: Path = typer.Argument(..., help="A run directory written by `specc train`.", autocompletion=run_dirs),
    input: Path = typer.Argument(..., help="Inputs: .npz, .npy, .csv or an image file/folder."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write predictions (.npy, .npz: one array per output, or .csv)."),
):
    """Predictions of a trained run for new inputs (class names for classifiers in CSV)."""
    from .runners import RunError
    from .runners.predict import predict_run

    if output.exists() and input.exists() and output.resolve() == input.resolve():
        raise _usage(f"{output} is the input: write the predictions to another file")
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
    run_dir: Path = typer.Argument(..., help="A run directory written by `specc train`.", autocompletion=run_dirs),
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
    model: Path = typer.Argument(..., help="A .keras file, or a JSON config written by model.to_json().",
                             autocompletion=model_files),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the spec (.yaml or .yml)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
):
    """Turn a Keras model into a spec (no TensorFlow). Exit 1, writing nothing, if a spec cannot express it."""
    from .importer import ImportFailure
    from .importing import import_model
    from .runners.files import atomic_write_text, output_folder

    if output.suffix not in (".yaml", ".yml"):
        raise _usage("the output file must end in .yaml or .yml")
    output_folder(output)  # before anything is written beside it
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
    from .jsonschema import with_modeline

    _write_schema_beside(output, force)
    atomic_write_text(output, with_modeline(imported.text))
    result = imported.result
    typer.echo(f"wrote {output} ({len(result.graph.nodes)} layers, {result.params.total:,} params); "
               f"next: specc summary {output}")


@app.command()
def runs(
    paths: List[Path] = typer.Argument(None, help="Run or sweep directories, or folders holding them (default: runs/).",
                                       autocompletion=run_dirs),
    sort: str | None = typer.Option(None, "--sort", help="Sort by a column or metric (accuracy = test_accuracy; "
                                    "metrics best first, started newest first)."),
    reverse: bool = typer.Option(False, "--reverse", help="Reverse the order."),
    status: List[str] = typer.Option([], "--status", help="Only runs with this status (repeatable): completed, "
                                     "running, interrupted, stopped, pruned, invalid, failed, broken."),
    format: str = typer.Option("text", "--format", "-f", help="text, json, markdown or csv."),
):
    """A table of runs: status, time, epochs, parameters, test metrics and the spec values that differ."""
    from . import runs as R

    if format not in ("text", "json", "markdown", "csv"):
        raise _usage(f"unknown format '{format}' (choose text, json, markdown or csv)")
    for s in status:
        if s not in R.STATUSES:
            from .diagnostics import did_you_mean

            hint = did_you_mean(s, R.STATUSES)
            raise _usage(f"unknown status '{s}'" + (f"; {hint}" if hint else "") + f" (choose {', '.join(R.STATUSES)})")
    for path in paths or []:
        if not path.is_dir():
            raise _usage(f"{path}: {'not a folder' if path.exists() else 'no such folder'}")
    found, notes = R.find_runs(paths or [Path("runs")])
    if status:
        found = [run for run in found if run.short_status in status]
    columns, rows = R.table(found)
    if sort is not None:
        key = R.sort_key(sort, columns)
        if key is None and rows:
            raise _usage(f"--sort {sort}: no such column (columns: {', '.join(columns)})")
        rows = R.sort_rows(rows, key, reverse) if key else rows
    else:
        rows = R.sort_rows(rows, "started", reverse=not reverse)  # oldest first: the newest is nearest the prompt
    notes += R.run_notes(found)
    if format == "json":
        typer.echo(json.dumps(R.as_json(columns, rows, found, notes), indent=2))
        return
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    if not rows:
        typer.echo("no runs", err=True)
        return
    text = {"text": R.as_text, "markdown": R.as_markdown, "csv": R.as_csv}[format](columns, rows)
    typer.echo(text, nl=False)


def _run_dirs(paths: list[Path]) -> list:
    """Read run directories named on the command line; exit 2 for one that is not a run."""
    from .runs import RUN_FILE, read_run

    found = []
    for path in paths:
        if not (path / RUN_FILE).is_file():
            raise _usage(f"{path} is not a run directory (no {RUN_FILE})")
        run = read_run(path)
        if not run.info:
            raise _usage(f"{path}: {run.notes[0]}")
        found.append(run)
    return found


@app.command()
def compare(
    runs: List[Path] = typer.Argument(..., help="Two or more run directories; each is compared with the first.",
                                      autocompletion=run_dirs),
    output: Path | None = typer.Option(None, "--output", "-o", help="Also draw the learning curves of all runs, "
                                       "overlaid, into this PNG."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """What differs between runs: spec, data, environment, and the results with their deltas."""
    from . import compare as C

    if len(runs) < 2:
        raise _usage("give two or more run directories")
    if output is not None and output.suffix.lower() != ".png":
        raise _usage("the curves file must end in .png")
    found = _run_dirs(runs)
    comparison = C.compare(found)
    typer.echo(json.dumps(C.as_json(comparison), indent=2) if as_json else C.as_text(comparison), nl=False)
    if as_json:
        typer.echo()
    if output is not None:
        from .runners.files import atomic_write_bytes
        from .runners.plots import overlaid_curves

        png = overlaid_curves({label: run.history() for label, run in zip(comparison.labels, found)})
        if png is None:
            typer.echo("specc: no learning curves to draw (no history.json)", err=True)
        else:
            atomic_write_bytes(output, png)
            typer.echo(f"wrote {output}", err=True)


@app.command()
def report(
    path: Path = typer.Argument(..., help="A run directory (specc train) or a sweep directory (specc tune).",
                              autocompletion=run_dirs),
    output: Path = typer.Option(..., "--output", "-o", help="The HTML file to write."),
):
    """One self-contained HTML page of a run or a sweep, to read offline, mail or attach to a CI job."""
    from .report import ReportError, write_report

    if output.suffix.lower() not in (".html", ".htm"):
        raise _usage("the report file must end in .html")
    try:
        write_report(path, output)
    except ReportError as err:
        raise _usage(str(err))
    typer.echo(f"wrote {output}")


@app.command()
def track(
    path: Path = typer.Argument(..., help="A run directory, or a sweep directory (a parent run, a nested run per trial).",
                              autocompletion=run_dirs),
    uri: str | None = typer.Option(None, "--uri", help="Tracking URI (default: the spec's track.uri, then "
                                   "MLFLOW_TRACKING_URI, then MLflow's default)."),
    experiment: str | None = typer.Option(None, "--experiment", help="Experiment (default: track.experiment, then "
                                          "the spec's name)."),
):
    """Log a finished run (or sweep) to MLflow from its directory: params, every epoch, test metrics, files."""
    from .runners import RunError
    from .runners.tracking import log_directory

    try:
        logs = log_directory(path, uri=uri, experiment=experiment)
    except RunError as e:
        raise _usage(str(e))
    raise typer.Exit(EXIT_INVALID if any(log.problems for log in logs) else EXIT_OK)


def main() -> None:
    from .runners.backend import claim_process
    from .runners.files import OutputError

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    claim_process()  # one command, then exit: Keras's import makes no full garbage collection
    try:
        app(prog_name="specc")
    except OutputError as e:  # an output path that is a folder or lies under a file, from any command
        typer.echo(f"specc: error: {e}", err=True)
        raise SystemExit(EXIT_USAGE)
    except OSError as e:  # a path given on the command line that no file system takes, wherever it is first used
        if e.errno != errno.ENAMETOOLONG:
            raise
        typer.echo(f"specc: error: {e.filename}: {e.strerror}", err=True)
        raise SystemExit(EXIT_USAGE)
    finally:
        # Everything is written and closed by now. Exiting, the interpreter would run the garbage collector over
        # every object TensorFlow and Keras made, for a second or more after a training run, to free memory
        # the process is about to hand back anyway: freezing the heap leaves that work undone. (Threads are
        # still joined and atexit handlers still run, as in any exit.)
        import gc

        gc.freeze()
