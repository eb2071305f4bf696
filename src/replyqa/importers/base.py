"""What every importer shares: reading export files, timestamps, HTML bodies, and building transcripts.

An importer turns the records of one export format into transcript objects, the shape
`replyqa.transcripts.transcript_from_dict` reads: `id`, `severity`, `created_at`,
`vendor`, `team`, `title`, `url` and `messages` (each with `role`, `author`, `text`,
`timestamp`). Internal notes, bots and empty messages are skipped and counted; a record
that cannot become a valid transcript is rejected with its position and reason.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..batch import Reject
from ..errors import DataError, InvalidInputError
from ..transcripts import transcript_from_dict

Record = dict[str, Any]


@dataclass
class ImportStats:
    """What an import did: transcripts and messages written, messages skipped by reason, records rejected."""

    records: int = 0
    transcripts: int = 0
    messages: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    rejects_path: Path | None = None

    def summary(self) -> str:
        """One line for people."""
        roles = ", ".join(f"{n} {role}" for role, n in sorted(self.messages.items()))
        line = f"imported {self.transcripts} transcripts from {self.records} records ({roles or 'no'} messages)"
        if self.skipped:
            line += "; skipped " + ", ".join(f"{n} {why}" for why, n in self.skipped.most_common())
        if self.rejected:
            line += f"; rejected {self.rejected} records"
        return line


@dataclass
class Context:
    """Options every importer understands, and the counters it fills."""

    vendor: str | None = None
    team: str | None = None
    bots: frozenset[str] = frozenset()
    stats: ImportStats = field(default_factory=ImportStats)

    def skip(self, reason: str) -> None:
        """Count a message that is not part of the customer-facing conversation."""
        self.stats.skipped[reason] += 1

    def is_listed_bot(self, *names: object) -> bool:
        """True when an author id, name or login is one of the `--bot` names."""
        return any(n is not None and str(n) in self.bots for n in names)


def read_records(path: Path, keys: Iterable[str] = ()) -> Iterator[tuple[int, Record | Reject]]:
    """Records of a JSON or JSON Lines export, with their position (line, or item number in a JSON array).

    A JSON document may be an array of records, one record, or an object holding the
    array under one of `keys` (e.g. `{"tickets": [...]}`).
    """
    if not path.is_file():
        raise InvalidInputError(f"export file {path} does not exist")
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        yield from _json_document(path, keys)
        return
    if head.startswith(b"{"):
        # One JSON object spread over lines, or JSON Lines: the first line tells.
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline()
        try:
            json.loads(first)
        except json.JSONDecodeError:
            yield from _json_document(path, keys)
            return
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            text = raw.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip()
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                yield lineno, Reject(lineno, f"bad JSON: {exc.msg} at column {exc.colno}", text)
                continue
            if isinstance(obj, dict) and any(isinstance(obj.get(k), list) for k in keys):
                yield from _unwrap(obj, keys, lineno)
            elif isinstance(obj, dict):
                yield lineno, obj
            else:
                yield lineno, Reject(lineno, f"expected a JSON object, got {type(obj).__name__}", text)


def _json_document(path: Path, keys: Iterable[str]) -> Iterator[tuple[int, Record | Reject]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is neither JSON nor JSON Lines ({exc}); check the export") from exc
    if isinstance(doc, list):
        yield from _items(doc)
    elif isinstance(doc, dict) and any(isinstance(doc.get(k), list) for k in keys):
        yield from _unwrap(doc, keys, 0)
    elif isinstance(doc, dict):
        yield 1, doc
    else:
        raise DataError(f"{path}: expected a JSON array or object of records, got {type(doc).__name__}")


def _unwrap(doc: Record, keys: Iterable[str], base: int) -> Iterator[tuple[int, Record | Reject]]:
    for k in keys:
        if isinstance(doc.get(k), list):
            for pos, item in _items(doc[k]):
                yield base or pos, item
            return


def items_of(items: list[Any]) -> Iterator[tuple[int, Record | Reject]]:
    """Records of a JSON array, numbered from 1; non-objects are rejects."""
    return _items(items)


def _items(items: list[Any]) -> Iterator[tuple[int, Record | Reject]]:
    for i, item in enumerate(items, start=1):
        if isinstance(item, dict):
            yield i, item
        else:
            yield i, Reject(i, f"item {i}: expected an object, got {type(item).__name__}", json.dumps(item)[:2000])


def read_document(path: Path) -> Record | None:
    """The top-level object of a JSON document (not JSON Lines), or None for anything else."""
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{"):
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # JSON Lines, or broken: read_records reports it line by line
    return doc if isinstance(doc, dict) else None


def read_side_table(path: Path, keys: Iterable[str]) -> list[Record]:
    """All records of a small side file (users, groups); any bad record is an error."""
    out = []
    for pos, rec in read_records(path, keys):
        if isinstance(rec, Reject):
            raise DataError(f"{path}:{pos}: {rec.reason}")
        out.append(rec)
    return out


_JIRA_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


def to_iso(value: object, where: str, timezone: ZoneInfo | None = None) -> str | None:
    """An ISO 8601 timestamp with offset from ISO text, Jira's `+0000` form or Unix seconds; None if empty.

    A time without offset is read in `timezone` when one is given, else refused.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInputError(f"{where}: expected a timestamp, got {value!r}")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value  # milliseconds are common too
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    text = str(value).strip()
    if text.isdigit():
        return to_iso(int(text), where)
    text = text.replace(" UTC", "+00:00").replace("Z", "+00:00")
    text = _JIRA_OFFSET.sub(r"\1:\2", text)
    try:
        ts = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(f"{where}: {value!r} is not a timestamp") from exc
    if ts.tzinfo is None and timezone is not None:
        ts = ts.replace(tzinfo=timezone)
    if ts.tzinfo is None:
        raise InvalidInputError(f"{where}: {value!r} has no UTC offset; exports must say which time zone (--timezone)")
    return ts.isoformat()


