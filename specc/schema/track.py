"""The `track` section: where a run is logged besides its run directory (an MLflow tracking server or store)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class Track(BaseModel):
    """Log the run to MLflow as it trains: the spec's values as params, every epoch's metrics, the test metrics,
    the run's files as artifacts (see docs/runs.md#tracking-with-mlflow). A tracking server that cannot be
    reached never stops training: the run directory is complete either way."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    type: Literal["mlflow"] = Field(
        "mlflow", description="The tracking tool: MLflow (needs the extra: `pip install \"specc[mlflow]\"`).")
    uri: Annotated[str, Field(min_length=1)] | None = Field(
        None, description="Tracking URI: a server (`http://host:5000`) or a local store (`sqlite:///mlflow.db`); "
                          "defaults to MLFLOW_TRACKING_URI, then MLflow's own default.")
    experiment: Annotated[str, Field(min_length=1, max_length=256)] | None = Field(
        None, description="MLflow experiment; defaults to the spec's name.")
    run_name: Annotated[str, Field(min_length=1, max_length=256)] | None = Field(
        None, description="MLflow run name; defaults to the run directory's name.")
    tags: dict[str, str] | None = Field(None, description="Extra tags for the MLflow run.")
    artifacts: bool = Field(True, description="Upload the run's files (spec, model, plots, report).")
