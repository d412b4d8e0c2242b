"""The `compile` section: optimizer (with schedule and clipping), loss, metrics.

Every name is allow-listed and maps to a Keras class explicitly; nothing from
a spec reaches Keras's deserializers. A model with several outputs takes one
loss for all of them or a mapping ``{output_name: loss}``, optional
``loss_weights`` and metrics per output; that the names are the model's
outputs is checked in specc/analysis/checks.py.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, RootModel, Tag, field_validator, model_validator

from ..layers.base import by_type, lazy_union

PosFloat = Annotated[float, Field(gt=0)]
UnitFloat = Annotated[float, Field(ge=0, lt=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, defer_build=True)

    def kwargs(self, exclude: frozenset = frozenset({"type"})) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.model_fields_set - exclude}


# -- learning-rate schedules --------------------------------------------------
class ExponentialDecay(_Model):
    """lr * decay_rate ** (step / decay_steps)."""

    type: Literal["ExponentialDecay"]
    initial_learning_rate: PosFloat
    decay_steps: Annotated[int, Field(gt=0)]
    decay_rate: PosFloat
    staircase: bool = False


class InverseTimeDecay(_Model):
    """lr / (1 + decay_rate * step / decay_steps)."""

    type: Literal["InverseTimeDecay"]
    initial_learning_rate: PosFloat
    decay_steps: Annotated[int, Field(gt=0)]
    decay_rate: PosFloat
    staircase: bool = False


class PiecewiseConstantDecay(_Model):
    """A constant rate per range of steps."""

    type: Literal["PiecewiseConstantDecay"]
    boundaries: list[Annotated[int, Field(ge=0)]] = Field(min_length=1)
    values: list[PosFloat] = Field(min_length=2)

    @model_validator(mode="after")
    def _lengths(self):
        if len(self.values) != len(self.boundaries) + 1:
            raise ValueError("values needs exactly one more entry than boundaries")
        return self


class CosineDecay(_Model):
    """Cosine decay, optionally after a linear warm-up to warmup_target."""

    type: Literal["CosineDecay"]
    initial_learning_rate: Annotated[float, Field(ge=0)]
    decay_steps: Annotated[int, Field(gt=0)]
    alpha: Annotated[float, Field(ge=0, le=1)] = 0.0
    warmup_target: PosFloat | None = None
    warmup_steps: Annotated[int, Field(ge=0)] = 0


SCHEDULES = by_type(ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, CosineDecay)
Schedule = lazy_union(_Model, SCHEDULES)
LearningRate = Union[PosFloat, Schedule]


# -- optimizers ---------------------------------------------------------------
class _Optimizer(_Model):
    learning_rate: LearningRate = 0.001
    weight_decay: Annotated[float, Field(ge=0)] | None = None
    clipnorm: PosFloat | None = Field(None, description="Clip each gradient to this norm.")
    clipvalue: PosFloat | None = Field(None, description="Clip each gradient element to [-v, v].")
    global_clipnorm: PosFloat | None = Field(None, description="Clip all gradients together to this norm.")

    @model_validator(mode="after")
    def _one_clip(self):
        if self.clipnorm is not None and self.global_clipnorm is not None:
            raise ValueError("set clipnorm or global_clipnorm, not both")
        return self

    def to_keras(self):
        import keras

        kw = self.kwargs()
        if isinstance(self.learning_rate, BaseModel):
            lr = self.learning_rate
            kw["learning_rate"] = getattr(keras.optimizers.schedules, lr.type)(**lr.kwargs())
        return getattr(keras.optimizers, self.type)(**kw)


class SGD(_Optimizer):
    type: Literal["SGD"]
    learning_rate: LearningRate = 0.01
    momentum: UnitFloat = 0.0
    nesterov: bool = False


class Adam(_Optimizer):
    type: Literal["Adam"]
    beta_1: UnitFloat = 0.9
    beta_2: UnitFloat = 0.999
    epsilon: PosFloat = 1e-7
    amsgrad: bool = False


class AdamW(_Optimizer):
    type: Literal["AdamW"]
    weight_decay: Annotated[float, Field(ge=0)] | None = 0.004
    beta_1: UnitFloat = 0.9
    beta_2: UnitFloat = 0.999
    epsilon: PosFloat = 1e-7
    amsgrad: bool = False


class Nadam(_Optimizer):
    type: Literal["Nadam"]
    beta_1: UnitFloat = 0.9
    beta_2: UnitFloat = 0.999
    epsilon: PosFloat = 1e-7


class Adamax(_Optimizer):
    type: Literal["Adamax"]
    beta_1: UnitFloat = 0.9
    beta_2: UnitFloat = 0.999
    epsilon: PosFloat = 1e-7


class RMSprop(_Optimizer):
    type: Literal["RMSprop"]
    rho: UnitFloat = 0.9
    momentum: UnitFloat = 0.0
    epsilon: PosFloat = 1e-7
    centered: bool = False


class Adagrad(_Optimizer):
    type: Literal["Adagrad"]
    initial_accumulator_value: Annotated[float, Field(ge=0)] = 0.1
    epsilon: PosFloat = 1e-7


class Adadelta(_Optimizer):
    type: Literal["Adadelta"]
    rho: UnitFloat = 0.95
    epsilon: PosFloat = 1e-7


OPTIMIZERS = by_type(SGD, Adam, AdamW, Nadam, Adamax, RMSprop, Adagrad, Adadelta)
Optimizer = lazy_union(_Optimizer, OPTIMIZERS)


# -- losses and metrics -------------------------------------------------------
LOSSES = {
    "binary_crossentropy": "BinaryCrossentropy",
    "binary_focal_crossentropy": "BinaryFocalCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "mean_squared_error": "MeanSquaredError",
    "mean_absolute_error": "MeanAbsoluteError",
    "mean_absolute_percentage_error": "MeanAbsolutePercentageError",
    "mean_squared_logarithmic_error": "MeanSquaredLogarithmicError",
    "huber": "Huber",
    "log_cosh": "LogCosh",
    "hinge": "Hinge",
    "squared_hinge": "SquaredHinge",
    "categorical_hinge": "CategoricalHinge",
    "kl_divergence": "KLDivergence",
    "poisson": "Poisson",
    "cosine_similarity": "CosineSimilarity",
}
LOSS_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error", "mape": "mean_absolute_percentage_error",
                "msle": "mean_squared_logarithmic_error", "kld": "kl_divergence", "bce": "binary_crossentropy",
                # Keras's class names, which `model.compile(loss=...)` accepts too: `BinaryCrossentropy`.
                **{cls: name for name, cls in LOSSES.items()}}
LossName = Literal[tuple(LOSSES) + tuple(LOSS_ALIASES)]
CROSSENTROPY = {"binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
                "sparse_categorical_crossentropy"}


class Loss(_Model):
    """A loss with arguments: ``{type: categorical_crossentropy, from_logits: true}``."""

    type: LossName
    from_logits: bool | None = Field(None, description="Crossentropy losses only: the output is raw logits.")
    label_smoothing: UnitFloat | None = Field(None, description="Binary/categorical crossentropy only.")
    delta: PosFloat | None = Field(None, description="Huber only.")

    @property
    def canonical(self) -> str:
        return LOSS_ALIASES.get(self.type, self.type)

    @model_validator(mode="after")
    def _fits(self):
        name = self.canonical
        if self.from_logits is not None and name not in CROSSENTROPY:
            raise ValueError(f"from_logits applies to crossentropy losses, not {self.type}")
        if self.label_smoothing is not None and name not in CROSSENTROPY - {"sparse_categorical_crossentropy"}:
            raise ValueError(f"label_smoothing applies to binary/categorical crossentropy, not {self.type}")
        if self.delta is not None and name != "huber":
            raise ValueError(f"delta applies to the huber loss, not {self.type}")
        return self

    def to_keras(self):
        import keras

        return getattr(keras.losses, LOSSES[self.canonical])(**self.kwargs())


METRICS = {
    "accuracy": None,  # Keras picks the right accuracy for the loss
    "binary_accuracy": "BinaryAccuracy",
    "categorical_accuracy": "CategoricalAccuracy",
    "sparse_categorical_accuracy": "SparseCategoricalAccuracy",
    "top_k_categorical_accuracy": "TopKCategoricalAccuracy",
    "sparse_top_k_categorical_accuracy": "SparseTopKCategoricalAccuracy",
    "auc": "AUC",
    "precision": "Precision",
    "recall": "Recall",
    "mean_absolute_error": "MeanAbsoluteError",
    "mean_squared_error": "MeanSquaredError",
    "root_mean_squared_error": "RootMeanSquaredError",
    "mean_absolute_percentage_error": "MeanAbsolutePercentageError",
    "mae": "MeanAbsoluteError",
    "mse": "MeanSquaredError",
    "rmse": "RootMeanSquaredError",
}
MetricName = Literal[tuple(METRICS)]


class Losses(RootModel):
    """One loss per model output: ``{output_name: loss}``."""

    model_config = ConfigDict(defer_build=True)
    root: dict[str, Loss]

    @property
    def canonical(self) -> str:
        """The losses as text, ``digit: sparse_categorical_crossentropy, high: binary_crossentropy``."""
        return ", ".join(f"{name}: {loss.canonical}" for name, loss in self.root.items())


def _loss_kind(value: Any) -> str:
    """One loss (a name, or a mapping with `type`) or a mapping of losses per output."""
    if isinstance(value, (Loss, str)) or (isinstance(value, dict) and "type" in value):
        return "one"
    return "per_output"


LossSpec = Annotated[
    Union[Annotated[Loss, Tag("one")], Annotated[Losses, Tag("per_output")]], Discriminator(_loss_kind)
]
MetricList = list[MetricName]


class Compile(_Model):
    """How the model is optimized: what Keras's ``model.compile`` takes."""

    optimizer: Optimizer = Field(
        default_factory=lambda: Adam(type="Adam"),
        description="A name (adam, sgd, ...) or a mapping with `type` and the optimizer's arguments.",
    )
    loss: LossSpec = Field(
        description="A Keras loss name or a mapping with `type` and arguments, for every output; or, for a model "
        "with several outputs, a mapping from output name to loss."
    )
    loss_weights: dict[str, Annotated[float, Field(ge=0)]] | None = Field(
        None, description="Weight of each output's loss in the total loss, by output name (default 1 each)."
    )
    metrics: Union[MetricList, dict[str, MetricList]] = Field(
        default_factory=list, description="Metrics for every output, or a mapping from output name to metrics."
    )

    @field_validator("optimizer", mode="before")
    @classmethod
    def _optimizer_short_form(cls, value):
        if isinstance(value, str):  # `optimizer: adam` is `optimizer: {type: Adam}`
            return {"type": next((n for n in OPTIMIZERS if n.lower() == value.lower()), value)}
        return value

    @field_validator("loss", mode="before")
    @classmethod
    def _loss_short_form(cls, value):
        if isinstance(value, str):
            return {"type": value}
        if isinstance(value, dict) and "type" not in value:  # per output: `{digit: mse}`
            return {k: {"type": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    def loss_for(self, output: str | None) -> Loss | None:
        """The loss of one output (None: a per-output mapping that leaves it out)."""
        return self.loss if isinstance(self.loss, Loss) else self.loss.root.get(output)

    def keras_loss(self, outputs: list[str], keras_names: list[str] | None = None):
        """The loss for ``model.compile``: one loss for a single output, else a dict keyed by Keras's output
        names (``keras_names``, in the order of ``outputs``), a fresh loss object per output."""
        if len(outputs) == 1:
            return self.loss_for(outputs[0]).to_keras()
        return {k: self.loss_for(o).to_keras() for o, k in zip(outputs, keras_names or outputs)}

    def keras_loss_weights(self, outputs: list[str], keras_names: list[str] | None = None):
        if self.loss_weights is None:
            return None
        weights = [float(self.loss_weights.get(o, 1.0)) for o in outputs]
        if len(outputs) == 1:
            return weights
        return dict(zip(keras_names or outputs, weights))

    def metric_names(self, output: str) -> list[str]:
        return list(self.metrics) if isinstance(self.metrics, list) else list(self.metrics.get(output, []))

    def keras_metrics(self, outputs: list[str] | None = None, keras_names: list[str] | None = None):
        """Metrics for ``model.compile``: a list for a single output (as before), else a dict keyed by Keras's
        output names with fresh metric objects per output."""
        import keras

        def make(names):
            out = []
            for name in names:
                cls = METRICS[name]
                out.append(name if cls is None else getattr(keras.metrics, cls)(name=name))
            return out

        if outputs is None:
            return make(self.metrics if isinstance(self.metrics, list) else [m for v in self.metrics.values() for m in v])
        if len(outputs) == 1:
            return make(self.metric_names(outputs[0]))
        return {k: make(self.metric_names(o)) for o, k in zip(outputs, keras_names or outputs)}