class _TextParser(HTMLParser):
    _BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "pre", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._quote = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "blockquote":
            self._quote += 1
        if tag in self._BLOCK:
            self.parts.append("\n")
        if tag == "pre":
            self.parts.append("```\n")
        if tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        if tag == "pre":
            self.parts.append("\n```")
        if tag == "blockquote":
            self._quote = max(0, self._quote - 1)
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._quote:
            data = "\n".join("> " + line if line.strip() else line for line in data.split("\n"))
        self.parts.append(data)


def html_to_text(body: str) -> str:
    """Plain text of an HTML message body: paragraphs and line breaks kept, quotes marked with '>'."""
    if "<" not in body:
        return html.unescape(body).strip()
    parser = _TextParser()
    parser.feed(body)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def message(role: str, text: str, author: object, timestamp: str | None) -> Record:
    """One transcript message."""
    return {"role": role, "author": None if author is None else str(author), "text": text, "timestamp": timestamp}


def transcript(
    ctx: Context,
    pos: int,
    *,
    ticket_id: object,
    messages: list[Record],
    severity: object = None,
    created_at: str | None = None,
    vendor: object = None,
    team: object = None,
    title: object = None,
    url: object = None,
) -> Record | Reject:
    """A validated transcript object, or a Reject saying why the record cannot be one."""
    raw = json.dumps({"id": ticket_id, "title": title}, ensure_ascii=False, default=str)
    if ticket_id is None or str(ticket_id).strip() == "":
        return Reject(pos, "record has no ticket id", raw)
    messages = [m for m in messages if m["text"].strip()]
    if not messages:
        return Reject(pos, f"ticket {ticket_id}: no public messages left after skipping notes and bots", raw)
    if all(m["timestamp"] for m in messages):
        # Exports list comments newest first, or in an order of their own: time decides.
        messages.sort(key=lambda m: datetime.fromisoformat(m["timestamp"]))
        first = datetime.fromisoformat(messages[0]["timestamp"])
        if created_at is not None and datetime.fromisoformat(created_at) > first:
            created_at = messages[0]["timestamp"]  # clock skew between ticket and first comment
    obj: Record = {"id": str(ticket_id), "messages": messages}
    for key, value in (
        ("severity", severity),
        ("created_at", created_at),
        ("vendor", ctx.vendor if ctx.vendor is not None else vendor),
        ("team", ctx.team if ctx.team is not None else team),
        ("title", title),
        ("url", url),
    ):
        if value is not None and value != "":
            obj[key] = str(value)
    try:
        transcript_from_dict(obj, f"ticket {ticket_id}")
    except InvalidInputError as exc:
        return Reject(pos, str(exc), raw)
    ctx.stats.transcripts += 1
    ctx.stats.messages.update(m["role"] for m in messages)
    return obj


def field_at(obj: object, *path: str) -> Any:
    """A nested field (`field_at(issue, "fields", "priority", "name")`), None when any step is missing."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def severity_word(value: object) -> str | None:
    """A priority name in the words the default SLA policy knows: urgent, high, normal, low (P1-P4 kept)."""
    if value is None:
        return None
    word = str(value).strip().lower()
    if re.fullmatch(r"p[0-9]", word):
        return word.upper()
    for names, canonical in (
        (("urgent", "critical", "blocker", "highest", "sev1", "s1"), "urgent"),
        (("high", "major", "sev2", "s2"), "high"),
        (("normal", "medium", "moderate", "sev3", "s3"), "normal"),
        (("low", "lowest", "minor", "trivial", "sev4", "s4"), "low"),
    ):
        if word in names:
            return canonical
    return str(value).strip() or None
