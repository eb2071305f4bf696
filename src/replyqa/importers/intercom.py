"""Intercom: conversations with their parts (`GET /conversations/{id}`).

Accepted shapes: `{"conversations": [...]}`, a JSON array of conversations, or JSON
Lines of them. The `source` is the opening message; each of
`conversation_parts.conversation_parts` is a later one. `author.type` says who wrote
it: `user`, `lead` and `contact` are the customer, `admin` is the vendor's side and
`bot` is skipped; `part_type: note` is an internal note, and parts without a body
(assignments, open/close events) are not messages. Times are Unix seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..batch import Reject
from ..errors import InvalidInputError
from .base import Context, Record, field_at, html_to_text, message, read_records, to_iso, transcript

CUSTOMER_TYPES = frozenset({"user", "lead", "contact"})
AGENT_TYPES = frozenset({"admin", "team"})
NOTE_TYPES = frozenset({"note", "note_and_reopen"})


def iter_transcripts(path: Path, ctx: Context) -> Iterator[Record | Reject]:
    """Transcripts of an Intercom export."""
    for pos, rec in read_records(path, ("conversations", "data")):
        ctx.stats.records += 1
        yield rec if isinstance(rec, Reject) else _one(pos, rec, ctx)


def _part(part: Any, ctx: Context, where: str) -> Record | None:
    if not isinstance(part, dict):
        raise InvalidInputError(f"{where}: expected an object")
    if part.get("part_type") in NOTE_TYPES:
        ctx.skip("internal notes")
        return None
    body = part.get("body")
    if body is None or (isinstance(body, str) and not body.strip()):
        return None  # an event (assignment, close, snooze), not a message
    if not isinstance(body, str):
        raise InvalidInputError(f"{where}.body: must be a string")
    author = part.get("author") or {}
    kind = field_at(author, "type")
    name = field_at(author, "name") or field_at(author, "email") or field_at(author, "id")
    if kind == "bot" or ctx.is_listed_bot(field_at(author, "id"), name):
        ctx.skip("bot messages")
        return None
    if kind in CUSTOMER_TYPES:
        role = "customer"
    elif kind in AGENT_TYPES:
        role = "agent"
    else:
        raise InvalidInputError(f"{where}.author.type: {kind!r} is not user, lead, contact, admin or bot")
    text = html_to_text(body)
    if not text:
        ctx.skip("empty messages")
        return None
    return message(role, text, name, to_iso(part.get("created_at"), f"{where}.created_at"))


def _one(pos: int, conv: Record, ctx: Context) -> Record | Reject:
    cid = conv.get("id")
    parts = conv.get("conversation_parts")
    if isinstance(parts, dict):
        parts = parts.get("conversation_parts")
    if parts is None:
        parts = []
    if not isinstance(parts, list):
        return Reject(pos, f"conversation {cid}: conversation_parts must be a list", str(cid))
    try:
        messages = []
        source = conv.get("source")
        if isinstance(source, dict):
            opening = _part({**source, "created_at": conv.get("created_at")}, ctx, f"conversation {cid}.source")
            if opening is not None:
                messages.append(opening)
        for i, part in enumerate(parts):
            m = _part(part, ctx, f"conversation {cid} part {i}")
            if m is not None:
                messages.append(m)
        created = to_iso(conv.get("created_at"), f"conversation {cid}.created_at")
    except InvalidInputError as exc:
        return Reject(pos, str(exc), str(cid))
    priority = conv.get("priority")
    team = conv.get("team_assignee_id")
    return transcript(
        ctx,
        pos,
        ticket_id=cid,
        messages=messages,
        severity="high" if priority == "priority" else None,
        created_at=created,
        vendor=None,
        team=team,
        title=conv.get("title") or field_at(conv, "source", "subject") or None,
        url=field_at(conv, "source", "url"),
    )
