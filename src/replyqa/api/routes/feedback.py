"""POST /v1/feedback: labeled samples from users, token-protected."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from ...errors import InputTooLargeError
from ...feedback import add_feedback
from ..deps import SettingsDep, require_token
from ..schemas import ErrorOut, FeedbackIssueOut, FeedbackRequest, FeedbackResponse

router = APIRouter(prefix="/v1", tags=["feedback"], dependencies=[Depends(require_token)])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut},
    413: {"model": ErrorOut},
    422: {"model": ErrorOut},
}


@router.post("/feedback", response_model=FeedbackResponse, responses=_ERRORS)
async def feedback(body: FeedbackRequest, settings: SettingsDep) -> FeedbackResponse:
    """Validate, redact, de-duplicate and store samples; bad ones are listed with their index, never fatal."""
    if len(body.samples) > settings.max_batch:
        raise InputTooLargeError(f"samples: {len(body.samples)} is over the limit of {settings.max_batch} per request")
    for i, s in enumerate(body.samples):
        for name in ("text", "context"):
            value = getattr(s, name)
            if value is not None and len(value.encode("utf-8", "surrogatepass")) > settings.max_text_bytes:
                raise InputTooLargeError(f"samples[{i}].{name}: is over the limit of {settings.max_text_bytes} bytes")
    items = [(i, s.model_dump(exclude_none=True)) for i, s in enumerate(body.samples)]
    report = await run_in_threadpool(add_feedback, items, settings.data_dir, source="api")
    return FeedbackResponse(
        accepted=len(report.accepted),
        ids=[e.id for e in report.accepted],
        held_out=report.held_out,
        redacted=report.redacted,
        duplicates=[FeedbackIssueOut(index=r.position, reason=r.reason) for r in report.duplicates],
        rejected=[FeedbackIssueOut(index=r.position, reason=r.reason) for r in report.rejected],
    )
