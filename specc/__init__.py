"""specc: declarative YAML model specs for Keras, checked before anything heavy runs.

The Python API (docs/python.md)::

    import specc

    spec = specc.load("spec.yaml")     # checked; raises specc.SpecError with every diagnostic
    print(spec.summary())
    run = spec.train(epochs=2)
    run.metrics

``import specc`` is light: the names below are imported on first use, and TensorFlow, Keras and numpy only
when a model is built, trained or run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = ["load", "Spec", "SpecError", "open_run", "Run", "RunError", "from_keras"]

if TYPE_CHECKING:
    from .api import Run, RunError, Spec, SpecError, from_keras, load, open_run


def __getattr__(name: str):
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'specc' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
