"""Ticket transcripts: validation, labeling of agent messages, and the measures that matter.

Time to first response is what every helpdesk reports; time to first *substantive*
response is what a customer waiting on a fix feels. Both are measured on the clock the
SLA policy says (business hours, holidays, pauses while waiting on the customer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import InvalidInputError, PolicyError
from .labels import SUBSTANTIVE
from .model import Classifier, Prediction
from .sla import Policy

ROLES = ("customer", "agent")
META_FIELDS = ("vendor", "team", "title", "url")


@dataclass(frozen=True)
class Message:
    """One message of a ticket."""

    role: str
    text: str
    author: str | None = None
    timestamp: datetime | None = None
    status: str | None = None


@dataclass(frozen=True)
class Transcript:
    """An ordered ticket conversation with its severity and opening time."""

    messages: tuple[Message, ...]
    id: str | None = None
    severity: str | None = None
    created_at: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def parse_timestamp(value: object, where: str) -> datetime:
    """An ISO 8601 timestamp that carries a UTC offset (naive times are ambiguous)."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{where}: expected an ISO 8601 string, got {type(value).__name__}")
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError as exc:
        raise InvalidInputError(f"{where}: {value!r} is not an ISO 8601 timestamp") from exc
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise InvalidInputError(f"{where}: {value!r} has no UTC offset; add one like +08:00 or Z")
    return ts


def transcript_from_dict(obj: object, where: str = "transcript") -> Transcript:
    """Validate a transcript object; errors name the field, e.g. `messages[2].timestamp`."""
    if not isinstance(obj, dict):
        raise InvalidInputError(f"{where}: expected an object")
    raw_messages = obj.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise InvalidInputError(f"{where}.messages: expected a non-empty list of messages")
    messages: list[Message] = []
    last: datetime | None = None
    for i, m in enumerate(raw_messages):
        at = f"{where}.messages[{i}]"
        if not isinstance(m, dict):
            raise InvalidInputError(f"{at}: expected an object")
        role = m.get("role")
        if role not in ROLES:
            raise InvalidInputError(f"{at}.role: expected 'customer' or 'agent', got {role!r}")
        text = m.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError(f"{at}.text: must be a non-empty string")
        ts = parse_timestamp(m["timestamp"], f"{at}.timestamp") if m.get("timestamp") is not None else None
        if ts is not None and last is not None and ts < last:
            raise InvalidInputError(f"{at}.timestamp: {m['timestamp']} is earlier than the message before it")
        last = ts or last
        author = m.get("author")
        status = m.get("status")
        for name, val in (("author", author), ("status", status)):
            if val is not None and not isinstance(val, str):
                raise InvalidInputError(f"{at}.{name}: must be a string")
        messages.append(Message(role, text, author, ts, status))
    created = obj.get("created_at")
    created_at = parse_timestamp(created, f"{where}.created_at") if created is not None else None
    first_ts = next((m.timestamp for m in messages if m.timestamp), None)
    if created_at and first_ts and first_ts < created_at:
        raise InvalidInputError(f"{where}.created_at: the ticket opens after its first message")
    severity = obj.get("severity")
    if severity is not None and not isinstance(severity, str | int):
        raise InvalidInputError(f"{where}.severity: must be a string")
    tid = obj.get("id", obj.get("ticket_id"))
    meta = {k: obj[k] for k in META_FIELDS if obj.get(k) is not None}
    return Transcript(
        tuple(messages),
        None if tid is None else str(tid),
        None if severity is None else str(severity),
        created_at,
        meta,
    )


@dataclass(frozen=True)
class SlaVerdict:
    """One SLA target checked: met, breached, pending (not answered yet, still in time) or no_target."""

    state: str
    target_seconds: float | None
    elapsed_seconds: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"state": self.state, "target_seconds": self.target_seconds, "elapsed_seconds": self.elapsed_seconds}


@dataclass(frozen=True)
class TranscriptScore:
    """Every agent message labeled, and the ticket's measures."""

    id: str | None
    severity: str
    messages: list[dict[str, Any]]
    first_response_seconds: float | None
    first_substantive_response_seconds: float | None
    acknowledgement_gap_seconds: float | None
    boilerplate_rounds: int
    agent_messages: int
    boilerplate_share: float | None
    sla: dict[str, SlaVerdict]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "id": self.id,
            "severity": self.severity,
            **self.meta,
            "messages": self.messages,
            "first_response_seconds": self.first_response_seconds,
            "first_substantive_response_seconds": self.first_substantive_response_seconds,
            "acknowledgement_gap_seconds": self.acknowledgement_gap_seconds,
            "boilerplate_rounds": self.boilerplate_rounds,
            "agent_messages": self.agent_messages,
            "boilerplate_share": self.boilerplate_share,
            "sla": {k: v.to_dict() for k, v in self.sla.items()},
        }


