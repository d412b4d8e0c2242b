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


def test_python_examples_in_the_docs_run(tmp_path):
    """The ```python blocks of docs/python.md, in order, as one script (the reader's session), in a fresh
    interpreter, in a folder that has the repository's specs/."""
    import os

    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "python.md").read_text(), re.S)
    assert len(blocks) >= 4
    (tmp_path / "specs").symlink_to(ROOT / "specs")
    script = tmp_path / "example.py"
    script.write_text("\n".join(blocks))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    assert "E102 3 26 units must be greater than 0. Received: 0" in out.stdout
    assert "{'total': 4810, 'trainable': 4810, 'non_trainable': 0}" in out.stdout
    assert "(1, 10)" in out.stdout and "\n41\n" in out.stdout
    assert (tmp_path / "digits_mlp.svg").is_file() and (tmp_path / "runs" / "digits" / "model.keras").is_file()


def test_shell_and_editor_commands_in_the_docs_run(tmp_path):
    """docs/editors.md's commands, block by block, in a real bash, in a folder with the repository's specs/ and a
    home of its own (for --install-completion), plus the schema refresh its prose names."""
    import os

    from conftest import env_with_specc_on_path

    env = env_with_specc_on_path(tmp_path)
    env.pop("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION")  # --install-completion finds the shell itself
    env.update(HOME=str(tmp_path), SHELL="/bin/bash")
    env = {k: v for k, v in env.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    (tmp_path / "specs").symlink_to(ROOT / "specs")
    text = (ROOT / "docs" / "editors.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    assert "specc schema -o specc.schema.json" in text
    blocks.append("specc schema -o specc.schema.json\n")
    for block in blocks:
        out = subprocess.run(["bash", "-e", "-c", block + "true\n"], capture_output=True, text=True, cwd=tmp_path,
                             env=env, timeout=300)
        assert out.returncode == 0, block + out.stdout + out.stderr
    installed = tmp_path / ".bash_completions" / "specc.sh"
    assert f"source '{installed}'" in (tmp_path / ".bashrc").read_text()
    assert "_SPECC_COMPLETE=complete_bash" in installed.read_text()
    assert (tmp_path / "digits.svg").is_file() and (tmp_path / "cnn.yaml").is_file()
    assert os.path.getsize(tmp_path / "specc.schema.json") == (ROOT / "docs" / "specc.schema.json").stat().st_size


@pytest.mark.slow  # reads real runs (trained once per test process)
@pytest.mark.parametrize("line", list(_commands("runs", "compare", "report", "track")))
def test_run_commands_in_the_docs_run(line, tiny_runs, tmp_path):
    """`specc runs/compare/report/track` lines run in a folder whose runs/NAME directories (the names the docs
    use) are real runs; files they write go there too, and `track` logs to a local store there."""
    import re
    import shlex
    import shutil

    args = shlex.split(line)[1:]
    names = sorted({m for a in args for m in re.findall(r"^runs/([^/]+)$", a)})
    for i, name in enumerate(names):
        shutil.copytree(tiny_runs["ab"[i % 2]], tmp_path / "runs" / name)
    if not names:  # `specc runs` on the default folder
        for name in "ab":
            shutil.copytree(tiny_runs[name], tmp_path / "runs" / name)
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    if "-o" in args:
        assert (tmp_path / args[args.index("-o") + 1]).stat().st_size > 1000
