"""The fast commands never import TensorFlow or Keras (nor numpy): checked in a fresh interpreter."""

import pytest
from conftest import probe_cli, probe_python


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["validate", "--help"],
        ["validate", "specs/"],
        ["validate", "--format", "json", "specs/course_cnn.yaml"],
        ["summary", "specs/course_cnn.yaml"],
        ["summary", "--json", "specs/bidirectional_rnn.yaml"],
        ["schema"],
        ["train", "--help"],
    ],
)
def test_fast_commands_do_not_import_tensorflow(args):
    code, heavy, out = probe_cli(*args)
    assert code in (0, None), out.stdout + out.stderr
    assert heavy == [], f"{args} imported {heavy}"


def test_invalid_spec_does_not_import_tensorflow(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("specc: 1\nlayers:\n  - {type: Dense, units: 0, input_dim: 3}\n")
    code, heavy, _ = probe_cli("validate", bad)
    assert (code, heavy) == (1, [])


def test_the_python_api_stays_light_until_a_model_is_built(tmp_path):
    """`import specc`, loading, summarizing and plotting a spec, and a SpecError: no TensorFlow, Keras or numpy."""

    bad = tmp_path / "bad.yaml"
    bad.write_text("specc: 1\nlayers:\n  - {type: Dense, units: 0, input_dim: 3}\n")
    heavy, out = probe_python(f"""
import specc
spec = specc.load("specs/course_cnn.yaml", overrides=["train.epochs=1"])
assert "Total params" in spec.summary() and "<svg" in spec.plot()
assert "<table" in spec._repr_html_()
try:
    specc.load({str(bad)!r})
except specc.SpecError as e:
    assert e.diagnostics[0].code == "E102" and "E102" in e._repr_html_()
else:
    raise AssertionError("no SpecError")
""")
    assert out.returncode == 0, out.stderr
    assert heavy == []



def test_the_layer_index_names_every_kind_where_it_is_defined():
    """specc.layers.FAMILIES, the index the registry imports a family by, lists each kind of each family module
    in the order the modules define them, and nothing else."""
    import importlib

    from specc.layers import FAMILIES, REGISTRY

    defined = {}
    for family in FAMILIES:
        module = importlib.import_module(f"specc.layers.{family}")
        defined[family] = tuple(tag for tag, kind in REGISTRY.kinds.items() if kind.__module__ == module.__name__)
    assert defined == FAMILIES
    assert list(REGISTRY) == [tag for tags in FAMILIES.values() for tag in tags]
    assert all(REGISTRY[tag].kind() == tag for tag in REGISTRY)


def test_checking_imports_only_the_layer_families_a_spec_uses():
    heavy, out = probe_python("""
import specc
specc.load("specs/digits_mlp.yaml")
import sys
print("families:", sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("specc.layers.")))
""")
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("families:"))
    assert line.split(" ", 1)[1] == "['base', 'core', 'models']"


def test_checking_builds_only_the_validators_a_spec_uses():
    """The spec language's validators are built when a spec first needs them: none at import, and checking a
    spec with Adam and an sklearn source builds those kinds and not the other optimizers, schedules or sources."""
    _, out = probe_python("""
import specc.check
from specc.schema import compile, data, search

def built(models):
    return sorted(m.__name__ for m in models if m.__pydantic_complete__)

kinds = [*compile.OPTIMIZERS.values(), *compile.SCHEDULES.values(), *data.SOURCES.values(), search.Categorical]
print("import:", built([*kinds, compile.Compile, compile.Losses, data.Data]))
specc.check.check_file("specs/digits_mlp.yaml")
print("checked:", built(kinds))
""")
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    assert lines["import"] == "[]"
    assert lines["checked"] == "['Adam', 'SklearnSource']"
