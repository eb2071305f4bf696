"""Importers: helpdesk and issue-tracker exports to transcripts.

`import_file("zendesk", path, output)` writes one transcript per line, the shape
`replyqa score` and the API read, and puts records that cannot become a transcript
in a rejects file with their position and reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ..atomic import atomic_open
from ..batch import Reject
from ..errors import InvalidInputError
from . import freshdesk, generic, github, intercom, jira, zendesk
from .base import Context, ImportStats, Record, html_to_text, to_iso
from .generic import Mapping

FORMATS = ("zendesk", "freshdesk", "jira", "intercom", "github", "generic")

__all__ = [
    "FORMATS",
    "Context",
    "ImportStats",
    "Mapping",
    "html_to_text",
    "import_file",
    "iter_transcripts",
    "to_iso",
]


def iter_transcripts(
    fmt: str,
    path: Path | str,
    ctx: Context | None = None,
    *,
    users: Path | str | None = None,
    mapping: Mapping | None = None,
) -> Iterator[Record | Reject]:
    """Transcript objects (or Rejects) from an export file of the given format."""
    path = Path(path)
    ctx = ctx or Context()
    if fmt == "zendesk":
        return zendesk.iter_transcripts(path, ctx, Path(users) if users is not None else None)
    if users is not None:
        raise InvalidInputError("--users is for Zendesk exports only")
    if fmt == "generic":
        return generic.iter_transcripts(path, ctx, mapping)
    if mapping is not None:
        raise InvalidInputError("--map and the role values are for the generic format only")
    readers = {
        "freshdesk": freshdesk.iter_transcripts,
        "jira": jira.iter_transcripts,
        "intercom": intercom.iter_transcripts,
        "github": github.iter_transcripts,
    }
    if fmt not in readers:
        raise InvalidInputError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    return readers[fmt](path, ctx)


def import_file(
    fmt: str,
    path: Path | str,
    output: Path | str,
    *,
    rejects: Path | str | None = None,
    users: Path | str | None = None,
    mapping: Mapping | None = None,
    vendor: str | None = None,
    team: str | None = None,
    bots: frozenset[str] = frozenset(),
) -> ImportStats:
    """Write the transcripts of an export as JSON Lines (atomically); rejects beside it."""
    output = Path(output)
    ctx = Context(vendor=vendor, team=team, bots=bots)
    rejects_path = Path(rejects) if rejects is not None else output.with_name(output.name + ".rejects.jsonl")
    reject_lines: list[str] = []
    with atomic_open(output) as out:
        for item in iter_transcripts(fmt, path, ctx, users=users, mapping=mapping):
            if isinstance(item, Reject):
                reject_lines.append(item.to_json())
            else:
                out.write(json.dumps(item, ensure_ascii=False) + "\n")
    ctx.stats.rejected = len(reject_lines)
    if reject_lines:
        with atomic_open(rejects_path) as fh:
            fh.write("\n".join(reject_lines) + "\n")
        ctx.stats.rejects_path = rejects_path
    return ctx.stats
