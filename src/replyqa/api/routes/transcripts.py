"""POST /v1/transcripts/score: label agent messages and measure tickets against an SLA policy."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from ...config import Settings
from ...errors import InputTooLargeError, InvalidInputError, PolicyError
from ...sla import Policy, load_policy, policy_from_dict
from ...transcripts import parse_timestamp, score_transcripts, transcript_from_dict
from ..deps import ClassifierDep, MetricsDep, SettingsDep
from ..schemas import ErrorOut, TranscriptScoreOut, TranscriptScoreRequest, TranscriptScoreResponse

router = APIRouter(prefix="/v1", tags=["transcripts"])

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@lru_cache(maxsize=32)
def _policy_file(path: Path | None, mtime_ns: int) -> Policy:
    """A parsed policy file; the modification time in the key makes an edited file load again."""
    return load_policy(path)


def _load(path: Path | None) -> Policy:
    if path is None:
        return _policy_file(None, 0)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return load_policy(path)  # raises the PolicyError that says the file is missing
    return _policy_file(path, mtime)


def choose_policy(settings: Settings, name: str | None, inline: dict[str, object] | None) -> Policy:
    """The policy a request asks for: inline, named (from the policies folder), or the server default."""
    if inline is not None and name is not None:
        raise InvalidInputError("give either 'policy' (a name) or 'policy_inline', not both")
    if inline is not None:
        return policy_from_dict(inline, "inline")
    if name is None or name == "default":
        return _load(settings.sla_policy)
    if not _NAME.match(name):
        raise PolicyError(f"policy: {name!r} is not a policy name (letters, digits, '-', '_')")
    if settings.policies_dir is None or not (settings.policies_dir / f"{name}.toml").is_file():
        raise PolicyError(f"policy: no policy named {name!r} is configured on this server")
    return _load(settings.policies_dir / f"{name}.toml")


@router.post(
    "/transcripts/score",
    response_model=TranscriptScoreResponse,
    responses={413: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)
async def score(
    body: TranscriptScoreRequest, classifier: ClassifierDep, settings: SettingsDep, metrics: MetricsDep
) -> TranscriptScoreResponse:
    """Score tickets: each agent message labeled, time to first (substantive) response, SLA verdicts."""
    policy = choose_policy(settings, body.policy, body.policy_inline)
    transcripts = []
    n_messages = 0
    for i, t in enumerate(body.transcripts):
        raw = t.model_dump(exclude_none=True)
        for j, m in enumerate(raw["messages"]):
            if len(m["text"].encode("utf-8", "surrogatepass")) > settings.max_text_bytes:
                raise InputTooLargeError(
                    f"transcripts[{i}].messages[{j}].text: is over {settings.max_text_bytes} bytes"
                )
        n_messages += len(raw["messages"])
        transcripts.append(transcript_from_dict(raw, f"transcripts[{i}]"))
    if n_messages > settings.max_batch * 10:
        raise InputTooLargeError(f"transcripts: {n_messages} messages is over the limit of {settings.max_batch * 10}")
    as_of = parse_timestamp(body.as_of, "as_of") if body.as_of is not None else None
    scores = await run_in_threadpool(score_transcripts, transcripts, classifier, policy, as_of=as_of)
    metrics.count_predictions(
        [(m["category"], m["quality"]) for s in scores for m in s.messages if m["role"] == "agent"]
    )
    return TranscriptScoreResponse(
        model_version=classifier.version,
        policy=policy.name,
        results=[TranscriptScoreOut(**s.to_dict()) for s in scores],
    )
