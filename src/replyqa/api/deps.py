"""Dependencies of the routes: settings, the served classifier, metrics, the admin token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request

from ..config import Settings
from ..errors import AuthError
from ..model import Classifier
from .metrics import Metrics


def settings_dep(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def classifier_dep(request: Request) -> Classifier:
    """The classifier served right now (held for the whole request, even across a reload)."""
    classifier: Classifier = request.app.state.holder.get()
    return classifier


def metrics_dep(request: Request) -> Metrics:
    """The app's metrics."""
    metrics: Metrics = request.app.state.metrics
    return metrics


def require_token(
    settings: Annotated[Settings, Depends(settings_dep)],
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """Bearer-token check for state-changing endpoints; no token configured means they are off."""
    if not settings.admin_token:
        raise AuthError("this endpoint is disabled: set REPLYQA_ADMIN_TOKEN on the server to enable it")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), settings.admin_token.encode()):
        raise AuthError("missing or wrong bearer token (send 'Authorization: Bearer <token>')")


SettingsDep = Annotated[Settings, Depends(settings_dep)]
ClassifierDep = Annotated[Classifier, Depends(classifier_dep)]
MetricsDep = Annotated[Metrics, Depends(metrics_dep)]
