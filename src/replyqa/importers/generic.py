"""Any CSV or JSON Lines file of messages, one row per message, with a column mapping.

Rows are grouped into tickets by the ticket column (they need not be adjacent) and
ordered by time when every message of a ticket has one, else kept in file order. The
role column's values say who wrote the message: values in `agent_values` are the
vendor's side, values in `customer_values` the customer; rows whose role is in
`skip_values` (notes, bots, system) are skipped; any other value is rejected.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..batch import Reject
from ..errors import DataError, InvalidInputError
from .base import Context, Record, message, read_records, severity_word, to_iso, transcript

FIELDS = (
    "ticket",
    "role",
    "text",
    "timestamp",
    "author",
    "severity",
    "created_at",
    "vendor",
    "team",
    "title",
    "url",
)


@dataclass(frozen=True)
class Mapping:
    """Which column holds each transcript field, and which role values mean what."""

    columns: dict[str, str] = field(default_factory=lambda: {f: f for f in FIELDS} | {"ticket": "ticket_id"})
    agent_values: frozenset[str] = frozenset({"agent", "vendor", "support", "staff", "admin", "maintainer"})
    customer_values: frozenset[str] = frozenset({"customer", "user", "end-user", "requester", "client"})
    skip_values: frozenset[str] = frozenset({"note", "internal", "bot", "system"})
    timezone: ZoneInfo | None = None

    @classmethod
    def parse(
        cls,
        pairs: list[str] = [],  # noqa: B006
        *,
        agent_values: str | None = None,
        customer_values: str | None = None,
        skip_values: str | None = None,
        timezone: str | None = None,
    ) -> Mapping:
        """A mapping from `FIELD=COLUMN` pairs and comma-separated role values."""
        default = cls()
        columns = dict(default.columns)
        for pair in pairs:
            name, sep, column = pair.partition("=")
            if not sep or name.strip() not in FIELDS or not column.strip():
                raise InvalidInputError(f"--map {pair!r}: expected FIELD=COLUMN with FIELD one of {', '.join(FIELDS)}")
            columns[name.strip()] = column.strip()

        def values(text: str | None, fallback: frozenset[str]) -> frozenset[str]:
            return fallback if text is None else frozenset(v.strip().lower() for v in text.split(",") if v.strip())

        try:
            tz = ZoneInfo(timezone) if timezone else None
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInputError(
                f"--timezone {timezone!r}: unknown time zone; use a name like Asia/Shanghai"
            ) from exc
        return cls(
            columns,
            values(agent_values, default.agent_values),
            values(customer_values, default.customer_values),
            values(skip_values, default.skip_values),
            tz,
        )


def _rows(path: Path) -> Iterator[tuple[int, Record | Reject]]:
    if path.suffix.lower() != ".csv":
        yield from read_records(path)
        return
    if not path.is_file():
        raise InvalidInputError(f"export file {path} does not exist")
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise DataError(f"{path} is empty: a CSV export needs a header row") from None
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield line, Reject(line, f"bad CSV: {exc}", "")
                continue
            if not cells:
                continue
            if len(cells) != len(header):
                yield line, Reject(line, f"expected {len(header)} fields, got {len(cells)}", ",".join(cells))
                continue
            yield line, dict(zip(header, cells, strict=True))


def iter_transcripts(path: Path, ctx: Context, mapping: Mapping | None = None) -> Iterator[Record | Reject]:
    """Transcripts of a one-row-per-message file."""
    mapping = mapping or Mapping()
    col = mapping.columns
    tickets: dict[str, list[tuple[int, Record]]] = {}
    for pos, row in _rows(path):
        ctx.stats.records += 1
        if isinstance(row, Reject):
            yield row
            continue
        raw = json.dumps(row, ensure_ascii=False, default=str)
        for needed in ("ticket", "role", "text"):
            if col[needed] not in row:
                yield Reject(pos, f"no {col[needed]!r} column ({needed}); map it with --map {needed}=COLUMN", raw)
                break
        else:
            tid = row[col["ticket"]]
            if tid is None or str(tid).strip() == "":
                yield Reject(pos, f"empty ticket id in {col['ticket']!r}", raw)
                continue
            tickets.setdefault(str(tid), []).append((pos, row))
    for tid, rows in tickets.items():
        yield _one(tid, rows, mapping, ctx)


def _one(tid: str, rows: list[tuple[int, Record]], mapping: Mapping, ctx: Context) -> Record | Reject:
    col = mapping.columns
    first_pos = rows[0][0]
    messages = []
    try:
        for pos, row in rows:
            role_value = str(row.get(col["role"]) or "").strip().lower()
            if role_value in mapping.skip_values:
                ctx.skip("notes and bot messages")
                continue
            if role_value in mapping.agent_values:
                role = "agent"
            elif role_value in mapping.customer_values:
                role = "customer"
            else:
                raise InvalidInputError(
                    f"line {pos}: role {role_value!r} is neither an agent nor a customer value;"
                    " set --agent-values / --customer-values"
                )
            text = row.get(col["text"])
            if not isinstance(text, str) or not text.strip():
                ctx.skip("empty messages")
                continue
            ts = to_iso(row.get(col["timestamp"]), f"line {pos} {col['timestamp']}", mapping.timezone)
            messages.append(message(role, text.strip(), row.get(col["author"]) or None, ts))
        first = rows[0][1]
        created = to_iso(first.get(col["created_at"]), f"line {first_pos} {col['created_at']}", mapping.timezone)
    except InvalidInputError as exc:
        return Reject(first_pos, f"ticket {tid}: {exc}", tid)
    return transcript(
        ctx,
        first_pos,
        ticket_id=tid,
        messages=messages,
        severity=severity_word(first.get(col["severity"]) or None),
        created_at=created,
        vendor=first.get(col["vendor"]),
        team=first.get(col["team"]),
        title=first.get(col["title"]),
        url=first.get(col["url"]),
    )
