"""The `search` section: a hyperparameter search over the spec's own values, run by `specc tune` on Optuna.

The space maps spec key paths (the same keys as `--set`: `vars.width`, `compile.optimizer.learning_rate`,
`layers.hidden.units`, `train.batch_size`) to Optuna's distributions, in Optuna's words: `categorical`
(`choices`), `int` and `float` (`low`, `high`, `step`, `log`). A bare list is short for a categorical
choice. That each key names a value of the spec and that each value fits it are checked statically
(specc/analysis/search.py), as is every point of a grid.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..layers.base import by_type, lazy_union

DEFAULT_TRIALS = 20
GRID_MAX_POINTS = 100_000  # a grid larger than this is a mistake, not a plan


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


def higher_is_better(metric: str) -> bool:
    """Whether a logged quantity improves upward (accuracy, AUC, precision, recall)."""
    name = metric.removeprefix("val_")
    return any(k in name for k in ("acc", "auc", "precision", "recall"))


class Objective(_Model):
    """What the search optimizes: a quantity of the training history, its best epoch's value."""

    metric: Annotated[str, Field(pattern=r"^(val_)?[A-Za-z0-9_]+$")] = Field(
        "val_loss", description="A logged quantity: `val_loss`, `val_accuracy`, `loss`, ...")
    direction: Literal["minimize", "maximize"] | None = Field(
        None, description="Default: maximize for accuracy, AUC, precision and recall; minimize otherwise.")

    @property
    def resolved_direction(self) -> str:
        if self.direction is not None:
            return self.direction
        return "maximize" if higher_is_better(self.metric) else "minimize"


class Categorical(_Model):
    """One of a list of values (numbers, strings, booleans, or whole mappings such as an optimizer)."""

    type: Literal["categorical"]
    choices: list[Any] = Field(min_length=1, description="The values to choose from.")

    @field_validator("choices")
    @classmethod
    def _distinct(cls, value: list) -> list:
        seen = []
        for v in value:
            if v in seen:
                raise ValueError(f"choices lists {v!r} twice")
            seen.append(v)
        return value


def _check_range(low, high, step, log):
    if not low < high:
        raise ValueError(f"low must be less than high. Received: low {low}, high {high}")
    if log and low <= 0:
        raise ValueError(f"a log range needs low > 0. Received: low {low}")
    if log and step is not None and step != 1:
        raise ValueError("step and log cannot be combined (Optuna samples a log range continuously)")
    if step is not None and step > high - low:
        raise ValueError(f"step {step} is larger than the range {low}..{high}")
    if step is not None and not log:
        steps = (high - low) / step
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps):  # Optuna would lower high to the last step
            last = low + math.floor(steps + 1e-9) * step
            last = last if isinstance(step, int) else round(last, 12)
            raise ValueError(f"step {step} does not divide the range {low}..{high}: its last value is {last}, "
                             f"not {high} (set high: {last}, or a step that divides the range)")


class IntRange(_Model):
    """A whole number from `low` to `high` (both included), every `step`th, optionally on a log scale."""

    type: Literal["int"]
    low: int
    high: int
    step: Annotated[int, Field(gt=0)] = 1
    log: bool = False

    @model_validator(mode="after")
    def _range(self):
        _check_range(self.low, self.high, None if self.step == 1 else self.step, self.log)
        return self

    def grid_size(self) -> int:
        return len(range(self.low, self.high + 1, self.step))

    def grid(self) -> list:
        return list(range(self.low, self.high + 1, self.step))


class FloatRange(_Model):
    """A number from `low` to `high`, continuous or every `step`, optionally on a log scale."""

    type: Literal["float"]
    low: float
    high: float
    step: Annotated[float, Field(gt=0)] | None = None
    log: bool = False

    @model_validator(mode="after")
    def _range(self):
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        _check_range(self.low, self.high, self.step, self.log)
        return self

    def grid_size(self) -> int | None:
        """How many values ``grid`` lists, counted without listing them (a tiny step makes billions)."""
        if self.step is None:
            return None
        return int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1

    def grid(self) -> list | None:
        size = self.grid_size()
        return None if size is None else [round(self.low + i * self.step, 12) for i in range(size)]


