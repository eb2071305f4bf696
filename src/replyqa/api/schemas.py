"""Request and response bodies of the HTTP API (OpenAPI is generated from these)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ClassifyRequest(BaseModel):
    """One reply (`text`) or a batch (`texts`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "Error 110 means the token expired; renew it with renewToken() before it lapses."},
                {"texts": ["Thanks, we'll look into it.", "4.2.1 已修复该问题，升级即可。"]},
            ]
        },
    )

    text: str | None = Field(default=None, description="A single reply.")
    texts: list[str] | None = Field(default=None, description="A batch of replies (up to the configured limit).")


class PredictionOut(BaseModel):
    """The label of one reply."""

    category: str
    quality: Literal["boilerplate", "substantive"]
    p_substantive: float
    confidence: float
    model_version: str
    explanation: dict[str, Any] | None = None


class ClassifyResponse(BaseModel):
    """Predictions in the order of the request."""

    model_version: str
    predictions: list[PredictionOut]


class MessageIn(BaseModel):
    """One message of a ticket."""

    model_config = ConfigDict(extra="allow")

    role: Literal["customer", "agent"]
    text: str
    author: str | None = None
    timestamp: str | None = Field(
        default=None, description="ISO 8601 with a UTC offset, e.g. 2026-03-02T10:00:00+08:00"
    )
    status: str | None = Field(
        default=None, description="Ticket status after this message, e.g. 'pending' pauses the clock."
    )


class TranscriptIn(BaseModel):
    """A ticket: ordered messages, optional severity and opening time."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    severity: str | None = Field(default=None, description="A severity or alias of the policy, e.g. P1 or urgent.")
    created_at: str | None = Field(default=None, description="ISO 8601 with offset; defaults to the first message.")
    messages: list[MessageIn] = Field(min_length=1)


_TRANSCRIPT_EXAMPLE: dict[str, Any] = {
    "transcripts": [
        {
            "id": "T-1042",
            "severity": "P1",
            "created_at": "2026-03-02T10:00:00+00:00",
            "messages": [
                {
                    "role": "customer",
                    "text": "joinChannel fails with error 110 since this morning",
                    "timestamp": "2026-03-02T10:00:00+00:00",
                },
                {
                    "role": "agent",
                    "text": "Thanks for reporting, we are looking into it.",
                    "timestamp": "2026-03-02T10:04:00+00:00",
                },
                {
                    "role": "agent",
                    "text": "110 means the token is invalid: it was built for channel 'room1' but you join 'room-1'.",
                    "timestamp": "2026-03-02T11:10:00+00:00",
                },
            ],
        }
    ]
}


class TranscriptScoreRequest(BaseModel):
    """Transcripts to score, and which SLA policy to use."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_TRANSCRIPT_EXAMPLE]})

    transcripts: list[TranscriptIn] = Field(min_length=1)
    policy: str | None = Field(default=None, description="Name of a configured policy (default: the server's).")
    policy_inline: dict[str, Any] | None = Field(
        default=None, description="A whole policy, as its TOML structure in JSON."
    )
    as_of: str | None = Field(
        default=None, description="ISO 8601 'now' for tickets still waiting (default: last message)."
    )


class SlaVerdictOut(BaseModel):
    """One SLA target checked."""

    state: Literal["met", "breached", "pending", "no_target"]
    target_seconds: float | None
    elapsed_seconds: float | None


class TranscriptScoreOut(BaseModel):
    """The measures of one ticket."""

    model_config = ConfigDict(extra="allow")

    id: str | None
    severity: str
    messages: list[dict[str, Any]]
    first_response_seconds: float | None
    first_substantive_response_seconds: float | None
    acknowledgement_gap_seconds: float | None
    boilerplate_rounds: int
    agent_messages: int
    boilerplate_share: float | None
    sla: dict[str, SlaVerdictOut]


class TranscriptScoreResponse(BaseModel):
    """Scores in the order of the request."""

    model_version: str
    policy: str
    results: list[TranscriptScoreOut]


class ModelInfo(BaseModel):
    """The model being served."""

    version: str
    categories: list[str]
    qualities: list[str]
    metrics: dict[str, Any]
    manifest: dict[str, Any]


class ErrorOut(BaseModel):
    """Every error response: what went wrong and, for bad input, where."""

    error: str
    detail: str
    fields: list[dict[str, str]] = []


class FeedbackSample(BaseModel):
    """One labeled reply, in the format of LABELING.md."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The vendor reply.")
    category: str = Field(description="One of the eight categories of LABELING.md.")
    quality: str | None = Field(default=None, description="Optional; must agree with the category.")
    lang: str | None = Field(default=None, description="en, zh or mixed (default: detected).")
    domain: str | None = Field(
        default=None, description="rtc, cloud, payments, push, maps, auth, ... (default: other)."
    )
    context: str | None = Field(default=None, description="The customer message the reply answers.")
    group: str | None = Field(default=None, description="Ties variants of one case together (default: own group).")
    id: str | None = Field(default=None, description="Your id for the sample (kept as source_id).")


class FeedbackRequest(BaseModel):
    """Corrected or new labeled samples."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "samples": [
                        {"text": "Fixed in 4.2.1, please upgrade.", "category": "solution"},
                        {"text": "请提供一下完整日志。", "category": "info_request", "lang": "zh"},
                    ]
                }
            ]
        },
    )

    samples: list[FeedbackSample] = Field(min_length=1)


class FeedbackIssueOut(BaseModel):
    """A sample that was not stored, by its index in the request."""

    index: int
    reason: str


class FeedbackResponse(BaseModel):
    """What was stored: accepted ids (stored with secrets and personal data redacted), duplicates, rejections."""

    accepted: int
    ids: list[str]
    held_out: int = Field(description="Accepted samples kept aside for evaluation, never trained on.")
    redacted: int = Field(description="Accepted samples in which something was redacted before storing.")
    duplicates: list[FeedbackIssueOut]
    rejected: list[FeedbackIssueOut]
