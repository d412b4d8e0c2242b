"""The `data` section: where training data comes from and how it is prepared.

Pure Pydantic: `specc validate` checks a data section without importing numpy or Keras.
The loading itself is in specc/runners/data.py.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..layers.base import by_type, lazy_union

PosInt = Annotated[int, Field(gt=0)]
Column = Union[str, Annotated[int, Field(ge=0)]]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, defer_build=True)


class SklearnSource(_Model):
    """A dataset bundled inside scikit-learn: works offline on a fresh install."""

    type: Literal["sklearn"]
    name: Literal["digits", "iris", "wine", "breast_cancer", "diabetes", "linnerud"] = Field(
        description="The scikit-learn loader (`sklearn.datasets.load_NAME`)."
    )


Named = Annotated[dict[str, str], Field(min_length=1)]  # model input/output name -> array name or file


class NpzSource(_Model):
    """Arrays from a NumPy .npz file. For a model with several inputs or outputs, `x` and `y` map each input
    and output name to the name of its array in the file."""

    type: Literal["npz"]
    path: str = Field(description="Path to the .npz file, relative to the spec file.")
    x: Union[str, Named] = Field(
        "x", description="Name of the features array in the file, or a mapping from input name to array name."
    )
    y: Union[str, Named, None] = Field(
        "y", description="Name of the labels array, or a mapping from output name to array name; null for "
        "unlabelled data."
    )


class NpySource(_Model):
    """A pair of NumPy .npy files: features and labels. Read memory-mapped, so a large file is not read
    whole before it is needed. For a model with several inputs or outputs, `x` and `y` map each input and
    output name to its file."""

    type: Literal["npy"]
    x: Union[str, Named] = Field(
        description="Path to the features .npy file, relative to the spec file, or a mapping from input name to path."
    )
    y: Union[str, Named, None] = Field(
        None, description="Path to the labels .npy file, or a mapping from output name to path; null for "
        "unlabelled data."
    )


class CsvSource(_Model):
    """A CSV table: one sample per row. String labels are class names (encoded in sorted order); every
    feature must be a number."""

    type: Literal["csv"]
    path: str = Field(description="Path to the .csv file, relative to the spec file.")
    label: Column | None = Field(
        None, description="The label column (a header name or a 0-based index); null for unlabelled data."
    )
    features: list[Column] | None = Field(
        None, min_length=1, description="The feature columns, in order; null means every column but the label."
    )
    delimiter: str = Field(",", min_length=1, max_length=1, description="The field separator.")
    header: bool = Field(True, description="The first row names the columns; without it, use column indexes.")

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str) -> str:
        if value in ('"', "\n", "\r"):
            raise ValueError(f"the delimiter cannot be {value!r}: it ends a row or quotes a field")
        return value

    @model_validator(mode="after")
    def _columns(self):
        if not self.header:
            named = [c for c in [self.label, *(self.features or [])] if isinstance(c, str)]
            if named:
                raise ValueError(f"without a header, label and features are 0-based column indexes, not "
                                 f"names ('{named[0]}')")
        if self.label is not None and self.features is not None and self.label in self.features:
            raise ValueError(f"label column '{self.label}' is also listed in features")
        return self


class ImagesSource(_Model):
    """A folder with one sub-folder of images (PNG, JPEG, BMP, GIF) per class; the class names are the
    sub-folder names, in sorted order. Pixel values are 0..255 (set `rescale: 0.00392156862745098` for
    0..1)."""

    type: Literal["images"]
    path: str = Field(description="The folder, relative to the spec file.")
    image_size: list[PosInt] = Field(
        min_length=2, max_length=2, description="Every image is resized to [height, width]."
    )
    color_mode: Literal["grayscale", "rgb"] = Field(
        "rgb", description="`grayscale`: samples of shape [h, w, 1]; `rgb`: [h, w, 3]."
    )


class TextSource(_Model):
    """A folder with one sub-folder of .txt files per class; the class names are the sub-folder names, in
    sorted order. Texts become token ids with Keras's TextVectorization (lower-cased, punctuation
    stripped), adapted on the training split only; the vocabulary is saved with the run."""

    type: Literal["text"]
    path: str = Field(description="The folder, relative to the spec file.")
    max_tokens: PosInt = Field(20000, description="Vocabulary size, including the padding and unknown tokens.")
    output_sequence_length: PosInt = Field(
        description="Every text becomes this many token ids (padded with 0 or truncated)."
    )




class KerasSource(_Model):
    """A dataset from `keras.datasets`, with its own train/test split. Read from Keras's local cache
    (`~/.keras/datasets`, or `$KERAS_HOME/datasets`), downloaded there on first use; works offline once
    cached."""

    type: Literal["keras"]
    name: Literal["mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters", "boston_housing"] = Field(
        description="The `keras.datasets` module."
    )
    num_words: PosInt | None = Field(
        None, description="imdb and reuters only: keep the most frequent words (others become the unknown id 2)."
    )
    output_sequence_length: PosInt | None = Field(
        None, description="imdb and reuters (required): pad or truncate each review/newswire to this many ids."
    )

    @model_validator(mode="after")
    def _sequences(self):
        sequences = self.name in ("imdb", "reuters")
        if sequences and self.output_sequence_length is None:
            raise ValueError(f"{self.name} holds texts of different lengths: set output_sequence_length")
        if not sequences:
            for key in ("num_words", "output_sequence_length"):
                if getattr(self, key) is not None:
                    raise ValueError(f"{key} applies to imdb and reuters, not {self.name}")
        return self


SOURCES = by_type(SklearnSource, NpzSource, NpySource, CsvSource, ImagesSource, TextSource, KerasSource)
Source = lazy_union(_Model, SOURCES)


class Window(_Model):
    """Sliding windows over a series (forecasting): each sample is `size` consecutive steps and its target the
    step `horizon` steps after the window's last one."""

    size: PosInt = Field(description="Steps in each window (the samples' first axis).")
    horizon: PosInt = Field(1, description="How many steps after the window's last step the target is (1: the next).")
    stride: PosInt = Field(1, description="Steps between the starts of consecutive windows.")


