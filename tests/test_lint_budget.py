"""Lint warnings, their severity policy, and static budgets."""

import json
import subprocess
import sys

from conftest import ROOT, run_cli

from specc.check import check_text

MLP = """\
specc: 1
seed: 1
layers:
  - {type: Dense, units: 64, activation: relu, input_dim: 64}
  - {type: Dense, units: 10, activation: softmax}
compile: {loss: categorical_crossentropy}
train: {batch_size: 32}
"""


def codes(text, **kw):
    return sorted(d.code for d in check_text(text).diagnostics)


def test_clean_spec_has_no_warnings():
    assert codes(MLP) == []


def test_lint_rules():
    assert codes(MLP.replace("seed: 1\n", "") + "data: {source: {type: sklearn, name: digits}}\n") == ["W405"]
    assert codes(MLP.replace("compile: {loss: categorical_crossentropy}",
                             "compile: {loss: categorical_crossentropy, optimizer: {type: Adam, learning_rate: 1e-9}}")) == ["W406"]
    warmup = "{type: CosineDecay, initial_learning_rate: 0.0, decay_steps: 10, warmup_target: 3.0, warmup_steps: 5}"
    assert codes(MLP.replace("compile: {loss: categorical_crossentropy}",
                             f"compile: {{loss: categorical_crossentropy, optimizer: {{type: SGD, learning_rate: {warmup}}}}}")) == ["W406"]
    assert codes(MLP + "outputs: [dense]\n") == ["W404"]  # dense_1 leads nowhere


def test_policy_ignore_and_error(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(MLP + "outputs: [dense]\n")
    assert run_cli("validate", spec).returncode == 0
    out = run_cli("validate", spec, "--error", "W404")
    assert out.returncode == 1 and "error[W404]" in out.stdout
    out = run_cli("validate", spec, "--ignore", "W404", "--strict")
    assert out.returncode == 0 and "W404" not in out.stdout
    assert run_cli("validate", spec, "--ignore", "E100").returncode == 2  # only warnings can be relaxed


def test_budget_from_the_command_line(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(MLP)
    params = 64 * 64 + 64 + 64 * 10 + 10
    assert run_cli("validate", spec, "--max-params", str(params)).returncode == 0
    out = run_cli("validate", spec, "--max-params", str(params - 1), "--format", "json")
    assert out.returncode == 1
    (d,) = json.loads(out.stdout)["files"][0]["diagnostics"]
    assert d["code"] == "E410" and f"{params:,} parameters" in d["message"]
    out = run_cli("validate", spec, "--max-depth", "1")
    assert out.returncode == 1 and "2 layers deep" in out.stdout
    # memory: weights 4,810 params * 4 bytes * (1 + 1 gradient + 2 Adam slots), activations (64 + 10) * 32 * 4 * 2
    summary = json.loads(run_cli("summary", "--json", spec).stdout)["estimate"]
    expected = params * 4 * 4 + (64 + 10 + 64) * 32 * 4 * 2  # the implicit Input's 64 values count too
    assert abs(summary["training_mb"] - expected / 2**20) < 1e-3
    assert run_cli("validate", spec, "--max-memory-mb", "0.01").returncode == 1
    assert run_cli("validate", spec, "--max-memory-mb", "0.01", "--batch-size", "1").returncode == 1
    assert run_cli("validate", spec, "--max-memory-mb", "1").returncode == 0


HUGE = "specc: 1\nlayers:\n  - {type: Dense, units: 100000000000, input_dim: 100000}\n"


def test_a_hundred_billion_units_is_refused_without_allocating(tmp_path):
    spec = tmp_path / "huge.yaml"
    spec.write_text(HUGE)
    # VmHWM is this process's own peak (ru_maxrss can carry the parent's peak across fork and exec).
    probe = (
        "import sys, re\n"
        "from specc.cli import main\n"
        f"sys.argv = ['specc', 'validate', {str(spec)!r}, '--max-params', '1000000000']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "peak = re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1)\n"
        "print(code, peak)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    code, rss_kb = out.stdout.split()[-2:]
    assert code == "1" and "E410" in out.stdout
    assert int(rss_kb) < 200 * 1024, "checking never allocates the model"
    for command in (["validate", spec], ["build", spec, "-o", tmp_path / "m.keras"], ["train", spec]):
        out = run_cli(*command)  # without a budget, the default limit of 10^10 parameters refuses it
        assert out.returncode == 1 and "E413" in out.stdout + out.stderr, out
    assert not (tmp_path / "m.keras").exists()


def test_the_default_size_limit_gives_way_to_a_budget():
    over = "specc: 1\nlayers:\n  - {type: Dense, units: 1000000000, input_dim: 10}\n"  # 1.1e10 parameters
    (d,) = check_text(over).errors
    assert d.code == "E413" and d.path == "layers[0]" and "11,000,000,000 parameters" in d.message
    assert check_text(over + "budget: {max_params: 20000000000}\n").ok
    assert check_text(over.replace("1000000000", "900000000")).ok  # 9.9e9: under the limit


def test_spec_budget_section():
    text = MLP + "budget: {max_params: 100}\n"
    (d,) = check_text(text).errors
    assert d.code == "E410" and d.path == "layers[0]"
