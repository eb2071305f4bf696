"""Batch labeling of files of replies: streamed in chunks, bad rows rejected, never lost."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .atomic import atomic_open
from .model import Classifier, Prediction, predictions_from_proba
from .text import normalise

LABEL_FIELDS = ("quality", "category", "p_substantive", "confidence")


@dataclass
class BatchStats:
    """Counts of a batch job: read = labeled + rejected, always."""

    read: int = 0
    labeled: int = 0
    rejected: int = 0
    rejects_path: Path | None = None


@dataclass(frozen=True)
class Reject:
    """A row that could not be labeled, with its position and reason."""

    line: int
    reason: str
    raw: str

    def to_json(self) -> str:
        """The reject as one JSON line."""
        return json.dumps({"line": self.line, "reason": self.reason, "raw": self.raw}, ensure_ascii=False)


def label_fields(prediction: Prediction) -> dict[str, Any]:
    """The fields a labeled row gains."""
    return {
        "quality": prediction.quality,
        "category": prediction.category,
        "p_substantive": round(prediction.p_substantive, 4),
        "confidence": round(prediction.confidence, 4),
    }


def label_rows(
    classifier: Classifier, rows: Iterable[dict[str, Any]], *, text_field: str = "text"
) -> list[dict[str, Any]]:
    """Label rows that all have text; each distinct normalised text is classified once."""
    rows = list(rows)
    keys = [normalise(r[text_field]) for r in rows]
    distinct = list(dict.fromkeys(keys))
    if not distinct:
        return []
    predictions = predictions_from_proba(classifier.model.proba(distinct), classifier.version)
    by_key = dict(zip(distinct, predictions, strict=True))
    return [{**row, **label_fields(by_key[k])} for row, k in zip(rows, keys, strict=True)]


def parse_jsonl_line(line: str, lineno: int, text_field: str) -> dict[str, Any] | Reject:
    """Parse one input line into a row with text, or a Reject saying why not."""
    raw = line.rstrip("\n")
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        return Reject(lineno, f"bad JSON: {exc.msg} at column {exc.colno}", raw)
    if not isinstance(obj, dict):
        return Reject(lineno, f"expected a JSON object, got {type(obj).__name__}", raw)
    text = obj.get(text_field)
    if not isinstance(text, str):
        return Reject(lineno, f"no '{text_field}' string field", raw)
    if not text.strip():
        return Reject(lineno, f"'{text_field}' is empty", raw)
    return obj


def _chunks(lines: Iterable[str], size: int) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        chunk.append((lineno, line))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def label_jsonl(
    classifier: Classifier,
    input_path: Path,
    output_path: Path,
    *,
    rejects: Path | None = None,
    text_field: str = "text",
    chunk_size: int = 2048,
) -> BatchStats:
    """Label a JSON Lines file ('-' is stdin/stdout); bad rows go to a rejects file."""
    stats = BatchStats()
    to_stdout = str(output_path) == "-"
    rejects_path = rejects or (
        Path("replyqa.rejects.jsonl") if to_stdout else output_path.with_name(output_path.name + ".rejects.jsonl")
    )
    source: IO[str]
    in_ctx = nullcontext(sys.stdin) if str(input_path) == "-" else open(input_path, encoding="utf-8", errors="replace")  # noqa: SIM115
    out_ctx = nullcontext(sys.stdout) if to_stdout else atomic_open(output_path)
    reject_lines: list[str] = []
    with in_ctx as source, out_ctx as out:
        for chunk in _chunks(source, chunk_size):
            good: list[dict[str, Any]] = []
            for lineno, line in chunk:
                stats.read += 1
                parsed = parse_jsonl_line(line, lineno, text_field)
                if isinstance(parsed, Reject):
                    stats.rejected += 1
                    reject_lines.append(parsed.to_json())
                else:
                    good.append(parsed)
            for row in label_rows(classifier, good, text_field=text_field):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            stats.labeled += len(good)
    if reject_lines:
        with atomic_open(rejects_path) as fh:
            fh.write("\n".join(reject_lines) + "\n")
        stats.rejects_path = rejects_path
    return stats
