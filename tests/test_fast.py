"""The fast preset (train.fast, `specc train --fast`) and mixed precision for recurrent layers.

The GPU half of both is measured by benchmarks/gpu.sh on a GPU machine (docs/performance.md); here,
on a CPU, what can be checked without one: how the preset resolves on each device, what a run records,
and how a mixed model is lowered when JAX runs on a GPU.
"""

import json

import pytest
from conftest import run_cli

from specc.check import check_text
from specc.runners import backend

SPEC = """\
specc: 1
name: fast
layers:
  - {type: Embedding, input_dim: 50, output_dim: 8, input_shape: [12]}
  - {type: Bidirectional, layer: {type: LSTM, units: 6, return_sequences: true}}
  - {type: LSTM, units: 5}
  - {type: Dense, units: 4, activation: relu}
  - {type: Dense, units: 1, activation: sigmoid}
compile: {optimizer: adam, loss: binary_crossentropy}
train: {epochs: 1%s}
"""


def train_section(extra: str = ""):
    result = check_text(SPEC % extra, "fast.yaml")
    assert result.ok, result.errors
    return result.spec.train


def test_fast_on_a_cpu_uses_bfloat16_only_where_it_measured_faster(monkeypatch):
    """Mixed bfloat16 trained the course CNN 1.45x as fast on TensorFlow with AMX; on JAX's CPU it was slower."""
    train = train_section(", fast: true")
    monkeypatch.setattr(backend, "cpu_has_amx", lambda: False)
    assert backend.performance(train, "cpu", "tensorflow") == {"precision": "float32", "jit_compile": "auto",
                                                               "steps_per_execution": 1}
    monkeypatch.setattr(backend, "cpu_has_amx", lambda: True)
    assert backend.performance(train, "cpu", "tensorflow")["precision"] == "mixed_bfloat16"
    assert backend.performance(train, "cpu", "jax")["precision"] == "float32"
    explicit = train_section(", fast: true, precision: float32")
    assert backend.performance(explicit, "cpu", "tensorflow")["precision"] == "float32"


def test_fast_on_a_gpu_uses_bfloat16_and_xla(monkeypatch):
    monkeypatch.setattr(backend, "gpu_has_bfloat16", lambda: True)
    assert backend.performance(train_section(", fast: true"), "gpu", "jax") == {
        "precision": "mixed_bfloat16", "jit_compile": True, "steps_per_execution": backend.GPU_STEPS_PER_EXECUTION}
    monkeypatch.setattr(backend, "gpu_has_bfloat16", lambda: False)  # before Ampere: float16, loss-scaled
    assert backend.performance(train_section(", fast: true"), "gpu", "tensorflow") == {
        "precision": "mixed_float16", "jit_compile": True, "steps_per_execution": 1}


def test_steps_per_execution_auto_is_16_only_with_jax_on_a_gpu():
    train = train_section()
    assert train.steps_per_execution == "auto"
    resolved = {(device, name): backend.performance(train, device, name)["steps_per_execution"]
                for device in ("cpu", "gpu") for name in ("tensorflow", "jax")}
    assert resolved == {("cpu", "tensorflow"): 1, ("cpu", "jax"): 1, ("gpu", "tensorflow"): 1,
                        ("gpu", "jax"): backend.GPU_STEPS_PER_EXECUTION}


def test_values_the_spec_sets_win_over_the_preset(monkeypatch):
    monkeypatch.setattr(backend, "gpu_has_bfloat16", lambda: True)
    train = train_section(", fast: true, precision: float32, steps_per_execution: 2")
    assert backend.performance(train, "gpu", "jax") == {"precision": "float32", "jit_compile": True,
                                                        "steps_per_execution": 2}


