"""Starting specs for `specc init` (package data: templates/*.yaml).

Each template is a complete, commented spec that validates without warnings, is in `specc fmt`'s
canonical layout and trains as written on data bundled with scikit-learn (tests/test_init.py checks all
three); `fine-tuning` also writes the small pretrained model it starts from. To add one: write ``NAME.yaml`` here, list it below and
run ``python -m specc.docgen`` (docs/diagrams-and-templates.md's table is generated from this list).
"""

from __future__ import annotations

from importlib import resources

TEMPLATES: dict[str, str] = {
    "tabular-classifier": "MLP classifier for a table of numbers (sklearn breast_cancer; binary, sigmoid output)",
    "image-cnn": "conv/pool/dropout CNN for small images (sklearn digits as 8x8x1 images, 10 classes)",
    "autoencoder": "convolutional autoencoder that rebuilds its input (sklearn digits, target: input)",
    "sequence-rnn": "stacked LSTMs over sequences (sklearn digits read row by row, reshape [8, 8])",
    "regression": "MLP with one linear output and mean squared error (sklearn diabetes, labels: raw)",
    "fine-tuning": "a pretrained CNN's frozen convolutions with a new head (writes the base model beside it)",
    "sweep": "the digits MLP with a search: section over width, optimizer and learning rate (specc tune)",
}

# Files a template needs beside the spec it writes (relative paths, copied from this package).
EXTRA_FILES: dict[str, list[str]] = {"fine-tuning": ["pretrained/digits_0_4.keras"]}


def template_file(relative: str) -> bytes:
    return resources.files(__package__).joinpath(relative).read_bytes()


def template_text(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
