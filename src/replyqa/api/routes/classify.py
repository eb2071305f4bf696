"""POST /v1/classify: one reply or a batch."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from ...errors import InputTooLargeError, InvalidInputError
from ..deps import ClassifierDep, MetricsDep, SettingsDep
from ..schemas import ClassifyRequest, ClassifyResponse, ErrorOut, PredictionOut

router = APIRouter(prefix="/v1", tags=["classify"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorOut},
    422: {"model": ErrorOut},
    503: {"model": ErrorOut},
}


def check_texts(body: ClassifyRequest, max_batch: int, max_text_bytes: int) -> tuple[list[str], str]:
    """The texts of a request and the field they came from, within the limits."""
    if (body.text is None) == (body.texts is None):
        raise InvalidInputError("give exactly one of 'text' (one reply) or 'texts' (a batch)")
    field = "text" if body.text is not None else "texts"
    texts = [body.text] if body.text is not None else list(body.texts or [])
    if not texts:
        raise InvalidInputError("texts: the batch is empty")
    if len(texts) > max_batch:
        raise InputTooLargeError(f"texts: {len(texts)} replies is over the limit of {max_batch} per request")
    for i, t in enumerate(texts):
        where = field if field == "text" else f"texts[{i}]"
        if not t.strip():
            raise InvalidInputError(f"{where}: is empty or only white space")
        if len(t.encode("utf-8", "surrogatepass")) > max_text_bytes:
            raise InputTooLargeError(f"{where}: is over the limit of {max_text_bytes} bytes")
    return texts, field


@router.post("/classify", response_model=ClassifyResponse, responses=_ERRORS, response_model_exclude_none=True)
async def classify(
    body: ClassifyRequest,
    classifier: ClassifierDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    explain: bool = Query(False, description="Add the evidence: top features and per-sentence scores."),
) -> ClassifyResponse:
    """Label replies: category, quality, p_substantive, confidence, model version."""
    texts, _ = check_texts(body, settings.max_batch, settings.max_text_bytes)
    # Small requests run inline (a thread hop costs more than the prediction); big ones off the loop.
    if len(texts) <= 8 and not explain:
        preds = classifier.predict(texts)
    else:
        preds = await run_in_threadpool(classifier.predict, texts)
    out = []
    for i, p in enumerate(preds):
        item = PredictionOut(**p.to_dict())
        if explain:
            item.explanation = (await run_in_threadpool(classifier.explain, texts[i])).to_dict()
        out.append(item)
    metrics.count_predictions([(p.category, p.quality) for p in preds])
    return ClassifyResponse(model_version=classifier.version, predictions=out)
