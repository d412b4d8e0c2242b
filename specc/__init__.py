"""specc: declarative YAML model specs for Keras, checked before anything heavy runs."""

__version__ = "0.1.0"
