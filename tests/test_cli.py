"""The CLI contract, through real subprocesses: exit codes, outputs, files."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT, SPECS, run_cli

BAD = "specc: 1\nlayers:\n  - {type: Dense, unit: 4, input_dim: 3}\n"


@pytest.fixture
def bad(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(BAD)
    return p


def test_version_and_help():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("specc ")
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("validate", "summary", "build", "train", "evaluate", "schema"):
        assert command in out.stdout


def test_the_process_exits_without_collecting_its_heap():
    """`specc` hands its memory back to the OS at exit instead of garbage-collecting TensorFlow's objects (a
    second or more after training): the heap is frozen once the command is done, before atexit handlers run."""
    probe = ("import atexit, gc, sys\n"
             "atexit.register(lambda: print('frozen', gc.get_freeze_count()))\n"
             "sys.argv = ['specc', 'validate', 'specs/digits_mlp.yaml']\n"
             "from specc.cli import main\n"
             "main()\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split("frozen ")[1]) > 10_000  # objects the final collections no longer visit


def test_validate_exit_codes(bad, tmp_path):
    assert run_cli("validate", SPECS[0]).returncode == 0
    out = run_cli("validate", bad)
    assert out.returncode == 1
    assert f"{bad}:3:19: error[E100]: unknown key 'unit' in Dense" in out.stdout
    assert "did you mean 'units'?" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr
    # usage errors: unknown option, no paths, unknown format, a glob that matches nothing
    assert run_cli("validate", "--nope", SPECS[0]).returncode == 2
    assert run_cli("validate").returncode == 2
    assert run_cli("validate", "--format", "xml", SPECS[0]).returncode == 2
    assert run_cli("validate", str(tmp_path / "*.nothing")).returncode == 2


def test_validate_reports_all_files_and_missing_ones(bad, tmp_path):
    missing = tmp_path / "missing.yaml"
    out = run_cli("validate", "specs", bad, missing)
    assert out.returncode == 1
    assert f"{missing}: error[E001]: no such file" in out.stdout
    files = len(list((ROOT / "specs").rglob("*.yaml")))  # specs and the block library they include
    assert f"{files + 2} file(s) checked: {files} valid, 2 invalid" in out.stdout


def test_validate_folders_and_globs(tmp_path, bad):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ok.yml").write_text((ROOT / "specs" / "digits_mlp.yaml").read_text())
    (tmp_path / "notes.txt").write_text("not a spec")
    out = run_cli("validate", tmp_path)
    assert "2 file(s) checked: 1 valid, 1 invalid" in out.stdout
    out = run_cli("validate", str(tmp_path / "**" / "*.yml"))
    assert out.returncode == 0 and "1 file(s) checked: 1 valid" in out.stdout


def test_validate_json(bad):
    out = run_cli("validate", "--format", "json", bad, SPECS[0])
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert doc["valid"] is False
    first, second = doc["files"]
    assert first["valid"] is False and second["valid"] is True
    codes = sorted(d["code"] for d in first["diagnostics"])
    assert codes == ["E100", "E101"]  # unknown 'unit' and missing 'units'
    d = next(d for d in first["diagnostics"] if d["code"] == "E100")
    assert (d["line"], d["column"], d["code"], d["severity"], d["path"]) == (3, 19, "E100", "error", "layers[0].unit")


def test_strict_turns_warnings_into_failures(tmp_path):
    p = tmp_path / "warn.yaml"
    p.write_text("specc: 1\nlayers:\n  - {type: Dense, units: 3, input_dim: 4, activation: softmax}\n"
                 "compile: {loss: {type: categorical_crossentropy, from_logits: true}}\n")
    out = run_cli("validate", p)
    assert out.returncode == 0 and "warning[W401]" in out.stdout
    assert run_cli("validate", "--strict", p).returncode == 1


def test_summary_json_contract():
    out = run_cli("summary", "--json", ROOT / "specs" / "course_cnn.yaml")
    assert out.returncode == 0
    doc = json.loads(out.stdout)
    assert set(doc) >= {"name", "params", "layers"}
    assert doc["name"] == "course-cnn"
    assert set(doc["params"]) == {"total", "trainable", "non_trainable"}
    assert doc["params"]["total"] == sum(layer["params"] for layer in doc["layers"])
    for layer in doc["layers"]:
        assert set(layer) >= {"name", "type", "output_shape", "params"}
    assert doc["layers"][-1]["output_shape"] == [None, 25]


def test_summary_text_and_invalid(bad):
    out = run_cli("summary", ROOT / "specs" / "digits_mlp.yaml")
    assert out.returncode == 0
    assert "dense_1" in out.stdout and "(None, 10)" in out.stdout and "Total params: 4,810" in out.stdout
    out = run_cli("summary", bad)
    assert out.returncode == 1 and "error[E100]" in out.stderr and out.stdout == ""


def test_build_loads_with_plain_keras(tmp_path):
    target = tmp_path / "model.keras"
    out = run_cli("build", ROOT / "specs" / "lstm_autoencoder.yaml", "-o", target)
    assert out.returncode == 0, out.stderr
    static = json.loads(run_cli("summary", "--json", ROOT / "specs" / "lstm_autoencoder.yaml").stdout)
    probe = (
        "import sys, json, keras\n"
        f"m = keras.saving.load_model({str(target)!r})\n"
        "assert 'specc' not in sys.modules\n"
        "print(json.dumps({'params': m.count_params(), 'names': [l.name for l in m.layers]}))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    got = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert got["params"] == static["params"]["total"]
    assert got["names"] == [layer["name"] for layer in static["layers"]]


def test_build_refuses_invalid_and_leaves_nothing(tmp_path, bad):
    target = tmp_path / "out.keras"
    out = run_cli("build", bad, "-o", target)
    assert out.returncode == 1
    assert not target.exists() and list(tmp_path.iterdir()) == [bad]
    assert run_cli("build", SPECS[0], "-o", tmp_path / "out.h5").returncode == 2


def test_python_dash_m_and_console_script_agree():
    from pathlib import Path

    exe = Path(sys.executable).parent / "specc"  # installed beside the interpreter by `pip install`
    assert exe.is_file(), "the `specc` console script is installed"
    a = subprocess.run([str(exe), "summary", "--json", str(SPECS[0])], capture_output=True, text=True)
    b = run_cli("summary", "--json", SPECS[0])
    assert a.returncode == b.returncode == 0 and a.stdout == b.stdout
