"""Feedback: corrected or new labeled samples from users, made safe to keep and to train on.

Each sample is validated against LABELING.md, stripped of obvious secrets and personal data
(emails, phone numbers, tokens and keys), compared with everything already labeled, and
appended to `data/labeled/feedback/` under an exclusive file lock with an fsync: an accepted
sample is on disk before it is reported as accepted, whatever other writers do at the time.
A stable slice of feedback (see `replyqa.data.in_holdout`) is held aside for evaluation.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from .atomic import atomic_open, file_lock, fsync_dir
from .data import (
    FEEDBACK_DIR,
    FEEDBACK_LOCK,
    Example,
    dedup_key,
    example_from_record,
    in_holdout,
    iter_records,
    jsonl_files,
)
from .errors import DataError
from .text import detect_lang

log = logging.getLogger(__name__)

# --- redaction --------------------------------------------------------------

_KEY_NAMES = (
    r"api[_-]?key|api[_-]?secret|app[_-]?secret|app[_-]?certificate|app[_-]?cert|client[_-]?secret|secret[_-]?key"
    r"|access[_-]?key(?:[_-]?id|[_-]?secret)?|access[_-]?token|refresh[_-]?token|auth[_-]?token|session[_-]?token"
    r"|private[_-]?key|token|password|passwd|pwd|secret|密钥|密码|令牌|口令"
)
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=-]{8,})")
_ASSIGNED = re.compile(rf"(?i)(\b(?:{_KEY_NAMES})[\"']?\s*[:=：]\s*[\"']?)([A-Za-z0-9_\-+/=.~]{{6,}})")
_KNOWN_KEYS = re.compile(
    r"\b(?:(?:AKIA|ASIA)[0-9A-Z]{16}|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35})\b"
)
_LONG_TOKEN = re.compile(r"(?<![\w/.\-])[A-Za-z0-9_+\-]{32,}={0,2}(?![\w/])")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(
    r"""(?x)(?<![\w.+/\-])(?:
        \+\d{1,3}[\s.\-]?(?:\(\d{1,4}\)[\s.\-]?)?\d{2,4}(?:[\s.\-]?\d{2,4}){1,4}   # +86 138 1234 5678
      | \(\d{3}\)\s?\d{3}[\s.\-]\d{4}                                              # (555) 123-4567
      | \d{3}[.\-]\d{3}[.\-]\d{4}                                                  # 555-123-4567
      | 1[3-9]\d(?:\d{8}|[\s\-]\d{4}[\s\-]\d{4})                                   # 13812345678, 138-1234-5678
      | 0\d{2,3}-\d{7,8}                                                           # 010-12345678
    )(?!\w|[.\-]\d)"""
)

REDACTED = {"secret": "[secret]", "email": "[email]", "phone": "[phone]"}


def _looks_random(token: str) -> bool:
    # Identifiers like AUDIO_PROFILE_MUSIC_HIGH_QUALITY are long too; keys mix many digits and letters.
    digits = sum(c.isdigit() for c in token)
    letters = sum(c.isalpha() for c in token)
    return digits >= 4 and letters >= 4


def _phone_digits_ok(match: re.Match[str]) -> bool:
    return 7 <= sum(c.isdigit() for c in match.group(0)) <= 15


def redact(text: str) -> tuple[str, list[str]]:
    """Replace secrets, emails and phone numbers by `[secret]`, `[email]`, `[phone]`; return the kinds found."""
    found: list[str] = []

    def sub(rx: re.Pattern[str], kind: str, repl: Callable[[re.Match[str]], str], keep: Callable[..., bool]) -> None:
        nonlocal text

        def one(m: re.Match[str]) -> str:
            if not keep(m):
                return m.group(0)
            if kind not in found:
                found.append(kind)
            return repl(m)

        text = rx.sub(one, text)

    def always(_m: re.Match[str]) -> bool:
        return True

    secret = REDACTED["secret"]
    sub(_PRIVATE_KEY, "secret", lambda m: secret, always)
    sub(_JWT, "secret", lambda m: secret, always)
    sub(_BEARER, "secret", lambda m: f"{m.group(1)}{m.group(2)}{secret}", always)
    sub(_ASSIGNED, "secret", lambda m: f"{m.group(1)}{secret}", lambda m: any(c.isdigit() for c in m.group(2)))
    sub(_KNOWN_KEYS, "secret", lambda m: secret, always)
    sub(_EMAIL, "email", lambda m: REDACTED["email"], always)
    sub(_PHONE, "phone", lambda m: REDACTED["phone"], _phone_digits_ok)
    sub(_LONG_TOKEN, "secret", lambda m: secret, lambda m: _looks_random(m.group(0)))
    return text, found


# --- what is already labeled ------------------------------------------------


@dataclass(frozen=True)
class Known:
    """A text already labeled somewhere under the data folder."""

    category: str
    id: str
    where: str


_FILE_INDEX: dict[Path, tuple[tuple[int, int, int], dict[str, Known]]] = {}


def _file_index(file: Path, root: Path) -> dict[str, Known]:
    st = file.stat()
    signature = (st.st_ino, st.st_mtime_ns, st.st_size)
    cached = _FILE_INDEX.get(file)
    if cached is not None and cached[0] == signature:
        return cached[1]
    index: dict[str, Known] = {}
    name = file.relative_to(root).as_posix() if file.is_relative_to(root) else str(file)
    for lineno, record in iter_records(file):
        if isinstance(record, dict) and isinstance(record.get("text"), str) and record["text"].strip():
            index.setdefault(
                dedup_key(record["text"]),
                Known(str(record.get("category")), str(record.get("id", "")), f"{name}:{lineno}"),
            )
    _FILE_INDEX[file] = (signature, index)
    return index


def labeled_index(data_dir: Path | str) -> dict[str, Known]:
    """Every labeled text under a data folder (corpus and feedback, not drafts) by its dedup key."""
    root = Path(data_dir).resolve()
    if not root.is_dir():
        return {}
    index: dict[str, Known] = {}
    for file in jsonl_files(root):
        for key, known in _file_index(file, root).items():
            index.setdefault(key, known)
    return index


# --- adding feedback --------------------------------------------------------


@dataclass(frozen=True)
class Rejected:
    """A sample that was not stored: where it was in the input, and why."""

    position: int
    reason: str
    record: object = None

    def to_dict(self) -> dict[str, object]:
        """The rejection as a JSON-ready dict (for the rejects file)."""
        return {"position": self.position, "reason": self.reason, "record": self.record}


@dataclass
class FeedbackReport:
    """What `add_feedback` did with each sample."""

    accepted: list[Example] = field(default_factory=list)
    duplicates: list[Rejected] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    redacted: int = 0  # accepted samples in which something was redacted
    path: Path | None = None

    @property
    def held_out(self) -> int:
        """How many accepted samples fall in the held-aside evaluation slice."""
        return sum(in_holdout(e) for e in self.accepted)

    def summary(self) -> str:
        """One line of counts."""
        where = f" to {self.path}" if self.path else ""
        return (
            f"accepted {len(self.accepted)} ({self.held_out} held aside for evaluation){where}, "
            f"{len(self.duplicates)} duplicates, {len(self.rejected)} rejected, {self.redacted} redacted"
        )


def feedback_id(text: str) -> str:
    """The id of a feedback sample: a hash of its dedup key, so the same reply always gets the same id."""
    return "fb-" + hashlib.sha256(dedup_key(text).encode()).hexdigest()[:12]


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def prepare(record: object, *, where: str = "record") -> tuple[Example, list[str], str | None]:
    """Redact and validate one feedback record; return the example, the kinds redacted and the caller's id."""
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}")
    if record.get("needs_review") not in (None, False, "", "false", "False", "0"):
        raise DataError(f"{where}: still flagged needs_review; check the category, then set needs_review to false")
    clean = {k: v for k, v in record.items() if not _blank(v)}
    try:
        json.dumps(clean, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:  # lone surrogates, values JSON cannot hold
        raise DataError(f"{where}: cannot be stored as UTF-8 JSON ({exc})") from exc
    kinds: list[str] = []
    for name in ("text", "context"):
        if isinstance(clean.get(name), str):
            clean[name], found = redact(clean[name])
            kinds += [k for k in found if k not in kinds]
    text = clean.get("text")
    if isinstance(text, str) and text.strip() and "lang" not in clean:
        clean["lang"] = detect_lang(text)
    source_id = clean.pop("id", None)
    if isinstance(text, str) and text.strip():
        clean["id"] = feedback_id(text)
    example = example_from_record(clean, where=where)
    return example, kinds, None if source_id is None else str(source_id)


def add_feedback(
    items: Iterable[tuple[int, object]],
    data_dir: Path | str,
    *,
    source: str = "cli",
    now: datetime | None = None,
) -> FeedbackReport:
    """Validate, redact, de-duplicate and append samples (position, record) to `data_dir/feedback/`.

    A record may be a DataError (a line that did not parse): it is reported, like every
    other rejected or duplicate sample, and never stops the batch.
    """
    now = now or datetime.now(UTC)
    data_dir = Path(data_dir)
    report = FeedbackReport()
    prepared: list[tuple[int, Example, dict[str, object]]] = []
    for position, record in items:
        if isinstance(record, DataError):
            report.rejected.append(Rejected(position, str(record)))
            continue
        try:
            example, kinds, source_id = prepare(record, where=f"#{position}")
        except DataError as exc:
            report.rejected.append(Rejected(position, str(exc).removeprefix(f"#{position}: "), record))
            continue
        stored = example.to_record()
        stored.update(source=source, added=now.isoformat(timespec="seconds"))
        if kinds:
            stored["redacted"] = kinds
        if source_id is not None:
            stored["source_id"] = source_id
        prepared.append((position, example, stored))

    folder = data_dir / FEEDBACK_DIR
    path = folder / f"feedback-{now:%Y%m%d}.jsonl"
    with file_lock(folder / FEEDBACK_LOCK):
        # Read what is labeled *inside* the lock, so a concurrent writer's samples are seen.
        index = labeled_index(data_dir)
        lines: list[str] = []
        for position, example, stored in prepared:
            key = dedup_key(example.text)
            known = index.get(key)
            if known is not None and known.category == example.category:
                report.duplicates.append(Rejected(position, f"already labeled at {known.where} (id {known.id})"))
            elif known is not None:
                report.rejected.append(
                    Rejected(
                        position,
                        f"conflicts with {known.where} (id {known.id}), labeled {known.category!r} not "
                        f"{example.category!r}; correct one of them by hand (see LABELING.md)",
                        stored,
                    )
                )
            else:
                index[key] = Known(example.category, example.id, f"#{position} of this batch")
                lines.append(json.dumps(stored, ensure_ascii=False) + "\n")
                report.accepted.append(example)
                report.redacted += "redacted" in stored
        if lines:
            _append(path, "".join(lines).encode("utf-8"))
            report.path = path
    report.rejected.sort(key=lambda r: r.position)
    log.info("feedback: %s", report.summary())
    return report


def _append(path: Path, data: bytes) -> None:
    """Append whole lines and fsync before returning; cut off a line left half-written by a crash."""
    new_dir = not path.parent.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    if new_dir:
        fsync_dir(path.parent.parent)
    new_file = not path.exists()
    with path.open("ab") as fh:
        _repair_tail(fh, path)
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    if new_file:
        fsync_dir(path.parent)


def _repair_tail(fh: IO[bytes], path: Path) -> None:
    size = path.stat().st_size
    if size == 0:
        return
    content = path.read_bytes()
    if content.endswith(b"\n"):
        return
    cut = content.rfind(b"\n") + 1
    tail = content[cut:]
    try:
        json.loads(tail)
    except ValueError:
        log.warning("%s: cutting off %d bytes of an append that was interrupted", path, len(tail))
        fh.truncate(cut)
    else:  # a complete record someone saved without its newline
        fh.write(b"\n")


# --- reading input files ----------------------------------------------------


def iter_samples(path: Path | str, *, text_field: str = "text") -> Iterator[tuple[int, object]]:
    """(line, record or DataError) for each row of a JSON Lines or CSV file (CSV: by its header)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or text_field not in reader.fieldnames:
                raise DataError(f"{path}: the CSV header has no {text_field!r} column")
            for row in reader:
                yield reader.line_num, {k: v for k, v in row.items() if k is not None}
        return
    yield from iter_records(path)


def write_rejects(path: Path | str, rejected: Iterable[Rejected]) -> None:
    """Write rejected samples with their position and reason as JSON Lines (atomically)."""
    with atomic_open(path) as fh:
        for r in rejected:
            fh.write(json.dumps(r.to_dict(), ensure_ascii=False, default=str) + "\n")
