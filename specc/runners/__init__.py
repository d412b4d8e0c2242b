"""Runners: train and evaluate a checked spec. The only modules that run Keras models."""


class RunError(Exception):
    """A user-facing problem found while running (bad data, missing run files): no traceback."""
