"""Shared pieces of the command line: the `replyqa` group, error handling, model loading."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import __version__
from ..config import get_settings
from ..errors import ReplyQAError

F = TypeVar("F", bound=Callable[..., Any])


def errors_to_exit(fn: F) -> F:
    """Turn library errors into one line on stderr and exit code 1, no traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ReplyQAError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(__version__, prog_name="replyqa")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
def main(verbose: bool) -> None:
    """Label vendor support replies as boilerplate or substantive, and score tickets.

    Example: replyqa classify "Fixed in 4.2.1, please upgrade."
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


def model_option(fn: F) -> F:
    return click.option(
        "--model",
        "model_path",
        type=click.Path(path_type=Path),
        default=None,
        help="Model version folder or models folder (default: the current model).",
    )(fn)


def load_classifier(model_path: Path | None) -> Any:
    from ..model import Classifier

    return Classifier.load(model_path or get_settings().models_dir)
