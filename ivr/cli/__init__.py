"""The `ivr` command and its sub-commands (`ivr.cli:main` is the entry point)."""

from ivr.cli.main import main

__all__ = ["main"]
