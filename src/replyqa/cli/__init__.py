"""The `replyqa` command line: a thin edge over the library.

Commands live in modules by theme and register themselves on the `main` group.
"""

from . import batch, core, models, serve  # noqa: F401  (registers the commands)
from .common import main

__all__ = ["main"]
