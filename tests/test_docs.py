"""Docs stay true: generated references are fresh, and the specs and commands shown in them work."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from specc.check import check_text

DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


def test_generated_references_are_fresh():
    out = subprocess.run([sys.executable, "-m", "specc.docgen", "--check"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout


def test_reference_lists_every_layer_kind_and_code():
    from specc.diagnostics import CODES
    from specc.layers import REGISTRY

    reference = (ROOT / "docs" / "spec-reference.md").read_text()
    errors = (ROOT / "docs" / "errors.md").read_text()
    for name in REGISTRY:
        assert f"#### {name}\n" in reference
    for code in CODES:
        assert f"`{code}`" in errors


def test_gallery_shows_every_example():
    from conftest import SPECS

    gallery = (ROOT / "docs" / "gallery.md").read_text()
    for path in SPECS:
        assert f"specc train specs/{path.name}" in gallery
    assert gallery.count("```mermaid") == len(SPECS)


def test_templates_table_lists_what_init_lists():
    listed = run_cli("init", "--list")
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    assert "fine-tuning" in names
    page = (ROOT / "docs" / "diagrams-and-templates.md").read_text()
    rows = re.findall(r"^\| `([\w-]+)` \|", page, re.M)
    assert rows == names


def test_generated_sections_are_rewritten_and_their_markers_required():
    from specc.docgen import fill_sections

    begin = "<!-- generated: t by `python -m specc.docgen`; do not edit by hand -->\n"
    page = f"intro\n{begin}stale row\n<!-- end generated: t -->\noutro\n"
    assert fill_sections(page, {"t": lambda: "fresh row\n"}) == \
        f"intro\n{begin}fresh row\n<!-- end generated: t -->\noutro\n"
    with pytest.raises(SystemExit, match="'t' are missing"):
        fill_sections("intro\n| stale row |\n", {"t": lambda: "fresh row\n"})


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S).group(1).strip().splitlines()
    assert text.index("```sh") < 20, "the README begins with the commands"
    assert len(block) == 2
    assert "specc train specs/digits_mlp.yaml" in block[0]
    assert "pytest" in block[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert block[1] in ci.splitlines()


def _whole_specs():
    """YAML blocks that are whole specs (fragments such as a lone `data:` section are not)."""
    found = []
    for path in DOCS:
        for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", path.read_text(), re.S)):
            if block.startswith("specc:"):
                found.append(pytest.param(block, id=f"{path.name}-{i}"))
    assert len(found) >= 4
    return found


@pytest.mark.parametrize("block", _whole_specs())
def test_every_spec_in_the_docs_is_valid(block):
    result = check_text(block)
    assert result.ok, [d.message for d in result.errors]


def _static_commands():
    for path in DOCS:
        for block in re.findall(r"```sh\n(.*?)```", path.read_text(), re.S):
            for line in block.strip().splitlines():
                if re.match(r"specc (validate|summary|schema)\b", line):
                    yield pytest.param(line, id=line)


@pytest.mark.parametrize("line", list(_static_commands()))
def test_static_commands_in_the_docs_run(line):
    out = run_cli(*line.split()[1:])
    assert out.returncode == 0, out.stdout + out.stderr


def _commands(*names):
    """`specc NAME ...` lines of the docs, except those about the reader's own files (a spec written by
    an earlier `specc init` line, a run directory of the reader's)."""
    import shlex

    for path in DOCS:
        for block in re.findall(r"```sh\n(.*?)```", path.read_text(), re.S):
            for line in block.strip().splitlines():
                line = line.split("  #")[0].strip()
                if not re.match(rf"specc ({'|'.join(names)})\b", line):
                    continue
                words = shlex.split(line)
                specs = [w for i, w in enumerate(words) if w.endswith(".yaml") and words[i - 1] != "-o"]
                if all((ROOT / spec).exists() for spec in specs):
                    yield pytest.param(line, id=f"{path.name}: {line}")


@pytest.mark.parametrize("line", list(_commands("plot", "init", "fmt")))
def test_plot_init_and_fmt_commands_in_the_docs_run(line, tmp_path):
    """Static commands that write files run with their output redirected to a temporary folder."""
    import shlex

    args = shlex.split(line)[1:]
    if "-o" in args:
        i = args.index("-o") + 1
        args[i] = str(tmp_path / Path(args[i]).name)
    out = run_cli(*args)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("line", list(_commands("train")))
def test_train_commands_in_the_docs_are_valid(line):
    """Every `specc train` line in the docs names a real spec, and its overrides give a valid spec
    (training itself is covered by tests/test_specs.py and tests/test_train.py)."""
    import shlex

    from specc.check import check_file

    args = shlex.split(line)[2:]
    spec = args[0]
    assignments = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    if "--epochs" in args:
        assignments.append(f"train.epochs={args[args.index('--epochs') + 1]}")
    result = check_file(ROOT / spec, overrides=assignments)
    assert result.ok, [d.message for d in result.errors]
