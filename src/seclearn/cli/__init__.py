"""The ``seclearn`` command: one thin sub-command per lifecycle step."""

from seclearn.cli.main import app, main

__all__ = ["app", "main"]
