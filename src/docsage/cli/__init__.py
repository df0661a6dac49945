"""The ``docsage`` command line: thin commands over ``docsage.app``."""

from docsage.cli.main import app, main

__all__ = ["app", "main"]
