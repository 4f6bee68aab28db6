"""The ``chainrule`` command (train, evaluate, predict, summary): :func:`main` is its entry point."""
from chainrule.cli.app import main

__all__ = ["main"]
