"""Files and folders specc writes get the modes an ordinary write gets (0666 and 0777 less the umask), not the
0600 of the private temporary file an atomic write goes through; a file that is rewritten keeps its own mode.

Every command runs in a subprocess under the umask being checked, never the test process's.
"""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

UMASKS = (0o022, 0o002)

TINY = """\
specc: 1
seed: 1
layers:
  - {type: Dense, units: 8, activation: relu, input_dim: 64}
  - {type: Dense, units: 10, activation: softmax}
compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
train: {epochs: 1, batch_size: 128, validation_split: 0.2}
data:
  source: {type: sklearn, name: digits}
  rescale: 0.0625
"""


def wrong_modes(root: Path, umask: int, keep: dict[Path, int] | None = None) -> list[str]:
    """Every path under ``root`` whose mode is not what an ordinary write under ``umask`` gives it."""
    keep = keep or {}
    bad = []
    for p in sorted(root.rglob("*")):
        expected = keep.get(p, (0o777 if p.is_dir() else 0o666) & ~umask)
        got = stat.S_IMODE(p.stat().st_mode)
        if got != expected:
            bad.append(f"{p.relative_to(root)}: {got:o}, expected {expected:o}")
    return bad


@pytest.mark.parametrize("umask", UMASKS, ids=lambda m: f"umask{m:03o}")
def test_static_commands_write_ordinary_modes(tmp_path, umask):
    out = tmp_path / "out"
    ugly = tmp_path / "ugly.yaml"
    ugly.write_text("specc: 1\nlayers:\n  - {type: Dense,   units: 2, input_dim: 3}\n")
    ugly.chmod(0o640)  # a file the user made private stays private when fmt rewrites it
    steps = [
        ("init", "image-cnn", "-o", out / "new" / "spec.yaml"),
        ("fmt", ugly),
        ("plot", ROOT / "specs" / "conv_autoencoder.yaml", "-o", out / "plots" / "ae.png"),
        ("plot", ROOT / "specs" / "conv_autoencoder.yaml", "-o", out / "plots" / "ae.svg"),
        ("validate", ugly, "-f", "json", "-o", out / "report.json"),
    ]
    for args in steps:
        result = run_cli(*args, umask=umask)
        assert result.returncode == 0, (args, result.stderr)
    assert ugly.read_text() != "specc: 1\nlayers:\n  - {type: Dense,   units: 2, input_dim: 3}\n"
    # init also writes the JSON Schema beside the new spec, for editors (docs/editors.md)
    assert {p.name for p in out.rglob("*")} == {"new", "spec.yaml", "specc.schema.json", "plots", "ae.png", "ae.svg",
                                                "report.json"}
    assert wrong_modes(tmp_path, umask, keep={ugly: 0o640}) == []


def test_atomic_writes_keep_an_existing_files_mode_and_give_new_files_ordinary_ones(tmp_path):
    script = (
        "import sys; from pathlib import Path; from specc.runners.files import atomic_write_text as w\n"
        "d = Path(sys.argv[1]); w(d / 'old.txt', 'new text'); w(d / 'deep' / 'new.txt', 'text')\n"
    )
    old = tmp_path / "old.txt"
    old.write_text("old text")
    old.chmod(0o751)
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, cwd=ROOT, umask=0o027)
    assert old.read_text() == "new text"
    assert wrong_modes(tmp_path, 0o027, keep={old: 0o751}) == []
    assert not [p for p in tmp_path.rglob(".*")], "no temporary file left behind"


@pytest.mark.slow
def test_a_run_and_what_is_made_from_it_have_ordinary_modes(tmp_path):
    """umask 002 tells apart both mistakes: 0600 files (the temporary file's) and 0755 folders (TensorFlow's)."""
    umask = 0o002
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY)
    import numpy as np

    np.save(tmp_path / "inputs.npy", np.zeros((3, 64), "float32"))
    spec.chmod(0o666 & ~umask)
    (tmp_path / "inputs.npy").chmod(0o666 & ~umask)
    out = tmp_path / "out"
    steps = [
        ("train", spec, "--run-dir", tmp_path / "run", "-q"),
        ("build", spec, "-o", out / "untrained.keras"),
        ("predict", tmp_path / "run", tmp_path / "inputs.npy", "-o", out / "predictions.csv"),
        ("export", tmp_path / "run", "--format", "savedmodel", "-o", out / "saved"),
        ("export", tmp_path / "run", "--format", "tflite", "-o", out / "model.tflite"),
    ]
    for args in steps:
        result = run_cli(*args, umask=umask)
        assert result.returncode == 0, (args, result.stderr)
    names = {p.name for p in tmp_path.rglob("*")}
    assert {"model.keras", "best.keras", "metrics.json", "history.csv", "run.json", "spec.yaml",
            "learning_curves.png", "tensorboard", "validation", "state", "untrained.keras", "predictions.csv",
            "saved_model.pb", "variables", "model.tflite"} <= names, names
    assert wrong_modes(tmp_path, umask) == []


@pytest.mark.parametrize("args, says", [
    (["plot", "{spec}", "-o", "{tmp}/folder.svg"], "folder.svg is a folder; give a file name"),
    (["schema", "-o", "{tmp}/folder.svg"], "folder.svg is a folder; give a file name"),
    (["build", "{spec}", "-o", "{tmp}/folder.keras"], "folder.keras is a folder; give a file name"),
    (["plot", "{spec}", "-o", "{tmp}/a-file/x.svg"], "a-file is a file, not a folder"),
    (["build", "{spec}", "-o", "{tmp}/a-file/deeper/x.keras"], "a-file is a file, not a folder"),
    # init wrote the schema beside the spec first, over the user's own with --force, then refused the spec
    (["init", "regression", "-o", "{tmp}/folder.svg", "--force"], "folder.svg is a folder; give a file name"),
    # a name longer than the file system takes: OSError tracebacks from the first stat or the temporary file
    (["schema", "-o", "{tmp}/" + "n" * 300 + ".json"], "File name too long"),
    (["build", "{spec}", "-o", "{tmp}/" + "n" * 300 + ".keras"], "File name too long"),
    (["init", "regression", "-o", "{tmp}/" + "n" * 300 + ".yaml"], "File name too long"),
    (["runs", "{tmp}/" + "n" * 300], "File name too long"),
])
def test_an_output_that_is_a_folder_or_under_a_file_is_one_line_and_nothing_written(tmp_path, args, says):
    """They were IsADirectoryError, FileExistsError and OSError tracebacks in every command that writes a file."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY)
    (tmp_path / "folder.svg").mkdir()
    (tmp_path / "folder.keras").mkdir()
    (tmp_path / "a-file").write_text("kept\n")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    out = run_cli(*[a.format(spec=spec, tmp=tmp_path) for a in args])
    assert out.returncode == 2 and out.stderr.startswith("specc: error: ") and len(out.stderr.splitlines()) == 1
    assert says in out.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert (tmp_path / "a-file").read_text() == "kept\n"
