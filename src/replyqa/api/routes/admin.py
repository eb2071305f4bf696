"""Token-protected administration: reload the model."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from ..deps import require_token
from ..schemas import ErrorOut

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(require_token)])


@router.post("/reload", responses={401: {"model": ErrorOut}, 503: {"model": ErrorOut}})
async def reload(request: Request) -> dict[str, str]:
    """Load the current model version now; requests in flight finish on the old one."""
    holder = request.app.state.holder
    previous = holder.classifier.version if holder.classifier else None
    classifier = await run_in_threadpool(holder.load)
    request.app.state.metrics.set_model(classifier.version)
    return {"previous": previous or "", "current": classifier.version}
