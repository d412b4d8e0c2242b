"""`specc init`: commented starting specs that validate, are formatted, and train as written."""

import sys
from importlib import resources
from pathlib import Path

import pytest
from conftest import ROOT, assert_names_its_schema, run_cli

from specc.check import check_text
from specc.fmt import format_file_text
from specc.jsonschema import with_modeline
from specc.schema.data import SklearnSource
from specc.templates import TEMPLATES, template_text

NAMES = sorted(TEMPLATES)


def test_every_template_file_is_listed_and_every_listed_one_exists():
    files = {p.name[:-5] for p in resources.files("specc.templates").iterdir() if p.name.endswith(".yaml")}
    assert files == set(TEMPLATES)
    assert {"tabular-classifier", "image-cnn", "autoencoder", "sequence-rnn", "regression"} <= files


def test_templates_ship_as_package_data():
    if sys.version_info < (3, 11):
        pytest.skip("tomllib")
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "templates/*.yaml" in config["tool"]["setuptools"]["package-data"]["specc"]


def test_list(tmp_path):
    out = run_cli("init", "--list")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(TEMPLATES)
    for line, about in zip(lines, TEMPLATES.values()):
        assert line.endswith(about)


def test_writes_the_template(tmp_path):
    target = tmp_path / "sub" / "spec.yaml"
    out = run_cli("init", "image-cnn", "-o", target)
    assert out.returncode == 0, out.stderr
    assert target.read_text() == with_modeline(template_text("image-cnn"))
    assert "specc summary" in out.stdout
    assert run_cli("validate", target).returncode == 0
    assert_names_its_schema(target)  # the schema was written beside it
    assert (target.parent / "specc.schema.json").read_text() == (ROOT / "docs" / "specc.schema.json").read_text()


def test_keeps_a_schema_file_that_is_there_unless_forced(tmp_path):
    (tmp_path / "specc.schema.json").write_text("{}")
    assert run_cli("init", "regression", "-o", tmp_path / "a.yaml").returncode == 0
    assert (tmp_path / "specc.schema.json").read_text() == "{}"
    assert run_cli("init", "regression", "-o", tmp_path / "a.yaml", "--force").returncode == 0
    assert_names_its_schema(tmp_path / "a.yaml")


def test_unknown_template_suggests_the_closest(tmp_path):
    out = run_cli("init", "image-cn", "-o", tmp_path / "s.yaml")
    assert out.returncode == 2
    assert "unknown template 'image-cn'" in out.stderr and "did you mean 'image-cnn'" in out.stderr
    assert not (tmp_path / "s.yaml").exists()


def test_needs_a_template_and_an_output(tmp_path):
    assert run_cli("init", "-o", tmp_path / "s.yaml").returncode == 2
    assert run_cli("init", "regression").returncode == 2


def test_refuses_to_overwrite_without_force(tmp_path):
    target = tmp_path / "spec.yaml"
    target.write_text("mine\n")
    out = run_cli("init", "regression", "-o", target)
    assert out.returncode == 2 and "--force" in out.stderr
    assert target.read_text() == "mine\n"
    assert run_cli("init", "regression", "-o", target, "--force").returncode == 0
    assert target.read_text() == with_modeline(template_text("regression"))


@pytest.mark.parametrize("name", NAMES)
def test_template_is_valid_without_warnings_and_formatted(name):
    text = template_text(name)
    assert text.startswith("#"), "a template opens with a comment that explains it"
    where = Path(str(resources.files("specc.templates").joinpath(f"{name}.yaml")))  # beside its extra files
    result = check_text(text, str(where), where)
    assert result.diagnostics == [], [d.message for d in result.diagnostics]
    spec = result.spec
    assert spec.name == name and spec.description
    assert spec.compile is not None and spec.data is not None, "a template is a whole experiment"
    assert isinstance(spec.data.source, SklearnSource), "a template trains offline on a fresh install"
    formatted, diagnostics = format_file_text(text, str(where))
    assert formatted == text, "not in `specc fmt`'s canonical layout"


def test_templates_pass_the_cli_checks():
    folder = resources.files("specc.templates")
    assert run_cli("validate", "--strict", folder).returncode == 0
    assert run_cli("fmt", "--check", folder).returncode == 0


def test_template_kinds():
    folder = Path(str(resources.files("specc.templates")))
    specs = {name: check_text(template_text(name), name, folder / f"{name}.yaml").spec for name in NAMES}
    assert specs["autoencoder"].data.target == "input"
    assert specs["regression"].data.labels == "raw"
    assert specs["regression"].layers[-1].units == 1
    assert specs["sequence-rnn"].data.reshape == [8, 8]
    assert specs["image-cnn"].data.reshape == [8, 8, 1]
    assert specs["tabular-classifier"].data.source.name in ("breast_cancer", "wine")
    kinds = {name: [layer.kind() for layer in spec.layers] for name, spec in specs.items()}
    assert "LSTM" in kinds["sequence-rnn"]
    assert {"Conv2D", "MaxPooling2D", "Dropout"} <= set(kinds["image-cnn"])
    assert {"Conv2D", "UpSampling2D"} <= set(kinds["autoencoder"])
    base = specs["fine-tuning"].layers[1]
    assert base.kind() == "Model" and base.path and base.trainable is False


def test_the_fine_tuning_base_is_the_one_specs_use(tmp_path):
    """One pretrained model, shipped twice (package data for `specc init`, specs/ for the tutorial)."""
    from specc.templates import template_file

    shipped = (Path(__file__).resolve().parent.parent / "specs" / "pretrained" / "digits_0_4.keras").read_bytes()
    assert template_file("pretrained/digits_0_4.keras") == shipped
    out = run_cli("init", "fine-tuning", "-o", tmp_path / "spec.yaml")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "pretrained" / "digits_0_4.keras").read_bytes() == shipped
    assert run_cli("init", "fine-tuning", "-o", tmp_path / "other.yaml").returncode == 2  # would overwrite the base


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_template_trains(name, tmp_path):
    spec = tmp_path / "spec.yaml"
    assert run_cli("init", name, "-o", spec).returncode == 0
    out = run_cli("train", spec, "--epochs", "2", "--run-dir", tmp_path / "run", "-q", "--device", "cpu")
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "run" / "model.keras").is_file()
