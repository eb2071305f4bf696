"""Jira Service Management: issues with their comments (`/rest/api/2` or `/3`, `expand` of comments).

Accepted shapes: a search result `{"issues": [...]}`, a JSON array of issues, or JSON
Lines of issues, each with `fields.comment.comments`. The reporter is the customer and
so is any author whose `accountType` is `customer` (a portal-only customer); other
authors are the service desk team, and authors with `accountType: app` are bots. A
comment with `jsdPublic: false` (or `public: false`, the Service Desk API's name) is
internal. Bodies may be wiki text (API v2) or Atlassian Document Format (API v3).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..batch import Reject
from ..errors import InvalidInputError
from .base import Context, Record, field_at, message, read_records, severity_word, to_iso, transcript


def iter_transcripts(path: Path, ctx: Context) -> Iterator[Record | Reject]:
    """Transcripts of a Jira Service Management export."""
    for pos, rec in read_records(path, ("issues", "values")):
        ctx.stats.records += 1
        yield rec if isinstance(rec, Reject) else _one(pos, rec, ctx)


def adf_text(node: Any) -> str:
    """Plain text of an Atlassian Document Format node (paragraphs on their own lines, code fenced)."""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji"):
        return str(field_at(node, "attrs", "text") or "")
    inner = "".join(adf_text(c) for c in node.get("content") or [])
    if kind == "codeBlock":
        return f"```\n{inner}\n```\n"
    if kind == "blockquote":
        return "".join(f"> {line}\n" for line in inner.strip().split("\n"))
    if kind in ("paragraph", "heading", "listItem"):
        return inner.rstrip("\n") + "\n"
    return inner


def _body(value: Any) -> str:
    return (
        adf_text(value).strip() if isinstance(value, dict) else (value or "").strip() if isinstance(value, str) else ""
    )


def _who(person: Any) -> tuple[str | None, str | None, str | None]:
    if not isinstance(person, dict):
        return None, None, None
    key = person.get("accountId") or person.get("key") or person.get("name") or person.get("emailAddress")
    return key, person.get("displayName") or key, person.get("accountType")


def _one(pos: int, issue: Record, ctx: Context) -> Record | Reject:
    key = issue.get("key") or issue.get("id")
    fields = issue.get("fields")
    if not isinstance(fields, dict):
        return Reject(pos, f"issue {key}: no 'fields' object", str(key))
    reporter, reporter_name, _ = _who(fields.get("reporter"))
    comments = field_at(fields, "comment", "comments")
    if comments is None:
        comments = []
    if not isinstance(comments, list):
        return Reject(pos, f"issue {key}: fields.comment.comments must be a list", str(key))
    try:
        created = to_iso(fields.get("created"), f"issue {key}.created")
        messages = []
        opening = _body(fields.get("description"))
        if opening:
            messages.append(message("customer", opening, reporter_name, created))
        for i, c in enumerate(comments):
            where = f"issue {key} comment {i}"
            if not isinstance(c, dict):
                raise InvalidInputError(f"{where}: expected an object")
            if c.get("jsdPublic") is False or c.get("public") is False:
                ctx.skip("internal notes")
                continue
            author, name, account_type = _who(c.get("author"))
            if account_type == "app" or ctx.is_listed_bot(author, name):
                ctx.skip("bot messages")
                continue
            text = _body(c.get("body"))
            if not text:
                ctx.skip("empty messages")
                continue
            role = "customer" if (author is not None and author == reporter) or account_type == "customer" else "agent"
            messages.append(message(role, text, name, to_iso(c.get("created"), f"{where}.created")))
    except InvalidInputError as exc:
        return Reject(pos, str(exc), str(key))
    components = fields.get("components") or []
    team = components[0].get("name") if components and isinstance(components[0], dict) else None
    base_url = str(issue.get("self", "")).split("/rest/")[0]
    return transcript(
        ctx,
        pos,
        ticket_id=key,
        messages=messages,
        severity=severity_word(field_at(fields, "priority", "name")),
        created_at=created,
        vendor=field_at(fields, "project", "name"),
        team=team,
        title=fields.get("summary"),
        url=f"{base_url}/browse/{key}" if base_url.startswith("http") else None,
    )
