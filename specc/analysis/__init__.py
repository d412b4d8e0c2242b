"""Passes 3-5: graph resolution, static shapes and parameters, model checks. Pure Python."""
