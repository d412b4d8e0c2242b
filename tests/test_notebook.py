"""docs/notebook.ipynb runs top to bottom in a real Jupyter kernel (nbclient + ipykernel), and what it shows is
what the API promises: a spec's table and diagram, located diagnostics, plain progress lines, a run's metrics."""

import os

import pytest
from conftest import ROOT

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")


def _outputs(cell, kind):
    """Every output of ``kind`` ('text/html', 'text/plain', 'stdout', 'stderr') of a cell, joined."""
    found = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == kind:
            found.append(out["text"])
        elif kind in out.get("data", {}):
            found.append(out["data"][kind])
    return "".join(found)


@pytest.mark.slow
def test_the_course_notebook_runs_in_a_kernel_and_shows_what_it_should(tmp_path):
    nb = nbformat.read(ROOT / "docs" / "notebook.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), "commit it without outputs"
    # The notebook runs from docs/ and reads ../specs/: the same layout in a temporary folder.
    (tmp_path / "docs").mkdir()
    (tmp_path / "specs").symlink_to(ROOT / "specs")
    nb.cells.append(nbformat.v4.new_code_cell("print(specc.__file__)"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path / "docs")}})
    client.execute(env=env)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    by_source = {cell.source.splitlines()[0]: cell for cell in code}

    assert _outputs(code[-1], "stdout").strip() == str(ROOT / "specc" / "__init__.py")  # this checkout's specc
    neuron = _outputs(by_source['neuron = specc.load("""'], "text/html")
    assert "<table" in neuron and "<svg" in neuron and "Total params: 4" in neuron
    error = by_source["try:"]
    assert "error[E102]" in _outputs(error, "text/html") and "^" in _outputs(error, "text/html")
    assert "[('E102', 3, 26)]" in _outputs(error, "stdout")
    training = by_source['mlp_run = mlp.train(run_dir="runs/digits-mlp", epochs=2)']
    progress = _outputs(training, "stderr")
    assert "epoch 1/2" in progress and "epoch 2/2" in progress
    assert "\x1b" not in progress and "\r" not in progress  # no terminal control codes in Jupyter
    run = _outputs(training, "text/html")
    assert "completed" in run and "accuracy" in run and "data:image/png;base64," in run
    assert "predicted:" in _outputs(by_source["from sklearn.datasets import load_digits"], "stdout")
    assert "'accuracy'" in _outputs(by_source["cnn_run = cnn.train(run_dir=\"runs/digits-cnn\")"], "text/plain")
    assert "(4, 8, 8, 1)" in _outputs(by_source['autoencoder_run = autoencoder.train(run_dir="runs/autoencoder", '
                                                 'epochs=1)'], "text/plain")
    assert _outputs(code[-2], "text/plain") == "True"
    for name in ("digits-mlp", "digits-cnn", "autoencoder"):
        assert (tmp_path / "docs" / "runs" / name / "model.keras").is_file()
