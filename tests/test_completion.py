"""Shell completion (specc/completion.py through Typer's own): in real bash and fish, by zsh's protocol; spec
paths, run directories and template names; no TensorFlow; bounded work on hostile folders and words."""

import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, env_with_specc_on_path, probe_cli

from specc import completion


def _complete(shell: str, line: str, cwd=ROOT) -> list[str]:
    """What `specc` answers a shell's completion request for the command line ``line``, without TensorFlow."""
    env = {"_SPECC_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        words = line.split(" ")
        env.update(COMP_WORDS=line, COMP_CWORD=str(len(words) - 1))
    else:
        env.update(_TYPER_COMPLETE_ARGS=line, _TYPER_COMPLETE_FISH_ACTION="get-args")
    code, heavy, out = probe_cli(env=env, cwd=cwd)
    assert heavy == [], f"completing imported {heavy}"
    return [x for x in out.stdout.splitlines() if not x.startswith("@@")]


@pytest.fixture
def specc_on_path(tmp_path):
    return env_with_specc_on_path(tmp_path)


def _runs(tmp_path):
    (tmp_path / "runs" / "mnist-1").mkdir(parents=True)
    (tmp_path / "runs" / "mnist-1" / "run.json").write_text("{}")
    (tmp_path / "runs" / "notes").mkdir()
    (tmp_path / "spec.yaml").write_text("specc: 1\n")
    (tmp_path / "data.csv").write_text("1,2\n")


def test_bash_completes_spec_paths_in_a_real_bash(specc_on_path):
    if not shutil.which("bash"):
        pytest.skip("bash is not installed")
    script = ("source <(specc --show-completion bash)\n"
              "COMP_WORDS=(specc summary specs/digits_m); COMP_CWORD=2; _specc_completion specc\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=ROOT, env=specc_on_path,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["specs/digits_mlp.yaml"]


def test_fish_completes_run_directories_and_templates_in_a_real_fish(specc_on_path, tmp_path):
    if not shutil.which("fish"):
        pytest.skip("fish is not installed")
    _runs(tmp_path)
    script = ("specc --show-completion fish | source\n"
              "complete -C 'specc evaluate '\n"
              "echo ---\n"
              "complete -C 'specc init image'\n")
    out = subprocess.run(["fish", "--no-config", "-c", script], capture_output=True, text=True, cwd=tmp_path,
                         env=specc_on_path, timeout=120)
    assert out.returncode == 0, out.stderr
    runs, templates = out.stdout.split("---\n")
    assert runs.split() == ["runs/mnist-1", "runs/notes/"]
    assert templates.splitlines() == ["image-cnn\tconv/pool/dropout CNN for small images"]


def test_zsh_gets_valid_completion_syntax(specc_on_path):
    if not shutil.which("zsh"):
        pytest.skip("zsh is not installed")
    script = subprocess.run([sys.executable, "-m", "specc", "--show-completion", "zsh"], capture_output=True,
                            text=True, env=specc_on_path, cwd=ROOT).stdout
    answer = "\n".join(_complete("zsh", "specc init "))
    assert script.startswith("#compdef specc")
    for text in (script, answer):
        check = subprocess.run(["zsh", "-n", "-c", text], capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stderr
    assert '"fine-tuning":"a pretrained CNN' in answer and answer.startswith("_arguments")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_shell_completes_paths_runs_and_templates_without_tensorflow(shell, tmp_path):
    _runs(tmp_path)

    def answer(line):
        return "\n".join(_complete(shell, line, cwd=tmp_path))

    assert "spec.yaml" in answer("specc validate s")
    assert "data.csv" not in answer("specc validate d")
    assert "runs/mnist-1" in answer("specc predict ")
    assert "regression" in answer("specc init re")


def test_spec_paths_and_run_dirs_in_process(tmp_path, monkeypatch):
    _runs(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert completion.spec_paths("") == ["runs/", "spec.yaml"]
    assert completion.spec_paths("runs/") == ["runs/mnist-1/", "runs/notes/"]
    assert completion.run_dirs("") == ["runs/mnist-1", "runs/notes/"]
    assert completion.run_dirs("runs/m") == ["runs/mnist-1"]
    assert completion.spec_paths(f"{tmp_path}/sp") == [f"{tmp_path}/spec.yaml"]
    assert [name for name, _ in completion.template_names("")][:2] == ["tabular-classifier", "image-cnn"]


def test_completion_work_is_bounded_on_a_huge_folder(tmp_path, monkeypatch):
    for i in range(300):
        (tmp_path / f"s{i:03}.yaml").touch()
    monkeypatch.chdir(tmp_path)
    assert len(completion.spec_paths("")) == completion.MAX_SHOWN
    monkeypatch.setattr(completion, "MAX_SCANNED", 40)
    assert len(completion.spec_paths("")) == 40  # no more entries looked at than that


@pytest.mark.parametrize("word", ["\x00", "x" * 100_000, "/no/such/folder/x", "spec.yaml/x", "~nobody-here/x",
                                  "../" * 2000])
def test_hostile_words_give_no_suggestions_and_no_error(word, tmp_path, monkeypatch):
    _runs(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert completion.spec_paths(word) == [] or word.startswith("../")
    assert completion.run_dirs(word) == [] or word.startswith("../")


def test_links_that_go_nowhere_or_round_give_no_suggestions(tmp_path, monkeypatch):
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    monkeypatch.chdir(tmp_path)
    assert completion.spec_paths("dangling/") == completion.spec_paths("loop/") == []
    assert completion.run_dirs("loop/") == []
    assert completion.spec_paths("") == []  # neither is a folder to go into nor a spec
