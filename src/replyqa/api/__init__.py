"""The HTTP edge: FastAPI app over the replyqa library."""

from .app import create_app

__all__ = ["create_app"]
