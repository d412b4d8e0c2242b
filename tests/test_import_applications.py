"""`specc import` over every architecture in keras.applications (built offline: weights=None).

Each one, at the smallest input it accepts, is saved as a user saves it (.keras and to_json()), imported
from both, and checked against Keras: the spec's static layers, output shapes and parameter counts equal
the original's, and the model specc builds from the spec takes the original file's weights
(``load_weights``) and predicts what the original predicts on a fixed batch. ConvNeXt (LayerScale) and
InceptionResNetV2 (CustomScaleLayer) included. Slow: every architecture is built twice and saved, so the
default run checks one size of each family and ``SPECC_ALL_APPLICATIONS=1`` checks all of them:

    SPECC_ALL_APPLICATIONS=1 pytest -q tests/test_import_applications.py
"""

from __future__ import annotations

import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402
from conftest import round_trip, run_cli  # noqa: E402

APPS = keras.applications
# Where an architecture needs more than 32x32 (its smallest input).
MIN_SIZE = {"InceptionV3": 75, "InceptionResNetV2": 75, "Xception": 71}
# Every architecture in keras.applications, so one added by a later Keras is checked too.
NAMES = sorted(n for n in dir(APPS) if n[:1].isupper() and callable(getattr(APPS, n)))
# One of each family: every layer kind and block the applications use. The other sizes of a family repeat the
# same blocks deeper or wider (ConvNeXtXLarge has 348 million parameters), so they run on request only.
FAMILIES = {"ConvNeXtTiny", "DenseNet121", "EfficientNetB0", "EfficientNetV2B0", "InceptionResNetV2",
            "InceptionV3", "MobileNet", "MobileNetV2", "MobileNetV3Small", "NASNetMobile", "ResNet50", "ResNet50V2",
            "VGG16", "Xception"}
ALL = "SPECC_ALL_APPLICATIONS"
EVERY_SIZE = pytest.mark.skipif(os.environ.get(ALL) != "1", reason=f"another size of a family checked by default; "
                                f"{ALL}=1 checks it too")


def test_the_list_is_every_application():
    """Not vacuous: the list is found, and the families checked by default are in it."""
    assert FAMILIES <= set(NAMES) and len(NAMES) >= 40


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in FAMILIES else EVERY_SIZE) for n in NAMES])
def test_application_round_trips(name, tmp_path):
    size = MIN_SIZE.get(name, 32)
    model = getattr(APPS, name)(weights=None, input_shape=(size, size, 3), classes=10, classifier_activation=None)
    spec = round_trip(model, tmp_path)
    kinds = {x["type"] for x in spec["layers"] if isinstance(x, dict)}
    if name.startswith("ConvNeXt"):
        assert "LayerScale" in kinds
    if name == "InceptionResNetV2":
        assert "CustomScaleLayer" in kinds
    keras.backend.clear_session()


SPEC = """\
specc: 1
name: scaled
layers:
  - {type: Input, name: image, shape: [8, 8, 4]}
  - {type: Conv2D, name: branch, filters: 4, kernel_size: 3, padding: same}
  - {type: LayerScale, init_values: 0.5, projection_dim: 4}
  - {type: CustomScaleLayer, scale: 0.17, inputs: [image, layer_scale]}
  - GlobalAveragePooling2D
  - {type: Dense, units: 3}
"""

LOAD = """\
import sys
import keras
import numpy as np
model = keras.saving.load_model(sys.argv[1])
assert not any(m.startswith("specc") for m in sys.modules), "specc was imported"
print([type(layer).__name__ for layer in model.layers])
print(model.count_params())
np.save(sys.argv[2], np.asarray(model(np.ones((1, 8, 8, 4), "float32"))))
"""


def test_a_built_model_with_application_layers_loads_with_plain_keras(tmp_path):
    """`specc build` of LayerScale and CustomScaleLayer gives Keras's own classes: plain Keras, without specc,
    loads the file (it finds them by their module) and computes x + 0.17 * 0.5 * conv(x) with it."""
    import numpy as np

    (tmp_path / "scaled.yaml").write_text(SPEC)
    out = run_cli("build", tmp_path / "scaled.yaml", "-o", tmp_path / "scaled.keras")
    assert out.returncode == 0, out.stderr
    (tmp_path / "load.py").write_text(LOAD)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    loaded = subprocess.run([sys.executable, "load.py", "scaled.keras", "out.npy"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    kinds, params = loaded.stdout.strip().splitlines()[-2:]
    assert kinds == str(["InputLayer", "Conv2D", "LayerScale", "CustomScaleLayer", "GlobalAveragePooling2D",
                         "Dense"])
    assert int(params) == (3 * 3 * 4 * 4 + 4) + 4 + (4 * 3 + 3)  # Conv2D, LayerScale, Dense
    model = keras.saving.load_model(tmp_path / "scaled.keras")
    x = np.ones((1, 8, 8, 4), "float32")
    conv = keras.Model(model.input, model.get_layer("branch").output)(x)
    pooled = np.mean(x + 0.17 * 0.5 * np.asarray(conv), axis=(1, 2))
    dense = model.get_layer("dense")
    want = pooled @ np.asarray(dense.kernel) + np.asarray(dense.bias)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), want, rtol=1e-5, atol=1e-6)
