"""Runners: train, evaluate (and later predict, export). They import Keras."""
