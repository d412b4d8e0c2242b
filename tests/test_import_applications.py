"""`specc import` over every architecture in keras.applications (built offline: weights=None).

Each one, at the smallest input it accepts, is saved as a user saves it (.keras and to_json()), imported
from both, and checked against Keras: the spec's static layers, output shapes and parameter counts equal
the original's, and the model specc builds from the spec takes the original file's weights
(``load_weights``) and predicts what the original predicts on a fixed batch. ConvNeXt (LayerScale) and
InceptionResNetV2 (CustomScaleLayer) included. Slow: every architecture is built twice and saved.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402
from test_import import round_trip  # noqa: E402

APPS = keras.applications
# Where an architecture needs more than 32x32 (its smallest input).
MIN_SIZE = {"InceptionV3": 75, "InceptionResNetV2": 75, "Xception": 71}
# Every architecture in keras.applications, so one added by a later Keras is checked too.
NAMES = sorted(n for n in dir(APPS) if n[:1].isupper() and callable(getattr(APPS, n)))


def test_the_list_is_every_application():
    """Not vacuous: the families a user reaches for are all there."""
    families = {"ConvNeXtTiny", "DenseNet121", "EfficientNetB0", "EfficientNetV2B0", "InceptionResNetV2",
                "InceptionV3", "MobileNet", "MobileNetV2", "MobileNetV3Small", "NASNetMobile", "ResNet50",
                "ResNet50V2", "VGG16", "Xception"}
    assert families <= set(NAMES) and len(NAMES) >= 40


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
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
