"""`specc compare`: spec, data, environment and results of real runs side by side, and their curves in one PNG."""

import json

import pytest
from conftest import probe_cli, run_cli

pytestmark = pytest.mark.slow  # the runs are trained for real (once per test process)


@pytest.fixture(scope="module")
def narrow(tiny_runs):
    """A third real run: a narrower hidden layer, 2 epochs, a larger test split."""
    run = tiny_runs["root"].parent / "narrow"
    if not run.exists():
        out = run_cli("train", tiny_runs["spec"], "--run-dir", run, "-q", "--epochs", "2",
                      "--set", "layers[0].units=8", "--set", "data.test_split=0.5")
        assert out.returncode == 0, out.stderr
    return run


def metrics(run):
    return json.loads((run / "metrics.json").read_text())


def test_two_runs_that_differ_in_the_learning_rate(tiny_runs):
    out = run_cli("compare", tiny_runs["a"], tiny_runs["b"])
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "compile.optimizer.learning_rate: 0.01 -> 0.05" in text
    assert "params: 131 -> 131" in text and "~ changed" not in text  # the architecture is the same
    data = text[text.index("data:"):text.index("environment:")]
    assert "*" not in data  # same data, same fingerprint
    fingerprint = json.loads((tiny_runs["a"] / "run.json").read_text())["data"]["fingerprint"]
    assert fingerprint in data
    a, b = metrics(tiny_runs["a"])["test"], metrics(tiny_runs["b"])["test"]
    line = next(x for x in text.splitlines() if "test accuracy" in x)
    if a["accuracy"] != b["accuracy"]:
        assert line.lstrip().startswith("*")
        assert f"{b['accuracy'] - a['accuracy']:+.4f}" in line
        assert ("better" if b["accuracy"] > a["accuracy"] else "worse") in line


def test_json_deltas_are_the_metric_differences(tiny_runs, narrow):
    out = run_cli("compare", tiny_runs["a"], tiny_runs["b"], narrow, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["runs"] == ["a", "b", "narrow"]
    runs = [tiny_runs["a"], tiny_runs["b"], narrow]
    for split in ("test", "validation", "train"):
        for name in ("accuracy", "loss"):
            entry = data["results"][f"{split} {name}"]
            values = [metrics(r)[split][name] for r in runs]
            assert entry["values"] == values
            assert entry["deltas"] == [pytest.approx(v - values[0]) for v in values]
    # The narrow run: the architecture diff shows the layer, the data its other split.
    layers = {c["name"]: c for c in data["spec"][1]["layers"]}
    changed = [c for c in layers.values() if c["status"] == "changed"]
    assert {c["type"] for c in changed} == {"Dense"}
    assert any(c["args"].get("units") == [16, 8] for c in changed)
    assert data["spec"][1]["params"] == {"a": 131, "b": 67, "delta": -64}  # 4*8+8 + 8*3+3
    assert data["data"]["test_samples"][0] != data["data"]["test_samples"][2]
    assert data["data"]["fingerprint"][0] == data["data"]["fingerprint"][1]
    assert data["run"]["epochs_done"] == [3, 3, 2]
    assert data["environment"]["backend"] == ["tensorflow"] * 3


def test_curves_overlaid_in_one_png(tiny_runs, narrow, tmp_path):
    import matplotlib.image

    png = tmp_path / "curves.png"
    out = run_cli("compare", tiny_runs["a"], tiny_runs["b"], narrow, "-o", png)
    assert out.returncode == 0, out.stderr
    image = matplotlib.image.imread(png)
    assert image.shape[1] > image.shape[0] > 200
    # One colour per run: matplotlib's first three line colours are all drawn.
    pixels = {tuple((p[:3] * 255).round().astype(int)) for p in image.reshape(-1, image.shape[-1])}
    for colour in ((0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e), (0x2c, 0xa0, 0x2c)):
        assert colour in pixels


def test_usage_errors(tiny_runs, tmp_path):
    for args, expected in (([tiny_runs["a"]], "two or more"),
                           ([tiny_runs["a"], tmp_path], "not a run directory"),
                           ([tiny_runs["a"], tiny_runs["b"], "-o", tmp_path / "c.jpg"], ".png")):
        out = run_cli("compare", *args)
        assert out.returncode == 2 and expected in out.stderr, out.stderr


def test_compare_reads_files_only(tiny_runs):
    code, heavy, out = probe_cli("compare", tiny_runs["a"], tiny_runs["b"])
    assert code in (0, None), out.stderr
    assert heavy == []