Param = lazy_union(_Model, by_type(Categorical, IntRange, FloatRange))


class Sampler(_Model):
    """How Optuna picks the next point: every point of a grid, at random, or TPE (learns from the trials)."""

    type: Literal["grid", "random", "tpe"] = "tpe"
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = Field(
        None, description="The sampler's seed (0 to 4294967295); defaults to the spec's `seed`.")
    n_startup_trials: Annotated[int, Field(ge=0)] | None = Field(
        None, description="TPE only: random trials before it models the objective (Optuna's default 10).")


class Pruner(_Model):
    """When Optuna stops a trial early from its epochs' objective: never, below the median, or by
    successive halving / Hyperband."""

    type: Literal["none", "median", "successive_halving", "hyperband"] = "none"
    n_startup_trials: Annotated[int, Field(ge=0)] = Field(
        5, description="median: trials that run to the end before any is pruned.")
    n_warmup_steps: Annotated[int, Field(ge=0)] = Field(0, description="median: epochs before a trial can be pruned.")
    min_resource: Annotated[int, Field(gt=0)] | None = Field(
        None, description="successive_halving, hyperband: epochs every trial gets (Optuna's default: estimated).")
    reduction_factor: Annotated[int, Field(ge=2)] = Field(
        3, description="successive_halving, hyperband: 1/factor of the trials go on at each rung.")


class Search(_Model):
    """A hyperparameter search: `specc tune SPEC` runs it (see docs/tuning.md)."""

    objective: Objective = Field(default_factory=Objective)
    sampler: Sampler = Field(default_factory=Sampler, description="`grid`, `random` or `tpe` (the default), or "
                             "a mapping with `type` and its options.")
    pruner: Pruner = Field(default_factory=Pruner, description="`none` (the default), `median`, "
                           "`successive_halving` or `hyperband`, or a mapping with `type` and its options.")
    trials: Annotated[int, Field(gt=0)] | None = Field(
        None, description=f"How many trials; default: every point of a grid, {DEFAULT_TRIALS} otherwise.")
    space: dict[str, Param] = Field(
        min_length=1, description="Spec key paths (as for `--set`) to what they range over: `{type: categorical, "
                                  "choices: [...]}` (or just a list), `{type: int|float, low, high, step, log}`.")

    @field_validator("sampler", "pruner", mode="before")
    @classmethod
    def _short(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @field_validator("space", mode="before")
    @classmethod
    def _short_choices(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"type": "categorical", "choices": v} if isinstance(v, list) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _grid(self):
        if self.sampler.type != "grid":
            return self
        size = 1
        for key, param in self.space.items():  # counted, not listed: a range can hold billions of points
            count = len(param.choices) if isinstance(param, Categorical) else param.grid_size()
            if count is None:
                raise ValueError(f"the grid sampler needs values it can list: give '{key}' a step or choices")
            size *= count
        if size > GRID_MAX_POINTS:
            shown = f"{size:,}" if size < 10**15 else f"about {float(size):.0e}"
            raise ValueError(f"the grid has {shown} points (at most {GRID_MAX_POINTS:,}); use sampler tpe or random")
        return self

    def grid_space(self) -> dict[str, list] | None:
        """The grid's values per key (None for a space that is not discrete)."""
        out = {}
        for key, param in self.space.items():
            values = param.choices if isinstance(param, Categorical) else param.grid()
            if values is None:
                return None
            out[key] = list(values)
        return out


__all__ = ["Search", "Objective", "Sampler", "Pruner", "Categorical", "IntRange", "FloatRange", "higher_is_better"]
