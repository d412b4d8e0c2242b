"""Review tools: `specc diff` and `specc fmt`."""

import json
import shutil
import subprocess

import pytest
from conftest import ROOT, SPECS, run_cli

from specc.fmt import FormatError, comments, format_file_text
from specc.loader import load_text

MLP = (ROOT / "specs" / "digits_mlp.yaml").read_text()


def test_diff_identical_is_exit_0():
    out = run_cli("diff", ROOT / "specs" / "lstm.yaml", ROOT / "specs" / "lstm.yaml")
    assert out.returncode == 0 and "no architecture or setting changes" in out.stdout


def test_diff_reports_layers_shapes_params_and_settings(tmp_path):
    changed = MLP.replace("units: 64", "units: 128").replace("epochs: 30", "epochs: 40").replace(
        "  - type: Dense\n    units: 10", "  - {type: Dense, units: 32, activation: relu}\n  - type: Dense\n    units: 10")
    b = tmp_path / "b.yaml"
    b.write_text(changed)
    out = run_cli("diff", ROOT / "specs" / "digits_mlp.yaml", b, "--format", "json")
    assert out.returncode == 1
    d = json.loads(out.stdout)
    by = {(layer["status"], layer["name"]): layer for layer in d["layers"]}
    assert by[("changed", "dense")]["args"] == {"units": [64, 128]}
    assert by[("changed", "dense")]["params"] == {"a": 64 * 64 + 64, "b": 64 * 128 + 128, "delta": 4160}
    assert by[("added", "dense_1")]["output_shape"]["b"] == [None, 32]
    assert by[("changed", "dense_2")]["old_name"] == "dense_1"  # the softmax output, renamed by the insertion
    assert d["settings"] == {"train.epochs": {"a": 30, "b": 40}}
    assert d["params"]["delta"] == d["params"]["b"] - d["params"]["a"] == sum(layer["params"]["delta"] for layer in d["layers"])
    md = run_cli("diff", ROOT / "specs" / "digits_mlp.yaml", b, "--format", "markdown").stdout
    assert "| changed | `dense` | Dense | (None, 64) → (None, 128) |" in md
    assert "| `train.epochs` | 30 | 40 |" in md


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_accepts_git_revisions(tmp_path):
    repo = tmp_path / "repo"
    (repo / "specs").mkdir(parents=True)
    spec = repo / "specs" / "x.yaml"
    spec.write_text(MLP)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    for cmd in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "x"]):
        subprocess.run(git + cmd, cwd=repo, check=True)
    spec.write_text(MLP.replace("rate: 0.2", "rate: 0.5"))
    out = run_cli("diff", "main:specs/x.yaml", "specs/x.yaml", cwd=repo)
    assert out.returncode == 1, out.stderr
    assert "rate: 0.2 -> 0.5" in out.stdout
    out = run_cli("diff", "main:specs/nope.yaml", "specs/x.yaml", cwd=repo)
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_diff_of_invalid_spec_is_trouble(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("specc: 1\nlayers: [{type: Dense}]\n")
    out = run_cli("diff", bad, ROOT / "specs" / "lstm.yaml")
    assert out.returncode == 2 and "error[E" in out.stderr
    folder = run_cli("diff", ROOT / "specs" / "lstm.yaml", tmp_path)  # was "no such file"
    assert folder.returncode == 2 and f"{tmp_path}: a folder, not a spec file or a run directory" in folder.stderr
    (tmp_path / "model.keras").write_bytes(b"PK\x03\x04\x9f\xff binary")  # was "cannot read ('utf-8' codec ...)"
    binary = run_cli("diff", tmp_path / "model.keras", ROOT / "specs" / "lstm.yaml")
    assert binary.returncode == 2 and f"{tmp_path / 'model.keras'}: not a spec (not UTF-8 text" in binary.stderr


def test_diff_reads_a_run_directory_s_spec(tmp_path):
    """docs/tuning.md: a trial's run directory is one that `diff` works on; a folder was refused."""
    for name, rate in (("a", "0.2"), ("b", "0.5")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "spec.yaml").write_text(MLP.replace("rate: 0.2", f"rate: {rate}"))
    out = run_cli("diff", tmp_path / "a", tmp_path / "b")
    assert out.returncode == 1, out.stderr
    assert "rate: 0.2 -> 0.5" in out.stdout and str(tmp_path / "a" / "spec.yaml") in out.stdout


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_specs_are_formatted(path):
    text = path.read_text()
    new, diagnostics = format_file_text(text, str(path))
    assert diagnostics == [] and new == text, "run `specc fmt specs/`"


MESSY = """\
# a model
layers:   # the layers
  - units: 8
    activation: relu     # hidden
    type: Dense
    input_dim: 4
  - {activation: softmax, type: Dense, units: 3}
compile:
  metrics:
    - accuracy
  loss: categorical_crossentropy
  optimizer: {learning_rate: 1e-3, type: Adam}
specc: 1
"""


def test_fmt_canonical_order_keeps_comments_and_meaning():
    new, diagnostics = format_file_text(MESSY)
    assert diagnostics == []
    assert new.index("specc: 1") < new.index("layers:") < new.index("compile:")
    assert "metrics: [accuracy]" in new
    assert "optimizer: {type: Adam, learning_rate: 1e-3}" in new
    assert "- {type: Dense, units: 3, activation: softmax}" in new
    for comment in ("# a model", "# the layers", "# hidden"):
        assert comment in new
    assert "    activation: relu     # hidden" in new, "a layer with a comment stays in block style"
    assert load_text(new)[0].data == load_text(MESSY)[0].data
    assert format_file_text(new)[0] == new, "idempotent"


def test_fmt_cli_check_and_write(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(MESSY)
    out = run_cli("fmt", "--check", p)
    assert out.returncode == 1 and f"would reformat {p}" in out.stdout
    assert p.read_text() == MESSY, "--check never writes"
    assert run_cli("fmt", p).returncode == 0
    assert run_cli("fmt", "--check", p).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("specc: 1\nlayers: [{type: Dense}]\n")
    out = run_cli("fmt", bad)
    assert out.returncode == 1 and bad.read_text() == "specc: 1\nlayers: [{type: Dense}]\n"


def test_fmt_keeps_flow_collections_with_a_trailing_comment():
    text = ("specc: 1\nlayers:\n  - {type: Dense, units: 10, input_dim: 64}   # one\n"
            "data:\n  source: {type: sklearn, name: digits}   # bundled\n  reshape: [8, 8, 1]   # images\n")
    new, diagnostics = format_file_text(text)
    assert diagnostics == [] and new == text


def test_fmt_refuses_to_drop_a_comment_inside_a_flow_mapping_that_spans_lines(tmp_path):
    """ruamel loses such a comment: fmt rewrote the file without it."""
    text = "specc: 1\nlayers:\n  - {type: Dense, units: 2,   # keep me\n     input_dim: 3}\n"
    with pytest.raises(FormatError, match="line 3: formatting would drop the comment '# keep me'"):
        format_file_text(text)
    twice = text.replace("specc: 1\n", "specc: 1  # keep me\n")  # the same words kept elsewhere do not count
    with pytest.raises(FormatError, match="formatting would drop the comment '# keep me'"):
        format_file_text(twice)
    p = tmp_path / "m.yaml"
    p.write_text(text)
    out = run_cli("fmt", p)
    assert out.returncode == 1 and "would drop the comment" in out.stdout + out.stderr and p.read_text() == text


def test_comments_are_found_outside_quotes_only():
    text = '# top\nspecc: 1   # v\nname: "a # not one"\nx: \'it#s\'  # after\nurl: a#b\n'
    assert comments(text) == [(1, "# top"), (2, "# v"), (4, "# after")]


def test_fmt_leaves_layers_given_by_a_variable_as_they_are():
    """`layers: "${stack}"` crashed fmt (a scalar where it expected the list)."""
    text = 'specc: 1\nvars:\n  stack: [{type: Dense, units: 2, input_dim: 3}]\nlayers: "${stack}"\n'
    assert format_file_text(text) == (text, [])