@pytest.mark.slow
def test_several_steps_per_call_on_jax_train_exactly_the_same_steps(tmp_path):
    """What lets `auto` run 16 batches per call with JAX on a GPU: on JAX the history is the same as with 1
    (on TensorFlow the weights are, but Keras reports other epoch losses: why `auto` stays 1 there)."""
    pytest.importorskip("jax")
    import os

    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.random((100, 4), dtype="float32"), y=rng.integers(0, 2, (100, 1)))
    spec = tmp_path / "spec.yaml"
    spec.write_text("specc: 1\nseed: 0\nlayers:\n  - {type: Dense, units: 8, activation: relu, input_shape: [4]}\n"
                    "  - {type: Dropout, rate: 0.3}\n  - {type: Dense, units: 1, activation: sigmoid}\n"
                    "compile: {optimizer: adam, loss: binary_crossentropy}\n"
                    "train: {epochs: 3, batch_size: 16, validation_split: 0}\n"
                    "data: {source: {type: npz, path: d.npz}, test_split: 0.1}\n")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    histories = []
    for spe in (1, 4):
        run = tmp_path / f"spe{spe}"
        out = run_cli("train", spec, "--run-dir", run, "-q", "--set", f"train.steps_per_execution={spe}", env=env)
        assert out.returncode == 0, out.stderr
        histories.append(json.loads((run / "history.json").read_text()))
    assert histories[0] == histories[1] and len(histories[0]["loss"]) == 3


PROBE = """
import json, sys
from specc import lower
from specc.check import check_text
lower._jax_on_gpu = lambda: sys.argv[2] == "gpu"  # where JAX would run: the one thing a CPU cannot show
model = lower.keras_model(check_text(open(sys.argv[1]).read(), "fast.yaml"), precision="mixed_bfloat16")
b = model.get_layer("bidirectional")
print(json.dumps({"policies": {layer.name: layer.dtype_policy.name for layer in model.layers},
                  "directions": [b.forward_layer.compute_dtype, b.backward_layer.compute_dtype],
                  "output": str(model.output.dtype)}))
"""


def test_mixed_lstm_computes_in_float32_where_jax_would_run_it_on_cudnn(tmp_path):
    """jax.experimental.rnn's cuDNN LSTM takes float32 only; such layers stay float32 in a mixed model."""
    pytest.importorskip("jax")
    import os
    import subprocess
    import sys

    (tmp_path / "fast.yaml").write_text(SPEC % "")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}

    def lowered(where):
        out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "fast.yaml"), where], env=env,
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.splitlines()[-1])

    gpu = lowered("gpu")
    assert gpu["policies"] == {"input_layer": "mixed_bfloat16", "embedding": "mixed_bfloat16", "bidirectional": "float32", "lstm": "float32",
                               "dense": "mixed_bfloat16", "dense_1": "float32"}
    assert gpu["directions"] == ["float32", "float32"] and gpu["output"] == "float32"
    cpu = lowered("cpu")  # on a CPU, Keras's generic loop runs in bfloat16
    assert cpu["policies"]["lstm"] == cpu["policies"]["bidirectional"] == "mixed_bfloat16"
    assert cpu["directions"] == ["bfloat16", "bfloat16"]


@pytest.mark.slow
def test_train_fast_is_recorded_and_kept_for_resume(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text((SPEC % ", batch_size: 8").replace("name: fast", "name: fast\ndata: {source: {type: "
                                                                        "npz, path: d.npz}, test_split: 0.25}"))
    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.integers(1, 50, (64, 12)).astype("float32"), y=rng.integers(0, 2, (64, 1)))
    out = run_cli("train", spec, "--fast", "--device", "cpu", "--run-dir", tmp_path / "run")
    assert out.returncode == 0, out.stderr
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["fast"] is True and info["device"] == "cpu"
    bfloat16 = backend.cpu_has_amx() and info["backend"] == "tensorflow"  # the preset on a CPU
    assert info["precision"] == ("mixed_bfloat16" if bfloat16 else "float32")
    assert f"fast preset on cpu ({info['backend']}): precision {info['precision']}, XLA Keras's choice, 1 batch" \
        in out.stderr.splitlines()[0]
    assert "fast: true" in (tmp_path / "run" / "spec.yaml").read_text()
    out = run_cli("train", "--resume", tmp_path / "run", "--fast")
    assert out.returncode == 2 and "--resume continues a run as it was configured" in out.stderr