class Data(_Model):
    """Training data and its preparation, applied in this order: read the sources, encode labels, cut windows,
    split, rescale, normalize, reshape."""

    source: Source = Field(description="Where the training data comes from.")
    validation: Source | None = Field(
        None, description="A separate validation set; otherwise train.validation_split of the training data is used."
    )
    test: Source | None = Field(
        None, description="A separate test set; otherwise test_split of source is held out (keras datasets: their own)."
    )
    test_split: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.2, description="Fraction of source held out for testing: at random (with the spec's seed), or the last "
        "windows for windowed data."
    )
    window: Window | None = Field(None, description="Cut a series into windows for sequence forecasting.")
    reshape: list[Annotated[int, Field(ge=-1)]] | None = Field(
        None, description="Reshape each sample, e.g. [8, 8, 1] to feed flat digits to a CNN (with several inputs: "
        "each input's samples)."
    )
    rescale: float | None = Field(None, description="Multiply the features by this, e.g. 0.0625 for digits.")
    normalize: bool = Field(
        False, description="Standardize each feature (z-score) with the training split's mean and standard deviation "
        "(with several inputs: each input's own); the statistics are saved with the run and reused by evaluate and "
        "predict."
    )
    labels: Literal["auto", "sparse", "one_hot", "raw"] = Field(
        "auto", description="Label encoding; auto picks one-hot for categorical_crossentropy (with several outputs: "
        "per output, from its loss; another value applies to every output)."
    )
    target: Literal["labels", "input"] = Field(
        "labels", description="`input` trains an autoencoder: the target is the (clean) input."
    )
    noise: Annotated[float, Field(ge=0)] = Field(0.0, description="Gaussian noise stddev added to inputs (denoising).")
    classes: list[Union[int, str]] | None = Field(
        None, min_length=1, description="Keep only the samples of these classes (labels as the source gives them) "
        "and number them 0, 1, ... in this order: e.g. [5, 6, 7, 8, 9] trains on the digits 5-9 as classes 0-4.")

    @field_validator("classes")
    @classmethod
    def _distinct(cls, value):
        seen = set()
        for v in value or []:
            if str(v) in seen:  # labels are matched as text: 0 and "0" are one class
                raise ValueError(f"classes lists {v!r} twice")
            seen.add(str(v))
        return value

    @model_validator(mode="after")
    def _consistent(self):
        if self.window is not None and self.target == "input":
            raise ValueError("window makes the next steps the targets; target: input does not apply to windows")
        if self.noise and self.target != "input":
            raise ValueError("noise applies to autoencoders (target: input)")
        tokens = self.source.type == "text" or (self.source.type == "keras" and self.source.name in ("imdb", "reuters"))
        if tokens and (self.normalize or self.rescale is not None):
            raise ValueError("rescale and normalize do not apply to token ids (text, imdb, reuters)")
        return self
