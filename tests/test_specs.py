"""Every spec in specs/ validates, builds, and its static figures equal what Keras builds."""

import pytest
from conftest import SPECS

from specc.check import check_file
from specc.schema.data import SklearnSource


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_spec_is_valid_without_warnings(path):
    result = check_file(path)
    assert result.diagnostics == [], [d.message for d in result.diagnostics]
    spec = result.spec
    assert spec.name and spec.description, "every example has a name and a description"
    assert spec.compile is not None and spec.data is not None, "every example is a whole experiment"
    assert path.read_text().startswith("#"), "every example opens with a comment that explains it"


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_static_shapes_and_params_match_keras(path):
    from specc.lower import keras_model

    result = check_file(path)
    model = keras_model(result)
    # Keras orders branches its own way; a Shared node is a second call of a layer, not a layer.
    nodes = [n for n in result.graph.nodes if n.layer.kind() != "Shared"]
    assert sorted(layer.name for layer in model.layers) == sorted(n.name for n in nodes)
    for node in nodes:
        layer = model.get_layer(node.name)
        info = result.info[node.name]
        assert tuple(layer.output.shape) == info.shape, node.name
        trainable = sum(int(w.numpy().size) for w in layer.trainable_weights)
        frozen = sum(int(w.numpy().size) for w in layer.non_trainable_weights)
        assert (trainable, frozen) == (info.params.trainable, info.params.non_trainable), node.name
    assert model.count_params() == result.params.total


OFFLINE = [p for p in SPECS if isinstance(check_file(p).spec.data.source, SklearnSource)]


@pytest.mark.slow
@pytest.mark.parametrize("path", OFFLINE, ids=lambda p: p.name)
def test_offline_spec_trains(path, tmp_path):
    """Specs whose data ships with a package train end to end (2 epochs) and evaluate."""
    import json

    from conftest import run_cli

    out = run_cli("train", path, "--run-dir", tmp_path / "run", "--epochs", "2", "--quiet")
    assert out.returncode == 0, out.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test"] and all(v == v for v in metrics["test"].values())  # no NaN


def test_examples_cover_the_training_features_the_course_teaches():
    """Each optimizer of the course, a decaying learning rate, gradient clipping and early stopping appear
    somewhere in specs/, so a learner finds a worked example of each."""
    from pydantic import BaseModel

    specs = [check_file(p).spec for p in SPECS]
    optimizers = {s.compile.optimizer.type for s in specs}
    assert optimizers >= {"SGD", "Adam", "AdamW", "Adadelta", "Adagrad", "RMSprop", "Nadam"}
    assert any(isinstance(s.compile.optimizer.learning_rate, BaseModel) for s in specs), "a schedule"
    clipping = {k for s in specs for k in ("clipnorm", "clipvalue", "global_clipnorm")
                if getattr(s.compile.optimizer, k) is not None}
    assert clipping == {"clipnorm", "clipvalue", "global_clipnorm"}
    assert any(s.train.early_stopping not in (None, False) for s in specs)
    assert {s.compile.loss.canonical for s in specs} >= {"binary_crossentropy", "categorical_crossentropy",
                                                         "mean_squared_error"}
