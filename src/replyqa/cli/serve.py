"""`replyqa serve`: start the HTTP API."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import get_settings
from .common import main


@main.command()
@click.option("--host", default=None, help="Interface to bind (default: REPLYQA_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: REPLYQA_PORT or 8000).")
@click.option("--workers", type=int, default=None, help="Worker processes (default: REPLYQA_WORKERS or 1).")
@click.option("--models", "models_dir", type=click.Path(path_type=Path), default=None, help="Models folder to serve.")
@click.option("--log-level", default="info", show_default=True)
def serve(host: str | None, port: int | None, workers: int | None, models_dir: Path | None, log_level: str) -> None:
    """Serve the HTTP API with the current model (reloads when it is promoted).

    Example: replyqa serve --port 8000 --workers 2
    """
    import os

    import uvicorn

    if models_dir is not None:
        # Workers are separate processes: pass the choice through the environment they read.
        os.environ["REPLYQA_MODELS_DIR"] = str(models_dir.resolve())
        get_settings.cache_clear()
    s = get_settings()
    uvicorn.run(
        "replyqa.api:create_app",
        factory=True,
        host=host or s.host,
        port=port or s.port,
        workers=workers or s.workers,
        log_level=log_level,
        access_log=False,
    )
