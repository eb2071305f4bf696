"""Model information, liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from ...labels import CATEGORIES, QUALITIES
from ..deps import ClassifierDep, MetricsDep
from ..metrics import CONTENT_TYPE
from ..schemas import ErrorOut, ModelInfo

router = APIRouter(tags=["meta"])


@router.get("/v1/model", response_model=ModelInfo, responses={503: {"model": ErrorOut}})
async def model_info(classifier: ClassifierDep) -> ModelInfo:
    """The model being served: version, recorded metrics, label set, manifest."""
    manifest = classifier.manifest
    return ModelInfo(
        version=classifier.version,
        categories=list(CATEGORIES),
        qualities=list(QUALITIES),
        metrics=manifest.get("metrics", {}),
        manifest=manifest,
    )


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive (the process answers)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"model": ErrorOut}})
async def readyz(request: Request) -> Response:
    """Ready when a model is loaded."""
    holder = request.app.state.holder
    if holder.classifier is None:
        return JSONResponse(
            {"error": "model_unavailable", "detail": holder.error or "model not loaded", "fields": []}, status_code=503
        )
    return JSONResponse({"status": "ready", "model_version": holder.classifier.version})


@router.get("/metrics")
async def metrics_endpoint(metrics: MetricsDep) -> Response:
    """Prometheus metrics."""
    return Response(metrics.render(), media_type=CONTENT_TYPE)
