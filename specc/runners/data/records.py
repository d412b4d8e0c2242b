"""What the data steps pass along: the prepared arrays, what preparation learned, one source as read."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

PREPROCESSING_FILE = "preprocessing.json"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


@dataclass
class Arrays:
    """Prepared data, in memory. The trainer builds its own (seeded, resumable) input pipeline from it.

    ``x_val``/``y_val`` come from the spec's validation source or, failing that, are the last
    ``train.validation_split`` of the training data (as in Keras); None when there is no validation.
    ``artifacts`` are files for the run directory (name -> bytes or a JSON-able value): ``preprocessing.json``.
    """

    x_train: object
    y_train: object
    x_test: object
    y_test: object
    classes: list | None
    fingerprint: str
    description: str
    x_val: object = None
    y_val: object = None
    artifacts: dict = field(default_factory=dict)
    preprocessing: Preprocessing | None = None


@dataclass
class Preprocessing:
    """What the training data taught the preparation; saved in the run as preprocessing.json."""

    source: str = ""
    classes: list | None = None
    columns: list | None = None
    label_column: str | int | None = None
    mean: list | float | None = None
    std: list | float | None = None
    vocabulary: list | None = None
    series_ndim: int | None = None
    label_names: bool = False

    def to_json(self) -> dict:
        return {"format": 1, **{f.name: getattr(self, f.name) for f in fields(self)}}

    @classmethod
    def from_json(cls, data: dict) -> Preprocessing:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass
class Raw:
    """One source as read: features (numbers, or texts), labels (numbers or class names), where from."""

    x: object
    y: object
    where: str
    classes: list | None = None
    test: Raw | None = None
    columns: list | None = None
    label_column: str | int | None = None
    files: list | None = None
    tokens: bool = False
    label_text: list | None = None
