"""GitHub issues and their comments: the REST shape or `gh issue view --json`.

Accepted records (a JSON array, JSON Lines, or `{"issues": [...]}`):

- REST: `{"issue": {...}, "comments": [...]}`, or an issue object whose `comments` is the
  list of comment objects (`user.login`, `user.type`, `author_association`, `body`,
  `created_at`);
- gh: `gh issue view N --json number,title,body,author,createdAt,url,labels,comments`
  (`author.login`, `author.is_bot`, `authorAssociation`, `createdAt`).

`author_association` OWNER, MEMBER or COLLABORATOR is the vendor's side; anyone else is
a customer. Bots (`user.type: Bot`, `is_bot`, logins ending in `[bot]`) are skipped.
The repository owner is the vendor and the repository the team; a label such as
`P2`, `priority: high` or `severity/critical` gives the severity.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..batch import Reject
from ..errors import InvalidInputError
from .base import Context, Record, field_at, message, read_records, severity_word, to_iso, transcript

VENDOR_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
_REPO = re.compile(r"github\.com/(?:repos/)?([^/]+)/([^/]+)/(?:issues|pull)/")
_SEVERITY_LABEL = re.compile(r"^(?:p\s*([0-9])|(?:priority|severity|sev|prio)\s*[:/ _-]\s*(\w+))$", re.I)


def iter_transcripts(path: Path, ctx: Context) -> Iterator[Record | Reject]:
    """Transcripts of GitHub issues."""
    for pos, rec in read_records(path, ("issues", "items")):
        ctx.stats.records += 1
        yield rec if isinstance(rec, Reject) else _one(pos, rec, ctx)


def _author(obj: Record) -> tuple[str | None, bool]:
    user = obj.get("user") or obj.get("author") or {}
    login = field_at(user, "login")
    is_bot = field_at(user, "type") == "Bot" or field_at(user, "is_bot") is True
    return login, bool(is_bot or (isinstance(login, str) and login.endswith("[bot]")))


def _association(obj: Record) -> str | None:
    value = obj.get("author_association", obj.get("authorAssociation"))
    return str(value).upper() if value is not None else None


def severity_from_labels(labels: Any) -> str | None:
    """The severity named by an issue label, if any."""
    for label in labels or []:
        name = label.get("name") if isinstance(label, dict) else label
        m = _SEVERITY_LABEL.match(str(name).strip())
        if m:
            return f"P{m.group(1)}" if m.group(1) else severity_word(m.group(2))
    return None


def _one(pos: int, rec: Record, ctx: Context) -> Record | Reject:
    issue = rec["issue"] if isinstance(rec.get("issue"), dict) else rec
    comments = rec.get("comments") if "issue" in rec else issue.get("comments")
    number = issue.get("number")
    url = issue.get("html_url") or issue.get("url")
    if isinstance(comments, int) or comments is None:
        comments = []  # the REST issue alone carries only a count
    if not isinstance(comments, list):
        return Reject(pos, f"issue {number}: 'comments' must be a list", str(number))
    repo = _REPO.search(str(url or "")) or _REPO.search(str(issue.get("repository_url", "")) + "/issues/")
    owner, name = (repo.group(1), repo.group(2)) if repo else (None, None)
    vendor_logins = {
        login
        for c in comments
        if isinstance(c, dict)
        for login, _ in [_author(c)]
        if _association(c) in VENDOR_ASSOCIATIONS
    }
    try:
        created = to_iso(issue.get("created_at", issue.get("createdAt")), f"issue {number}.created_at")
        messages = []
        opener, opener_bot = _author(issue)
        body = issue.get("body") or ""
        if not isinstance(body, str):
            raise InvalidInputError(f"issue {number}.body: must be a string")
        if body.strip() and not opener_bot:
            association = _association(issue)
            vendor_side = association in VENDOR_ASSOCIATIONS if association else opener in vendor_logins
            messages.append(message("agent" if vendor_side else "customer", body.strip(), opener, created))
        for i, c in enumerate(comments):
            where = f"issue {number} comment {i}"
            if not isinstance(c, dict):
                raise InvalidInputError(f"{where}: expected an object")
            login, is_bot = _author(c)
            if is_bot or ctx.is_listed_bot(login):
                ctx.skip("bot messages")
                continue
            text = c.get("body")
            if not isinstance(text, str):
                raise InvalidInputError(f"{where}.body: must be a string")
            if not text.strip():
                ctx.skip("empty messages")
                continue
            role = "agent" if _association(c) in VENDOR_ASSOCIATIONS else "customer"
            ts = to_iso(c.get("created_at", c.get("createdAt")), f"{where}.created_at")
            messages.append(message(role, text.strip(), login, ts))
    except InvalidInputError as exc:
        return Reject(pos, str(exc), str(number))
    ticket_id = f"{owner}/{name}#{number}" if owner and number is not None else number
    return transcript(
        ctx,
        pos,
        ticket_id=ticket_id,
        messages=messages,
        severity=severity_from_labels(issue.get("labels")),
        created_at=created,
        vendor=owner,
        team=name,
        title=issue.get("title"),
        url=url,
    )
