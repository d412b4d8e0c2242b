"""`extends: base.yaml` (specc/extends.py): merging, locations in the base file, the project fence, loops and
chains, and what fmt, diff, summary, --set and the Python API make of it."""

import json

import pytest
from conftest import run_cli

import specc
from specc.check import check_file
from specc.extends import MAX_CHAIN

BASE = """\
specc: 1
name: base
vars: {width: 16}
layers:
  - {type: Dense, units: '${width}', activation: relu, input_dim: 4}
  - {type: Dense, units: 3, activation: softmax}
compile:
  optimizer: {type: Adam, learning_rate: 0.01}
  loss: categorical_crossentropy
  metrics: [accuracy]
train:
  epochs: 20
  batch_size: 32
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "base.yaml").write_text(BASE)
    return tmp_path


def _write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_maps_merge_and_everything_else_replaces(project):
    wide = _write(project, "wide.yaml", "extends: base.yaml\nname: wide\nvars: {width: 64}\ntrain: {epochs: 5}\n")
    result = check_file(wide)
    assert result.ok, [d.message for d in result.errors]
    spec = result.spec
    assert spec.name == "wide"
    assert (spec.train.epochs, spec.train.batch_size) == (5, 32)  # train merged key by key
    assert spec.compile.optimizer.learning_rate == 0.01  # untouched sections inherited whole
    assert result.params.total == (4 * 64 + 64) + (64 * 3 + 3)  # vars merged: the variant's width
    deeper = _write(project, "deeper.yaml", "extends: base.yaml\nlayers:\n  - {type: Dense, units: 2, input_dim: 4}\n"
                                            "  - {type: Dense, units: 3, activation: softmax}\ncompile: {metrics: []}\n")
    result = check_file(deeper)
    assert result.ok, [d.message for d in result.errors]
    assert len(result.spec.layers) == 2 and result.params.total == (4 * 2 + 2) + (2 * 3 + 3)  # the list replaced
    assert result.spec.compile.metrics == [] and result.spec.compile.loss.canonical == "categorical_crossentropy"


def test_a_mistake_in_an_inherited_value_points_into_the_base_file(project):
    (project / "base.yaml").write_text(BASE.replace("units: 3", "units: 0"))
    child = _write(project, "child.yaml", "extends: base.yaml\ntrain: {epochs: 0}\n")
    result = check_file(child)
    assert sorted(d.file for d in result.errors) == sorted([str(project / "base.yaml"), str(child)])
    base_error = next(d for d in result.errors if d.file == str(project / "base.yaml"))
    assert (base_error.line, base_error.column) == (6, 26) and "units" in base_error.message
    child_error = next(d for d in result.errors if d.file == str(child))
    assert child_error.line == 2 and "epochs" in (child_error.path or "")
    assert result.doc.source_line(base_error).startswith("  - {type: Dense, units: 0")


def test_the_cli_shows_the_base_files_line(project):
    (project / "base.yaml").write_text(BASE.replace("units: 3", "units: 0"))
    _write(project, "child.yaml", "extends: base.yaml\n")
    out = run_cli("validate", "child.yaml", cwd=project)
    assert out.returncode == 1
    assert "base.yaml:6:26: error[E102]" in out.stdout and " 6 |   - {type: Dense, units: 0" in out.stdout


def test_chains_loops_and_the_project_fence(project):
    _write(project, "a.yaml", "extends: base.yaml\nname: a\n")
    _write(project, "sub/b.yaml", "extends: ../a.yaml\ntrain: {epochs: 2}\n")
    result = check_file(project / "sub" / "b.yaml")
    assert result.ok and result.spec.name == "a" and result.spec.train.epochs == 2
    _write(project, "x.yaml", "extends: y.yaml\n")
    _write(project, "y.yaml", "extends: x.yaml\n")
    loop = check_file(project / "x.yaml")
    assert [d.code for d in loop.errors] == ["E062"] and "x.yaml -> y.yaml -> x.yaml" in loop.errors[0].message
    self_loop = _write(project, "self.yaml", "extends: self.yaml\n")
    assert [d.code for d in check_file(self_loop).errors] == ["E062"]
    (project.parent / "outside.yaml").write_text(BASE)
    for rel in ("../outside.yaml", "/etc/passwd", "~/base.yaml"):
        out = check_file(_write(project, "o.yaml", f"extends: {json.dumps(rel)}\n"))
        assert [d.code for d in out.errors] == ["E061"], rel
        assert out.errors[0].line == 1
    missing = check_file(_write(project, "m.yaml", "extends: nowhere.yaml\n"))
    assert [d.code for d in missing.errors] == ["E060"] and "no such file" in missing.errors[0].message
    for bad in ("extends: 3\n", "extends: ''\n", "extends: [base.yaml]\n"):
        assert [d.code for d in check_file(_write(project, "bad.yaml", bad)).errors] == ["E060"], bad


def test_a_long_chain_is_refused(project):
    for i in range(MAX_CHAIN + 2):
        _write(project, f"c{i}.yaml", f"extends: c{i + 1}.yaml\n" if i <= MAX_CHAIN else BASE)
    out = check_file(project / "c0.yaml")
    assert [d.code for d in out.errors] == ["E062"] and "chain" in out.errors[0].message


def test_a_hostile_base_is_refused_with_the_loaders_limits(project):
    _write(project, "deep.yaml", "a: " + "[" * 200 + "]" * 200 + "\n")
    out = check_file(_write(project, "d.yaml", "extends: deep.yaml\n"))
    assert [d.code for d in out.errors] == ["E014"] and "deep.yaml" in out.errors[0].file
    _write(project, "alias.yaml", "specc: 1\nx: &a [1]\ny: *a\n")
    out = check_file(_write(project, "al.yaml", "extends: alias.yaml\n"))
    assert "E012" in [d.code for d in out.errors]
    (project / "big.yaml").write_text("#" * (5 * 1024 * 1024))
    out = check_file(_write(project, "bg.yaml", "extends: big.yaml\n"))
    assert [d.code for d in out.errors] == ["E060"] and "bytes" in out.errors[0].message
    (project / "dir.yaml").mkdir()
    assert [d.code for d in check_file(_write(project, "dr.yaml", "extends: dir.yaml\n")).errors] == ["E060"]


def test_overrides_apply_to_the_merged_spec(project):
    child = _write(project, "child.yaml", "extends: base.yaml\n")
    spec = specc.load(child, overrides=["layers[1].units=5", "train.epochs=1"])
    assert spec.params["total"] == (4 * 16 + 16) + (16 * 5 + 5)
    out = run_cli("summary", "--json", "child.yaml", "--set", "layers[1].units=5", cwd=project)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["params"]["total"] == spec.params["total"]


def test_fmt_keeps_extends_first_and_checks_through_it(project):
    child = _write(project, "child.yaml", "train: {epochs: 5}\nextends: base.yaml\nname: child\n")
    out = run_cli("fmt", "child.yaml", cwd=project)
    assert out.returncode == 0, out.stderr
    assert child.read_text() == "extends: base.yaml\nname: child\ntrain:\n  epochs: 5\n"
    (project / "base.yaml").write_text(BASE.replace("units: 3", "units: 0"))
    bad = run_cli("fmt", "--check", "child.yaml", cwd=project)
    assert bad.returncode == 1 and "base.yaml:6:26" in bad.stderr


def test_diff_compares_what_the_specs_resolve_to(project):
    _write(project, "wide.yaml", "extends: base.yaml\nvars: {width: 64}\n")
    out = run_cli("diff", "base.yaml", "wide.yaml", "--format", "json", cwd=project)
    assert out.returncode == 1, out.stderr
    changes = json.loads(out.stdout)
    text = json.dumps(changes)
    assert "64" in text and "16" in text
    same = run_cli("diff", "base.yaml", _write(project, "same.yaml", "extends: base.yaml\n"), cwd=project)
    assert same.returncode == 0, same.stdout + same.stderr


def test_extends_from_stdin_starts_from_the_current_folder(project):
    out = run_cli("summary", "--json", "-", input="extends: base.yaml\nvars: {width: 8}\n", cwd=project)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["params"]["total"] == (4 * 8 + 8) + (8 * 3 + 3)


def test_diff_of_a_git_revision_reads_the_base_beside_its_path(project):
    import os
    import shutil
    import subprocess

    if not shutil.which("git"):
        pytest.skip("git is not installed")
    _write(project, "specs/base.yaml", BASE)
    child = _write(project, "specs/wide.yaml", "extends: base.yaml\nvars: {width: 32}\n")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, env={**os.environ, **env})
    child.write_text("extends: base.yaml\nvars: {width: 48}\n")
    out = run_cli("diff", "HEAD:specs/wide.yaml", "specs/wide.yaml", "--format", "json", cwd=project)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "32" in out.stdout and "48" in out.stdout
