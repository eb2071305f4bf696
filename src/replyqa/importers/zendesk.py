"""Zendesk: tickets, their comments and the users who wrote them.

Accepted shapes: the API's sideloaded export `{"tickets": [...], "users": [...],
"groups": [...]}` (with `comments` embedded in each ticket, or a top-level `comments`
list whose items carry `ticket_id`), or JSON Lines of tickets with embedded comments
(each line a ticket, or `{"ticket": {...}, "comments": [...]}`) and the users in a
separate file (`--users`). The requester is the customer; any other author is on the
vendor's side when their user `role` is `agent` or `admin`. A comment with
`public: false` is an internal note; comments made by triggers and automations
(`via.channel: rule`) or the system are bots.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..batch import Reject
from ..errors import DataError, InvalidInputError
from .base import (
    Context,
    Record,
    field_at,
    html_to_text,
    items_of,
    message,
    read_document,
    read_records,
    read_side_table,
    severity_word,
    to_iso,
    transcript,
)

AGENT_ROLES = frozenset({"agent", "admin"})
BOT_CHANNELS = frozenset({"rule", "answer_bot", "sla", "system"})


def iter_transcripts(path: Path, ctx: Context, users_path: Path | None = None) -> Iterator[Record | Reject]:
    """Transcripts of a Zendesk export."""
    users: dict[str, Record] = {}
    groups: dict[str, str] = {}
    loose: dict[str, list[Record]] = defaultdict(list)
    doc = read_document(path)
    if doc is not None and isinstance(doc.get("tickets"), list):
        records = items_of(doc["tickets"])
        for u in doc.get("users") or []:
            if isinstance(u, dict):
                users[str(u.get("id"))] = u
        for g in doc.get("groups") or []:
            if isinstance(g, dict):
                groups[str(g.get("id"))] = str(g.get("name") or g.get("id"))
        for c in doc.get("comments") or []:
            if isinstance(c, dict) and c.get("ticket_id") is not None:
                loose[str(c["ticket_id"])].append(c)
    else:
        records = read_records(path, ("tickets",))
    if users_path is not None:
        for u in read_side_table(users_path, ("users",)):
            users[str(u.get("id"))] = u
    if not users:
        raise DataError(
            "a Zendesk import needs the users to tell agents from customers:"
            " a 'users' list in the export, or --users FILE"
        )
    for pos, rec in records:
        ctx.stats.records += 1
        if isinstance(rec, Reject):
            yield rec
            continue
        if isinstance(rec.get("ticket"), dict):
            rec = {**rec["ticket"], "comments": rec.get("comments", rec["ticket"].get("comments"))}
        yield _one(pos, rec, users, groups, loose, ctx)


def _one(
    pos: int,
    ticket: Record,
    users: dict[str, Record],
    groups: dict[str, str],
    loose: dict[str, list[Record]],
    ctx: Context,
) -> Record | Reject:
    tid = ticket.get("id")
    comments = ticket.get("comments")
    if comments is None:
        comments = loose.get(str(tid), [])
    if not isinstance(comments, list):
        return Reject(pos, f"ticket {tid}: 'comments' must be a list", str(tid))
    requester = str(ticket.get("requester_id"))
    messages = []
    try:
        for i, c in enumerate(comments):
            if not isinstance(c, dict):
                return Reject(pos, f"ticket {tid}: comment {i} is not an object", str(tid))
            m = _message(c, requester, users, ctx, f"ticket {tid} comment {i}")
            if m is not None:
                messages.append(m)
        created = to_iso(ticket.get("created_at"), f"ticket {tid}.created_at")
    except InvalidInputError as exc:
        return Reject(pos, str(exc), str(tid))
    group = ticket.get("group_id")
    return transcript(
        ctx,
        pos,
        ticket_id=tid,
        messages=messages,
        severity=severity_word(ticket.get("priority")),
        created_at=created,
        vendor=field_at(ticket, "brand", "name") or ticket.get("brand_name"),
        team=groups.get(str(group), group) if group is not None else None,
        title=ticket.get("subject"),
        url=ticket.get("url"),
    )


def _message(c: Record, requester: str, users: dict[str, Record], ctx: Context, where: str) -> Record | None:
    if c.get("public") is False:
        ctx.skip("internal notes")
        return None
    author = str(c.get("author_id"))
    user: dict[str, Any] = users.get(author, {})
    name = user.get("name") or author
    if field_at(c, "via", "channel") in BOT_CHANNELS or author == "-1" or ctx.is_listed_bot(author, name):
        ctx.skip("bot messages")
        return None
    if author == requester or user.get("role") == "end-user":
        role = "customer"
    elif user.get("role") in AGENT_ROLES:
        role = "agent"
    else:
        ctx.skip("messages by unknown authors")
        return None
    body = c.get("plain_body") or c.get("body")
    if body is None and c.get("html_body"):
        body = html_to_text(str(c["html_body"]))
    if not isinstance(body, str):
        raise InvalidInputError(f"{where}: the comment has no text body")
    if not body.strip():
        ctx.skip("empty messages")
        return None
    return message(role, body.strip(), name, to_iso(c.get("created_at"), f"{where}.created_at"))
