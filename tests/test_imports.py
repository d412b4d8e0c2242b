"""The fast commands never import TensorFlow or Keras (nor numpy): checked in a fresh interpreter."""

import pytest
from conftest import probe_cli


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
    from conftest import probe_python

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

