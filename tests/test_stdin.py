"""`-` reads a spec from standard input for validate, summary, fmt and plot; diagnostics name <stdin>; the
limits a file has hold for the stream too."""

import json

from conftest import ROOT, run_cli

from specc.loader import MAX_BYTES

BAD = "specc: 1\nlayers:\n  - {type: Dense, units: 0, input_dim: 3}\n"
GOOD = (ROOT / "specs" / "digits_mlp.yaml").read_text()


def test_validate_reads_stdin_and_names_it():
    out = run_cli("validate", "-", input=BAD)
    assert out.returncode == 1
    assert out.stdout.startswith("<stdin>:3:26: error[E102]: units must be greater than 0")
    ok = run_cli("validate", "--format", "json", "-", input=GOOD)
    assert ok.returncode == 0 and json.loads(ok.stdout)["files"][0]["file"] == "<stdin>"


def test_validate_mixes_stdin_with_files_but_reads_it_once():
    out = run_cli("validate", "specs/digits_mlp.yaml", "-", input=BAD)
    assert out.returncode == 1 and "2 file(s) checked: 1 valid, 1 invalid" in out.stdout
    twice = run_cli("validate", "-", "-", input=BAD)
    assert twice.returncode == 2 and "can be read once" in twice.stderr


def test_summary_from_stdin_is_the_summary_of_the_file():
    assert run_cli("summary", "-", input=GOOD).stdout.replace("digits-mlp", "X") == \
        run_cli("summary", "specs/digits_mlp.yaml").stdout.replace("digits-mlp", "X")
    bad = run_cli("summary", "-", input=BAD)
    assert bad.returncode == 1 and bad.stderr.endswith("<stdin>: 1 error(s)\n")


def test_plot_from_stdin(tmp_path):
    out = run_cli("plot", "-", "-o", tmp_path / "d.svg", input=GOOD)
    assert out.returncode == 0, out.stderr
    assert "<svg" in (tmp_path / "d.svg").read_text()


def test_fmt_writes_the_formatted_spec_to_stdout():
    messy = "specc: 1\nlayers: [{input_dim: 3, units: 2, type: Dense}]\n"
    out = run_cli("fmt", "-", input=messy)
    assert out.returncode == 0
    assert out.stdout == "specc: 1\nlayers:\n  - {type: Dense, units: 2, input_dim: 3}\n"
    check = run_cli("fmt", "--check", "-", input=messy)
    assert check.returncode == 1 and check.stdout == "would reformat <stdin>\n"
    assert run_cli("fmt", "--check", "-", input=out.stdout).returncode == 0
    bad = run_cli("fmt", "-", input="specc: 1\nlayers: [\n")
    assert bad.returncode == 1 and bad.stdout == "" and "<stdin>" in bad.stderr
    assert run_cli("fmt", "-", "specs/digits_mlp.yaml").returncode == 2


def test_stdin_has_the_limits_of_a_file():
    huge = run_cli("validate", "-", input="#" * (MAX_BYTES + 10))
    assert huge.returncode == 1 and "error[E003]" in huge.stdout and "<stdin>" in huge.stdout
    binary = run_cli("summary", "-", input="specc: 1\x00\n")
    assert binary.returncode == 1 and "error[E002]" in binary.stderr
    fmt = run_cli("fmt", "-", input="#" * (MAX_BYTES + 10))
    assert fmt.returncode == 1 and "E003" in fmt.stderr


def test_includes_from_stdin_resolve_from_the_current_folder_and_stay_in_the_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "lib.yaml").write_text("specc: 1\nvars: {width: 7}\n")
    spec = "specc: 1\ninclude: [lib.yaml]\nlayers:\n  - {type: Dense, units: '${width}', input_dim: 3}\n"
    out = run_cli("summary", "--json", "-", input=spec, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["params"]["total"] == 3 * 7 + 7
    outside = "specc: 1\ninclude: [../lib.yaml]\nlayers:\n  - {type: Dense, units: 2, input_dim: 3}\n"
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text("")
    refused = run_cli("validate", "-", input=outside, cwd=tmp_path / "sub")
    assert refused.returncode == 1 and "<stdin>:2" in refused.stdout