def pauses(transcript: Transcript, policy: Policy, end: datetime | None) -> list[tuple[datetime, datetime]]:
    """Intervals when the clock stops: from a pause status until the customer answers or the status changes."""
    out: list[tuple[datetime, datetime]] = []
    since: datetime | None = None
    for m in transcript.messages:
        if m.timestamp is None:
            continue
        paused_here = m.status is not None and m.status.lower() in policy.pause_statuses
        resumes = m.role == "customer" or (m.status is not None and not paused_here)
        if since is not None and resumes:
            out.append((since, m.timestamp))
            since = None
        if paused_here and since is None:
            since = m.timestamp
    if since is not None and end is not None and end > since:
        out.append((since, end))
    return out


def _verdict(target: float | None, elapsed: float | None, waited: float | None) -> SlaVerdict:
    if target is None:
        return SlaVerdict("no_target", None, elapsed)
    if elapsed is not None:
        return SlaVerdict("met" if elapsed <= target else "breached", target, elapsed)
    if waited is not None and waited > target:
        return SlaVerdict("breached", target, None)
    return SlaVerdict("pending", target, None)


def score_transcript(
    transcript: Transcript,
    predictions: Sequence[Prediction],
    policy: Policy,
    *,
    as_of: datetime | None = None,
) -> TranscriptScore:
    """Measures of one transcript given the predictions of its agent messages, in order."""
    severity = policy.severity(transcript.severity)
    agents = [(i, m) for i, m in enumerate(transcript.messages) if m.role == "agent"]
    if len(agents) != len(predictions):
        raise InvalidInputError("one prediction per agent message is needed")
    stamps = [m.timestamp for m in transcript.messages if m.timestamp is not None]
    start = transcript.created_at or (stamps[0] if stamps else None)
    end = as_of or (stamps[-1] if stamps else None)
    stops = pauses(transcript, policy, end)
    messages: list[dict[str, Any]] = []
    pred_iter = iter(predictions)
    for m in transcript.messages:
        item: dict[str, Any] = {"role": m.role, "author": m.author, "text": m.text}
        if m.timestamp is not None:
            item["timestamp"] = m.timestamp.isoformat()
        if m.role == "agent":
            item.update(next(pred_iter).to_dict())
        messages.append(item)

    def clock(ts: datetime | None) -> float | None:
        if start is None or ts is None:
            return None
        return policy.elapsed(severity, start, ts, stops)

    first_agent = agents[0][1] if agents else None
    first_sub_pos = next((k for k, p in enumerate(predictions) if p.quality == SUBSTANTIVE), None)
    first_sub = agents[first_sub_pos][1] if first_sub_pos is not None else None
    ttfr = clock(first_agent.timestamp) if first_agent else None
    ttfsr = clock(first_sub.timestamp) if first_sub else None
    waited = clock(end)
    target = policy.targets[severity]
    n_boiler = sum(p.quality != SUBSTANTIVE for p in predictions)
    return TranscriptScore(
        id=transcript.id,
        severity=severity,
        messages=messages,
        first_response_seconds=ttfr,
        first_substantive_response_seconds=ttfsr,
        acknowledgement_gap_seconds=None if ttfr is None or ttfsr is None else ttfsr - ttfr,
        boilerplate_rounds=first_sub_pos if first_sub_pos is not None else len(predictions),
        agent_messages=len(predictions),
        boilerplate_share=n_boiler / len(predictions) if predictions else None,
        sla={
            "first_response": _verdict(target.first_response, ttfr, waited),
            "first_substantive_response": _verdict(target.first_substantive_response, ttfsr, waited),
        },
        meta=dict(transcript.meta),
    )


def score_transcripts(
    transcripts: Sequence[Transcript], classifier: Classifier, policy: Policy, *, as_of: datetime | None = None
) -> list[TranscriptScore]:
    """Label all agent messages in one batch, then measure each transcript."""
    for t in transcripts:
        try:
            policy.severity(t.severity)
        except PolicyError as exc:
            raise InvalidInputError(f"transcript {t.id or ''}: {exc}".replace(" : ", ": ")) from exc
    texts = [m.text for t in transcripts for m in t.messages if m.role == "agent"]
    preds = classifier.predict(texts) if texts else []
    out = []
    pos = 0
    for t in transcripts:
        n = sum(m.role == "agent" for m in t.messages)
        out.append(score_transcript(t, preds[pos : pos + n], policy, as_of=as_of))
        pos += n
    return out
