"""Freshdesk: tickets with their conversations (`GET /api/v2/tickets/{id}?include=conversations`).

Accepted shapes: a JSON array of tickets, `{"tickets": [...]}`, or JSON Lines of
tickets, each with a `conversations` list. The ticket's description is the customer's
opening message. In a conversation `incoming: true` is the customer writing in and
`incoming: false` an agent's reply; `private: true` is an internal note. Priorities 1-4
become low, normal, high and urgent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..batch import Reject
from ..errors import InvalidInputError
from .base import Context, Record, html_to_text, message, read_records, severity_word, to_iso, transcript

PRIORITIES = {1: "low", 2: "normal", 3: "high", 4: "urgent"}
# Conversation sources that are automatic: survey feedback and Freddy/automation replies.
BOT_SOURCES = frozenset({6, 12})


def iter_transcripts(path: Path, ctx: Context) -> Iterator[Record | Reject]:
    """Transcripts of a Freshdesk export."""
    for pos, rec in read_records(path, ("tickets", "results")):
        ctx.stats.records += 1
        yield rec if isinstance(rec, Reject) else _one(pos, rec, ctx)


def _text(obj: Record, plain: str, rich: str) -> str:
    value = obj.get(plain)
    if isinstance(value, str) and value.strip():
        return value.strip()
    value = obj.get(rich)
    return html_to_text(value) if isinstance(value, str) else ""


def _one(pos: int, ticket: Record, ctx: Context) -> Record | Reject:
    tid = ticket.get("id")
    conversations = ticket.get("conversations", [])
    if not isinstance(conversations, list):
        return Reject(pos, f"ticket {tid}: 'conversations' must be a list", str(tid))
    requester = ticket.get("requester_id")
    try:
        created = to_iso(ticket.get("created_at"), f"ticket {tid}.created_at")
        messages = []
        opening = _text(ticket, "description_text", "description")
        if opening:
            messages.append(message("customer", opening, requester, created))
        for i, c in enumerate(conversations):
            where = f"ticket {tid} conversation {i}"
            if not isinstance(c, dict):
                raise InvalidInputError(f"{where}: expected an object")
            if c.get("private") is True:
                ctx.skip("internal notes")
                continue
            if c.get("source") in BOT_SOURCES or ctx.is_listed_bot(c.get("user_id")):
                ctx.skip("bot messages")
                continue
            incoming = c.get("incoming")
            if not isinstance(incoming, bool):
                raise InvalidInputError(f"{where}: 'incoming' must be true or false")
            text = _text(c, "body_text", "body")
            if not text:
                ctx.skip("empty messages")
                continue
            role = "customer" if incoming else "agent"
            messages.append(message(role, text, c.get("user_id"), to_iso(c.get("created_at"), f"{where}.created_at")))
    except InvalidInputError as exc:
        return Reject(pos, str(exc), str(tid))
    priority = ticket.get("priority")
    return transcript(
        ctx,
        pos,
        ticket_id=tid,
        messages=messages,
        severity=PRIORITIES.get(priority, severity_word(priority))
        if isinstance(priority, int)
        else severity_word(priority),
        created_at=created,
        vendor=ticket.get("company_name") or ticket.get("product_name"),
        team=ticket.get("group_name") or ticket.get("group_id"),
        title=ticket.get("subject"),
        url=ticket.get("url"),
    )
