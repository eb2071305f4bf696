"""App factory: settings, the model loaded once in the lifespan, error mapping, limits, metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..artifacts import CURRENT_POINTER, resolve
from ..config import Settings, get_settings
from ..errors import (
    ArtifactError,
    AuthError,
    InputTooLargeError,
    InvalidInputError,
    ModelNotFoundError,
    PolicyError,
    ReplyQAError,
)
from ..model import Classifier
from .metrics import Metrics

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ModelHolder:
    """The classifier being served; swapped whole on reload so requests in flight keep theirs."""

    def __init__(self, models_dir: Path, classifier: Classifier | None = None) -> None:
        self.models_dir = models_dir
        self.classifier = classifier
        self.loaded_from: Path | None = None
        self.error: str | None = None

    def load(self) -> Classifier:
        """Load (or reload) the current model version; keep the old one if the new one fails."""
        path = resolve(self.models_dir)
        classifier = Classifier.load(path)
        self.classifier, self.loaded_from, self.error = classifier, path, None
        log.info("serving model %s from %s", classifier.version, path)
        return classifier

    def get(self) -> Classifier:
        """The classifier, or ModelNotFoundError (503) when none is loaded."""
        if self.classifier is None:
            raise ModelNotFoundError(f"no model loaded ({self.error or 'not loaded yet'}); run `replyqa train`")
        return self.classifier

    def pointer_changed(self) -> bool:
        """True when CURRENT now names another version than the one served."""
        try:
            return resolve(self.models_dir) != self.loaded_from
        except ReplyQAError:
            return False


class BodyLimit:
    """Pure ASGI middleware: refuse bodies over `limit` bytes with 413, before parsing them."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _send_json(send, 413, _error_body("payload_too_large", f"request body is over {self.limit} bytes"))
            return
        # Read the whole (bounded) body first, so an over-limit stream is refused with 413
        # before anything parses it; then replay it to the app.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message), send)
                return
            body = message.get("body", b"")
            seen += len(body)
            if seen > self.limit:
                await _send_json(
                    send, 413, _error_body("payload_too_large", f"request body is over {self.limit} bytes")
                )
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(chunks, None, receive), send)


def _replay(chunks: list[bytes], final: Message | None, receive: Receive | None = None) -> Receive:
    """A receive() that hands the buffered body over once, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if final is not None and not sent:
            sent = True
            return final
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        if receive is not None:
            return await receive()
        return {"type": "http.disconnect"}

    return replay


class Observe:
    """Pure ASGI middleware: count requests and time them by route template."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(scope["method"], path, status, time.perf_counter() - start)


def _error_body(error: str, detail: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"error": error, "detail": detail, "fields": fields or []}


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})


_STATUS = (
    (InputTooLargeError, 413, "payload_too_large"),
    (InvalidInputError, 422, "invalid_input"),
    (PolicyError, 422, "invalid_policy"),
    (AuthError, 401, "unauthorized"),
    (ModelNotFoundError, 503, "model_unavailable"),
    (ArtifactError, 503, "model_unavailable"),
)


def _status_of(exc: ReplyQAError) -> tuple[int, str]:
    for cls, status, name in _STATUS:
        if isinstance(exc, cls):
            return status, name
    return 500, "internal_error"


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to one JSON shape and a 4xx/503 status in one place."""

    @app.exception_handler(ReplyQAError)
    async def _library(_: Request, exc: ReplyQAError) -> JSONResponse:
        status, name = _status_of(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(_error_body(name, str(exc)), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [{"field": _field_of(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))} for e in exc.errors()]
        detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5]) or "invalid request"
        return JSONResponse(_error_body("invalid_input", detail, fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            _error_body("http_error", str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(_error_body("internal_error", "internal error; see the server log"), status_code=500)


def create_app(settings: Settings | None = None, classifier: Classifier | None = None) -> FastAPI:
    """Build the app; the model loads in the lifespan unless one is passed in (tests)."""
    settings = settings or get_settings()
    holder = ModelHolder(settings.models_dir, classifier)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if holder.classifier is None:
            try:
                holder.load()
            except ReplyQAError as exc:
                holder.error = str(exc)
                log.error("no model loaded: %s", exc)
        if holder.classifier is not None:
            metrics.set_model(holder.classifier.version)
        watcher = asyncio.create_task(_watch(holder, metrics)) if settings.watch_model and classifier is None else None
        yield
        if watcher:
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher

    app = FastAPI(
        title="replyqa",
        version=__version__,
        summary="Is this vendor support reply substantive or boilerplate? And how long did the ticket wait for substance?",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.holder = holder
    app.state.metrics = metrics
    install_error_handlers(app)

    from .routes import admin, classify, feedback, meta, transcripts

    for router in (classify.router, transcripts.router, feedback.router, meta.router, admin.router):
        app.include_router(router)

    app.add_middleware(Observe, metrics=metrics)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app


async def _watch(holder: ModelHolder, metrics: Metrics, every: float = 2.0) -> None:
    """Reload the model when the CURRENT pointer moves (promote/rollback without restart)."""
    while True:
        await asyncio.sleep(every)
        pointer = holder.models_dir / CURRENT_POINTER
        if pointer.exists() and holder.pointer_changed():
            try:
                classifier = await asyncio.to_thread(holder.load)
                metrics.set_model(classifier.version)
            except ReplyQAError as exc:
                log.error("model reload failed, still serving the previous one: %s", exc)
