"""specc's version, in a module of its own: ``specc/__init__.py`` exposes the Python API, which imports the
runners, so the modules that record the version (run.json, reports, SARIF) read it here."""

__version__ = "0.1.0"
