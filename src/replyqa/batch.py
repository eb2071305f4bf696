"""Batch labeling of files of replies: streamed in chunks, bad rows rejected, never lost.

`label_file` reads JSON Lines, CSV or Parquet (or stdin), labels every row in chunks
with constant memory, optionally in several processes, and writes the rows back in
input order with `quality`, `category`, `p_substantive` and `confidence` added. A row
that cannot be parsed or has no text goes to a rejects file with its line number and
reason: read = labeled + rejected, always.

Output to a file goes to a hidden partial file next to it, committed chunk by chunk
with a checkpoint, and is renamed into place only when the job is complete; an
interrupted job continues from the last committed chunk with `resume=True`.

`score_file` does the same for transcripts: every agent message labeled, the
ticket measures and SLA verdicts computed by `replyqa.transcripts`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from .atomic import atomic_open, atomic_write_text
from .errors import DataError, InvalidInputError, PolicyError
from .text import normalise

if TYPE_CHECKING:
    import pyarrow as pa

    from .model import Classifier, Prediction
    from .sla import Policy

log = logging.getLogger(__name__)

LABEL_FIELDS = ("quality", "category", "p_substantive", "confidence")
FORMATS = ("jsonl", "csv", "parquet")
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
CHECKPOINT_VERSION = 1
# Distinct texts remembered across chunks (of each kind, per process); bounded so memory
# stays flat on any file. 10,000 holds every canned reply a help desk uses; more costs
# memory (about 1 kB an entry) and buys little.
CACHE_SIZE = 10_000
# Seconds between checkpoints: each one fsyncs the output, so not after every chunk.
COMMIT_EVERY = 1.0


@dataclass
class BatchStats:
    """Counts of a batch job: read = labeled + rejected, always."""

    read: int = 0
    labeled: int = 0
    rejected: int = 0
    rejects_path: Path | None = None
    output_path: Path | None = None
    elapsed: float = 0.0
    resumed_at: int = 0
    distinct: int = 0

    @property
    def rate(self) -> float:
        """Rows read per second of this run."""
        return (self.read - self.resumed_at) / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self) -> str:
        """One line for people: counts, time, throughput."""
        line = (
            f"read {self.read}, labeled {self.labeled}, rejected {self.rejected} in {self.elapsed:.1f}s"
            f" ({self.rate:,.0f} rows/s)"
        )
        if self.resumed_at:
            line += f", resumed after row {self.resumed_at}"
        return line


@dataclass(frozen=True)
class BatchProgress:
    """Where a running job is: rows so far, and `done` of `total` units (bytes, or rows for Parquet)."""

    read: int
    labeled: int
    rejected: int
    done: int
    total: int | None
    elapsed: float


@dataclass(frozen=True)
class Reject:
    """A row that could not be used, with its position (line, or row for Parquet) and reason."""

    line: int
    reason: str
    raw: str

    def to_json(self) -> str:
        """The reject as one JSON line."""
        return json.dumps({"line": self.line, "reason": self.reason, "raw": self.raw}, ensure_ascii=False)


class Labels(NamedTuple):
    """The fields a labeled row gains, and the same as JSON text to append to an object."""

    fields: dict[str, Any]
    suffix: str


def label_fields(prediction: Prediction) -> dict[str, Any]:
    """The fields a labeled row gains."""
    return {
        "quality": prediction.quality,
        "category": prediction.category,
        "p_substantive": round(prediction.p_substantive, 4),
        "confidence": round(prediction.confidence, 4),
    }


def _labels(prediction: Prediction) -> Labels:
    f = label_fields(prediction)
    # Labels and categories are plain identifiers and the numbers finite: repr is their JSON.
    suffix = (
        f', "quality": "{f["quality"]}", "category": "{f["category"]}",'
        f' "p_substantive": {f["p_substantive"]!r}, "confidence": {f["confidence"]!r}}}'
    )
    return Labels(f, suffix)


class _Memo:
    """A bounded memory of labels in two generations: what was used since the last turn survives it."""

    def __init__(self, size: int) -> None:
        self.half = max(1, size // 2)
        self.young: dict[str, Labels] = {}
        self.old: dict[str, Labels] = {}

    def get(self, key: str) -> Labels | None:
        hit = self.young.get(key)
        if hit is None:
            hit = self.old.get(key)
            if hit is not None:
                self.put(key, hit)
        return hit

    def put(self, key: str, value: Labels) -> None:
        self.young[key] = value
        if len(self.young) >= self.half:
            self.old, self.young = self.young, {}

    def __len__(self) -> int:
        return len(self.young) + len(self.old)


class Labeler:
    """Labels texts, classifying each distinct text and each distinct normalised text once.

    What it remembers is bounded by `cache_size` entries per kind, so memory stays flat on
    any file; texts seen again recently (canned replies) stay remembered.
    """

    def __init__(self, classifier: Classifier, cache_size: int = CACHE_SIZE) -> None:
        self.classifier = classifier
        self._by_text = _Memo(cache_size)
        self._by_normalised = _Memo(cache_size)
        self.distinct = 0

    def label(self, texts: list[str]) -> list[Labels]:
        """Labels of each text, in order."""
        from .model import predictions_from_proba

        by_text, by_norm = self._by_text, self._by_normalised
        out: list[Labels | None] = [None] * len(texts)
        pending: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            hit = by_text.get(text)
            if hit is None:
                key = normalise(text)
                hit = by_norm.get(key)
                if hit is None:
                    pending.setdefault(key, []).append(i)
                    continue
                by_text.put(text, hit)
            out[i] = hit
        if pending:
            keys = list(pending)
            predictions = predictions_from_proba(self.classifier.model.proba(keys), self.classifier.version)
            self.distinct += len(keys)
            for key, prediction in zip(keys, predictions, strict=True):
                labels = _labels(prediction)
                by_norm.put(key, labels)
                for i in pending[key]:
                    out[i] = labels
                    by_text.put(texts[i], labels)
        return out  # type: ignore[return-value]


def label_rows(
    classifier: Classifier, rows: Iterable[dict[str, Any]], *, text_field: str = "text"
) -> list[dict[str, Any]]:
    """Label rows that all have text; each distinct normalised text is classified once."""
    rows = list(rows)
    labels = Labeler(classifier).label([r[text_field] for r in rows])
    return [{**row, **lab.fields} for row, lab in zip(rows, labels, strict=True)]


def check_row(obj: object, lineno: int, text_field: str, raw: str) -> dict[str, Any] | Reject:
    """A row with a non-empty text, or a Reject saying why not."""
    if not isinstance(obj, dict):
        return Reject(lineno, f"expected a JSON object, got {type(obj).__name__}", raw)
    text = obj.get(text_field)
    if not isinstance(text, str):
        return Reject(lineno, f"no '{text_field}' string field", raw)
    if not text.strip():
        return Reject(lineno, f"'{text_field}' is empty", raw)
    return obj


def parse_jsonl_line(line: str, lineno: int, text_field: str) -> dict[str, Any] | Reject:
    """Parse one input line into a row with text, or a Reject saying why not."""
    raw = line.rstrip("\r\n")
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        return Reject(lineno, f"bad JSON: {exc.msg} at column {exc.colno}", raw)
    return check_row(obj, lineno, text_field, raw)


def detect_format(path: Path | str, explicit: str | None = None, *, default: str | None = None) -> str:
    """The file format: `explicit` if given, else from the extension ('-' means `default`, else jsonl)."""
    if explicit is not None:
        if explicit not in FORMATS:
            raise InvalidInputError(f"unknown format {explicit!r}; use one of {', '.join(FORMATS)}")
        return explicit
    if str(path) == "-":
        return default or "jsonl"
    fmt = _EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None:
        if default is not None:
            return default
        raise InvalidInputError(f"cannot tell the format of {path} from its extension; pass --format jsonl|csv|parquet")
    return fmt


# --- reading -------------------------------------------------------------------------------------------------------


@dataclass
class _Chunk:
    """Rows of the input: raw JSONL lines (bytes), parsed rows, or rejects found while reading."""

    items: list[tuple[int, Any]]
    end_offset: int
    next_line: int


class _Source:
    """An input file read in chunks from a resumable position."""

    total: int | None = None
    columns: list[str] | None = None
    schema: pa.Schema | None = None

    def chunks(self, size: int, offset: int, line: int) -> Iterator[_Chunk]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the file."""


class _JsonlSource(_Source):
    def __init__(self, fh: IO[bytes], total: int | None) -> None:
        self.fh, self.total = fh, total

    def chunks(self, size: int, offset: int, line: int) -> Iterator[_Chunk]:
        if offset:
            self.fh.seek(offset)
        items: list[tuple[int, Any]] = []
        for raw in self.fh:
            line += 1
            offset += len(raw)
            if line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if raw.strip():
                items.append((line, raw))
                if len(items) >= size:
                    yield _Chunk(items, offset, line)
                    items = []
        if items:
            yield _Chunk(items, offset, line)

    def close(self) -> None:
        self.fh.close()


class _CsvSource(_Source):
    def __init__(self, fh: IO[bytes], total: int | None, text_column: str, header: list[str] | None = None) -> None:
        self.fh, self.total = fh, total
        self._offset = 0
        self._line = 0
        self._bad_utf8 = False
        self._header_end = 0
        csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))
        if header is None:
            reader = csv.reader(self._lines())
            try:
                header = next(reader)
            except StopIteration:
                raise DataError("the CSV input is empty: it needs a header row") from None
            except csv.Error as exc:
                raise DataError(f"the CSV header cannot be read: {exc}") from exc
            self._header_end = self._offset
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise DataError(f"the CSV header repeats column {dupes[0]!r}; rename it")
        if text_column not in header:
            raise DataError(
                f"the CSV has no {text_column!r} column (columns: {', '.join(header)}); pick one with --text-column"
            )
        self.columns = header

    def _lines(self) -> Iterator[str]:
        for raw in self.fh:
            self._offset += len(raw)
            self._line += 1
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self._bad_utf8 = True
                yield raw.decode("utf-8", errors="replace")

    def chunks(self, size: int, offset: int, line: int) -> Iterator[_Chunk]:
        assert self.columns is not None
        header = self.columns
        if offset:
            self.fh.seek(offset)
            self._offset, self._line = offset, line
        reader = csv.reader(self._lines())
        items: list[tuple[int, Any]] = []
        while True:
            start = self._line + 1
            self._bad_utf8 = False
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                items.append((start, Reject(start, f"bad CSV: {exc}", "")))
                continue
            if not fields:
                continue
            raw = ",".join(fields)
            if self._bad_utf8:
                items.append((start, Reject(start, "not valid UTF-8", raw)))
            elif len(fields) != len(header):
                items.append((start, Reject(start, f"expected {len(header)} fields, got {len(fields)}", raw)))
            else:
                items.append((start, dict(zip(header, fields, strict=True))))
            if len(items) >= size:
                yield _Chunk(items, self._offset, self._line)
                items = []
        if items:
            yield _Chunk(items, self._offset, self._line)

    def close(self) -> None:
        self.fh.close()


class _ParquetSource(_Source):
    def __init__(self, fh: IO[bytes], text_column: str) -> None:
        import pyarrow.parquet as pq

        self.fh = fh
        try:
            self.file = pq.ParquetFile(fh)
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise DataError(f"the input is not a readable Parquet file: {exc}") from exc
        self.schema = self.file.schema_arrow
        self.columns = list(self.schema.names)
        self.total = self.file.metadata.num_rows
        if text_column not in self.columns:
            raise DataError(
                f"the Parquet file has no {text_column!r} column (columns: {', '.join(self.columns)});"
                " pick one with --text-column"
            )

    def chunks(self, size: int, offset: int, line: int) -> Iterator[_Chunk]:
        # For Parquet the offset is a row count: skip whole row groups, then slice.
        meta = self.file.metadata
        first, skipped = 0, 0
        while first < meta.num_row_groups and skipped + meta.row_group(first).num_rows <= offset:
            skipped += meta.row_group(first).num_rows
            first += 1
        row = skipped
        groups = list(range(first, meta.num_row_groups))
        if not groups:
            return
        for batch in self.file.iter_batches(batch_size=size, row_groups=groups):
            if row < offset:
                cut = offset - row
                row += min(cut, batch.num_rows)
                batch = batch.slice(cut)
                if batch.num_rows == 0:
                    continue
            rows = batch.to_pylist()
            items = [(row + i + 1, r) for i, r in enumerate(rows)]
            row += len(rows)
            yield _Chunk(items, row, row)

    def close(self) -> None:
        self.fh.close()


def _open_source(
    fmt: str, input_path: Path, text_column: str, stdin: IO[bytes] | None, csv_header: list[str] | None
) -> _Source:
    if str(input_path) == "-":
        fh: IO[bytes] = stdin if stdin is not None else sys.stdin.buffer
        total = None
        if fmt == "parquet":  # Parquet needs to seek: spool stdin to a temporary file.
            spool = tempfile.TemporaryFile()  # noqa: SIM115  (closed by the source)
            shutil.copyfileobj(fh, spool)
            spool.seek(0)
            fh = spool
    else:
        if not input_path.is_file():
            raise InvalidInputError(f"input file {input_path} does not exist")
        fh = input_path.open("rb")
        total = input_path.stat().st_size
    try:
        if fmt == "jsonl":
            return _JsonlSource(fh, total)
        if fmt == "csv":
            return _CsvSource(fh, total, text_column, csv_header)
        return _ParquetSource(fh, text_column)
    except BaseException:
        fh.close()
        raise


# --- labeling a chunk (in this process or a worker) ----------------------------------------------------------------


@dataclass
class _Done:
    payload: bytes | list[tuple[int, dict[str, Any]]]
    rejects: list[Reject]
    read: int
    labeled: int


def _raw_of(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, default=str)


def _process(labeler: Labeler, items: list[tuple[int, Any]], text_column: str, jsonl_out: bool) -> _Done:
    """Parse, check and label one chunk; JSONL output is serialised here so workers do it in parallel."""
    rows: list[tuple[int, dict[str, Any], str | None]] = []
    rejects: list[Reject] = []
    for pos, item in items:
        raw: str | None = None
        if isinstance(item, bytes):
            try:
                raw = item.decode("utf-8").rstrip()
            except UnicodeDecodeError as exc:
                rejects.append(Reject(pos, f"not valid UTF-8 (byte {exc.start + 1})", item.decode("utf-8", "replace")))
                continue
            parsed = parse_jsonl_line(raw, pos, text_column)
        elif isinstance(item, Reject):
            rejects.append(item)
            continue
        else:
            parsed = check_row(item, pos, text_column, "")
            if isinstance(parsed, Reject):
                parsed = Reject(parsed.line, parsed.reason, _raw_of(item))
        if isinstance(parsed, Reject):
            rejects.append(parsed)
        else:
            rows.append((pos, parsed, raw))
    labels = labeler.label([r[text_column] for _, r, _ in rows])
    payload: bytes | list[tuple[int, dict[str, Any]]]
    if jsonl_out:
        parts = []
        for (_, row, raw), lab in zip(rows, labels, strict=True):
            if raw is not None and not any(k in row for k in LABEL_FIELDS):
                # Append to the original text: the input object is kept byte for byte.
                parts.append(raw[:-1] + lab.suffix)
            else:
                parts.append(json.dumps({**row, **lab.fields}, ensure_ascii=False, default=str))
        payload = ("\n".join(parts) + "\n").encode("utf-8") if parts else b""
    else:
        payload = [(pos, {**row, **lab.fields}) for (pos, row, _), lab in zip(rows, labels, strict=True)]
    return _Done(payload, rejects, len(items), len(rows))


_WORKER: Labeler | None = None


def _worker_init(classifier: Classifier, cache_size: int) -> None:
    global _WORKER
    _WORKER = Labeler(classifier, cache_size)


def _worker_process(items: list[tuple[int, Any]], text_column: str, jsonl_out: bool) -> _Done:
    assert _WORKER is not None
    return _process(_WORKER, items, text_column, jsonl_out)


def _labeled_chunks(
    classifier: Classifier, chunks: Iterator[_Chunk], text_column: str, jsonl_out: bool, jobs: int, cache_size: int
) -> Iterator[tuple[_Chunk, _Done, int]]:
    """Each chunk with its result, in input order; with jobs > 1, a bounded window of chunks in flight."""
    if jobs <= 1:
        labeler = Labeler(classifier, cache_size)
        for chunk in chunks:
            yield chunk, _process(labeler, chunk.items, text_column, jsonl_out), labeler.distinct
        return
    import multiprocessing

    # Not fork: forking a process that may hold threads (BLAS, the caller's) can deadlock.
    # A fork server imports the heavy modules once and forks workers from that clean state.
    context: multiprocessing.context.BaseContext
    if "forkserver" in multiprocessing.get_all_start_methods():
        server = multiprocessing.get_context("forkserver")
        server.set_forkserver_preload(["replyqa.batch", "replyqa.model"])
        context = server
    else:
        context = multiprocessing.get_context("spawn")
    window: deque[tuple[_Chunk, Future[_Done]]] = deque()
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_worker_init, initargs=(classifier, cache_size)
    ) as pool:
        try:
            for chunk in chunks:
                window.append((chunk, pool.submit(_worker_process, chunk.items, text_column, jsonl_out)))
                if len(window) >= 2 * jobs:
                    done_chunk, future = window.popleft()
                    yield done_chunk, future.result(), 0
            while window:
                done_chunk, future = window.popleft()
                yield done_chunk, future.result(), 0
        finally:
            for _, future in window:
                future.cancel()


# --- writing -------------------------------------------------------------------------------------------------------


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


class _Sink:
    """Where labeled rows go; `commit` makes what is written durable and returns the position to resume at."""

    def __init__(self, fmt: str, fh: IO[bytes] | None, parts_dir: Path | None, columns: list[str] | None) -> None:
        self.fmt, self.fh, self.parts_dir = fmt, fh, parts_dir
        self.columns = columns
        self.schema: pa.Schema | None = None
        self.parts = 0
        self._writer: Any = None
        self._header_written = False

    def write(self, done: _Done) -> list[Reject]:
        """Write one chunk's rows; rows that do not fit the output's columns come back as rejects."""
        if isinstance(done.payload, bytes):
            assert self.fh is not None
            self.fh.write(done.payload)
            return []
        rows = done.payload
        if not rows:
            return []
        if self.fmt == "jsonl":
            assert self.fh is not None
            self.fh.write(
                "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for _, r in rows).encode("utf-8")
            )
            return []
        if self.columns is None:
            # JSON Lines in, CSV or Parquet out: the rows of the first chunk name the columns.
            self.columns = list(dict.fromkeys(k for _, row in rows for k in row))
        fitting, misfits = self._fit(rows)
        if self.fmt == "csv":
            self._write_csv(fitting)
        else:
            misfits += self._write_parquet(fitting)
        return sorted(misfits, key=lambda r: r.line)

    def _fit(self, rows: list[tuple[int, dict[str, Any]]]) -> tuple[list[tuple[int, dict[str, Any]]], list[Reject]]:
        assert self.columns is not None
        known = set(self.columns)
        fitting, misfits = [], []
        for pos, row in rows:
            extra = [k for k in row if k not in known]
            if extra:
                raw = _raw_of({k: v for k, v in row.items() if k not in LABEL_FIELDS})
                reason = f"field {extra[0]!r} is not a column of the {self.fmt} output (the first rows name them)"
                misfits.append(Reject(pos, reason, raw))
            else:
                fitting.append((pos, row))
        return fitting, misfits

    def _write_csv(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        assert self.fh is not None and self.columns is not None
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        if not self._header_written:
            writer.writerow(self.columns)
            self._header_written = True
        for _, row in rows:
            writer.writerow([_csv_cell(row.get(c)) for c in self.columns])
        self.fh.write(buf.getvalue().encode("utf-8"))

    def _write_parquet(self, rows: list[tuple[int, dict[str, Any]]]) -> list[Reject]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not rows:
            return []
        assert self.columns is not None
        if self.schema is None:
            inferred = pa.Table.from_pylist([r for _, r in rows]).schema
            self.schema = pa.schema(
                [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in inferred]
            )
        misfits: list[Reject] = []
        try:
            table = pa.Table.from_pylist([r for _, r in rows], schema=self.schema)
        except (pa.ArrowException, ValueError, TypeError, OverflowError):
            kept = []
            for pos, row in rows:
                try:
                    pa.Table.from_pylist([row], schema=self.schema)
                    kept.append(row)
                except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
                    misfits.append(
                        Reject(pos, f"does not fit the Parquet schema of the first rows: {exc}", _raw_of(row))
                    )
            table = pa.Table.from_pylist(kept, schema=self.schema)
        if self._writer is None:
            if self.parts_dir is not None:
                self.parts += 1
                self._writer = pq.ParquetWriter(self.parts_dir / f"part-{self.parts:06d}.parquet", self.schema)
            else:
                assert self.fh is not None
                self._writer = pq.ParquetWriter(self.fh, self.schema)
        self._writer.write_table(table)
        return misfits

    def abandon(self) -> None:
        """Close without finishing (the job gave up)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def commit(self) -> int:
        if self.fmt == "parquet":
            if self._writer is not None and self.parts_dir is not None:
                self._writer.close()
                self._writer = None
                _fsync_path(self.parts_dir / f"part-{self.parts:06d}.parquet")
            return self.parts
        assert self.fh is not None
        self.fh.flush()
        os.fsync(self.fh.fileno())
        return self.fh.tell()

    def finish(self) -> None:
        if self.fmt == "parquet" and self._writer is None and self.parts_dir is None and self.fh is not None:
            _write_empty_parquet(self.fh, self.schema)
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self.fmt == "csv" and self.columns is not None and not self._header_written:
            self._write_csv([])
        if self.fh is not None:
            self.fh.flush()


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _merge_parts(parts_dir: Path, n: int, target: Path) -> None:
    """Join committed Parquet parts into one file, row group by row group, atomically."""
    import pyarrow.parquet as pq

    paths = [parts_dir / f"part-{i:06d}.parquet" for i in range(1, n + 1)]
    with atomic_open(target, "wb", encoding=None) as out:
        writer = None
        for path in paths:
            part = pq.ParquetFile(path)
            if writer is None:
                writer = pq.ParquetWriter(out, part.schema_arrow)
            for i in range(part.num_row_groups):
                writer.write_table(part.read_row_group(i))
        if writer is not None:
            writer.close()


# --- the job -------------------------------------------------------------------------------------------------------


@dataclass
class _Paths:
    output: Path
    partial: Path
    checkpoint: Path
    rejects: Path
    rejects_partial: Path


def _paths(output_path: Path, rejects: Path | None, to_stdout: bool) -> _Paths:
    rejects_path = rejects or (
        Path("replyqa.rejects.jsonl") if to_stdout else output_path.with_name(output_path.name + ".rejects.jsonl")
    )
    return _Paths(
        output=output_path,
        partial=output_path.with_name(f".{output_path.name}.partial"),
        checkpoint=output_path.with_name(f".{output_path.name}.checkpoint.json"),
        rejects=rejects_path,
        rejects_partial=rejects_path.with_name(f".{rejects_path.name}.partial"),
    )


def _identity(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


@dataclass
class _State:
    """What a checkpoint records; enough to continue without repeating or losing a row."""

    input_offset: int = 0
    line: int = 0
    output_position: int = 0
    rejects_bytes: int = 0
    read: int = 0
    labeled: int = 0
    rejected: int = 0
    columns: list[str] | None = None
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _schema_to_text(schema: pa.Schema | None) -> str | None:
    if schema is None:
        return None
    import base64

    return base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")


def _schema_from_text(text: str | None) -> pa.Schema | None:
    if text is None:
        return None
    import base64

    import pyarrow as pa

    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


def _load_checkpoint(paths: _Paths, job: dict[str, Any]) -> _State | None:
    if not paths.checkpoint.is_file():
        log.warning("nothing to resume for %s; starting from the beginning", paths.output)
        return None
    try:
        saved = json.loads(paths.checkpoint.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"checkpoint {paths.checkpoint} is unreadable ({exc}); rerun without --resume") from exc
    if saved.get("version") != CHECKPOINT_VERSION or saved.get("job") != job:
        raise InvalidInputError(
            f"the interrupted job in {paths.checkpoint} used another input, format, text column or model;"
            " rerun without --resume to start over"
        )
    state = _State(**saved["state"])
    return state


def _save_checkpoint(paths: _Paths, job: dict[str, Any], state: _State) -> None:
    body = {"version": CHECKPOINT_VERSION, "job": job, "state": state.__dict__}
    atomic_write_text(paths.checkpoint, json.dumps(body, ensure_ascii=False))


def label_file(
    classifier: Classifier,
    input_path: Path | str,
    output_path: Path | str,
    *,
    input_format: str | None = None,
    output_format: str | None = None,
    text_column: str = "text",
    rejects: Path | str | None = None,
    chunk_size: int = 2048,
    jobs: int = 1,
    resume: bool = False,
    max_rejects: int | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
    cache_size: int = CACHE_SIZE,
) -> BatchStats:
    """Label every row of a JSONL, CSV or Parquet file ('-' is stdin/stdout); bad rows go to a rejects file.

    Rows keep all their columns and their order. More than `max_rejects` rejected rows
    stops the job with a DataError (the rejects so far are written). With `resume=True`
    an interrupted job continues from its last checkpoint.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    if chunk_size < 1:
        raise InvalidInputError("chunk size must be at least 1")
    in_fmt = detect_format(input_path, input_format)
    out_fmt = detect_format(output_path, output_format, default=in_fmt)
    from_stdin, to_stdout = str(input_path) == "-", str(output_path) == "-"
    if resume and (from_stdin or to_stdout):
        raise InvalidInputError("--resume needs a named input and output file, not '-' (stdin/stdout)")
    if not from_stdin and not to_stdout and input_path.resolve() == output_path.resolve():
        raise InvalidInputError("the output would overwrite the input; choose another output file")
    paths = _paths(output_path, Path(rejects) if rejects is not None else None, to_stdout)
    job: dict[str, Any] = {
        "input": None if from_stdin else _identity(input_path),
        "input_format": in_fmt,
        "output_format": out_fmt,
        "text_column": text_column,
        "model": classifier.version,
    }
    state = _load_checkpoint(paths, job) if resume else None
    start = time.perf_counter()
    stats = BatchStats(rejects_path=None, output_path=None if to_stdout else output_path)
    if state is None:
        state = _State()
        _discard_partial(paths)
    else:
        stats.resumed_at = state.read
        log.info("resuming %s after row %d (line %d)", output_path, state.read, state.line)
    stats.read, stats.labeled, stats.rejected = state.read, state.labeled, state.rejected

    csv_header = state.extra.get("csv_header") if state.input_offset else None
    source = _open_source(in_fmt, input_path, text_column, stdin, csv_header)
    columns = state.columns
    if columns is None and source.columns is not None:
        columns = [*source.columns, *(f for f in LABEL_FIELDS if f not in source.columns)]
        if in_fmt == "csv":
            state.extra["csv_header"] = source.columns
    sink_fh: IO[bytes] | None = None
    parts_dir: Path | None = None
    try:
        if to_stdout:
            sink_fh = stdout if stdout is not None else sys.stdout.buffer
        elif out_fmt == "parquet":
            parts_dir = paths.partial
            parts_dir.mkdir(parents=True, exist_ok=True)
            for stale in parts_dir.glob("part-*.parquet"):
                if int(stale.stem.split("-")[1]) > state.output_position:
                    stale.unlink()
        else:
            paths.partial.parent.mkdir(parents=True, exist_ok=True)
            sink_fh = paths.partial.open("r+b" if state.output_position else "wb")
            sink_fh.truncate(state.output_position)
            sink_fh.seek(state.output_position)
        sink = _Sink(out_fmt, sink_fh, parts_dir, columns if out_fmt != "jsonl" else None)
        sink.parts = state.output_position if out_fmt == "parquet" else 0
        sink._header_written = state.output_position > 0
        sink.schema = _schema_from_text(state.schema)
        if sink.schema is None and out_fmt == "parquet" and source.schema is not None:
            import pyarrow as pa

            label_types = {"quality": pa.string(), "category": pa.string()}
            fields = [f for f in source.schema if f.name not in LABEL_FIELDS]
            fields += [pa.field(n, label_types.get(n, pa.float64())) for n in LABEL_FIELDS]
            sink.schema = pa.schema(fields)
            sink.columns = list(sink.schema.names)
        elif sink.schema is None and out_fmt == "parquet" and in_fmt == "csv" and columns is not None:
            import pyarrow as pa

            sink.schema = pa.schema(
                [pa.field(c, pa.float64() if c in ("p_substantive", "confidence") else pa.string()) for c in columns]
            )
        paths.rejects_partial.parent.mkdir(parents=True, exist_ok=True)
        rejects_fh = paths.rejects_partial.open("r+b" if state.rejects_bytes else "wb")
        rejects_fh.truncate(state.rejects_bytes)
        rejects_fh.seek(state.rejects_bytes)
        try:
            last_commit = time.perf_counter()
            gave_up = False
            chunks = source.chunks(chunk_size, state.input_offset, state.line)
            jsonl_out = out_fmt == "jsonl"
            for chunk, done, distinct in _labeled_chunks(classifier, chunks, text_column, jsonl_out, jobs, cache_size):
                misfits = sink.write(done)
                chunk_rejects = sorted([*done.rejects, *misfits], key=lambda r: r.line) if misfits else done.rejects
                if chunk_rejects:
                    rejects_fh.write("".join(r.to_json() + "\n" for r in chunk_rejects).encode("utf-8"))
                stats.read += done.read
                stats.labeled += done.labeled - len(misfits)
                stats.rejected += len(chunk_rejects)
                stats.distinct = distinct or stats.distinct
                state.input_offset, state.line = chunk.end_offset, chunk.next_line
                if max_rejects is not None and stats.rejected > max_rejects:
                    gave_up = True
                    break
                now = time.perf_counter()
                if not to_stdout and now - last_commit >= COMMIT_EVERY:
                    _commit(paths, job, state, stats, sink, rejects_fh)
                    last_commit = now
                if progress is not None:
                    stats.elapsed = now - start
                    progress(
                        BatchProgress(
                            stats.read, stats.labeled, stats.rejected, state.input_offset, source.total, stats.elapsed
                        )
                    )
            if not gave_up:
                sink.finish()
                if to_stdout:
                    assert sink_fh is not None
                    sink_fh.flush()
                else:
                    sink.commit()
        finally:
            if not rejects_fh.closed:
                rejects_fh.flush()
                rejects_fh.close()
    finally:
        source.close()
        if sink_fh is not None and not to_stdout:
            sink_fh.close()
    if gave_up:
        sink.abandon()
        os.replace(paths.rejects_partial, paths.rejects)
        stats.rejects_path = paths.rejects
        _discard_partial(paths)
        raise DataError(
            f"gave up after {stats.rejected} rejected rows (more than --max-rejects {max_rejects});"
            f" see {paths.rejects} for the reasons"
        )
    if not to_stdout:
        if out_fmt == "parquet":
            assert parts_dir is not None
            if sink.parts == 0:
                _write_empty_parquet(output_path, sink.schema)
            else:
                _merge_parts(parts_dir, sink.parts, output_path)
            shutil.rmtree(parts_dir, ignore_errors=True)
        else:
            _fsync_path(paths.partial)
            os.replace(paths.partial, output_path)
    if stats.rejected:
        os.replace(paths.rejects_partial, paths.rejects)
        stats.rejects_path = paths.rejects
    else:
        paths.rejects_partial.unlink(missing_ok=True)
    paths.checkpoint.unlink(missing_ok=True)
    stats.elapsed = time.perf_counter() - start
    return stats


def _write_empty_parquet(target: Path | IO[bytes], schema: pa.Schema | None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = schema or pa.schema([pa.field(n, pa.string()) for n in LABEL_FIELDS])
    if isinstance(target, Path):
        with atomic_open(target, "wb", encoding=None) as fh:
            pq.write_table(schema.empty_table(), fh)
    else:
        pq.write_table(schema.empty_table(), target)


def _commit(
    paths: _Paths, job: dict[str, Any], state: _State, stats: BatchStats, sink: _Sink, rejects: IO[bytes]
) -> None:
    state.output_position = sink.commit()
    rejects.flush()
    os.fsync(rejects.fileno())
    state.rejects_bytes = rejects.tell()
    state.read, state.labeled, state.rejected = stats.read, stats.labeled, stats.rejected
    state.columns = sink.columns if sink.fmt != "jsonl" else None
    state.schema = _schema_to_text(sink.schema)
    _save_checkpoint(paths, job, state)


def _discard_partial(paths: _Paths) -> None:
    paths.checkpoint.unlink(missing_ok=True)
    if paths.partial.is_dir():
        shutil.rmtree(paths.partial, ignore_errors=True)
    else:
        paths.partial.unlink(missing_ok=True)
    paths.rejects_partial.unlink(missing_ok=True)


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
    return label_file(
        classifier,
        input_path,
        output_path,
        input_format="jsonl",
        output_format="jsonl",
        rejects=rejects,
        text_column=text_field,
        chunk_size=chunk_size,
    )


# --- scoring transcripts -------------------------------------------------------------------------------------------


def score_file(
    classifier: Classifier,
    policy: Policy,
    input_path: Path | str,
    output_path: Path | str,
    *,
    rejects: Path | str | None = None,
    as_of: datetime | None = None,
    chunk_size: int = 500,
    progress: Callable[[BatchProgress], None] | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
) -> BatchStats:
    """Score every transcript of a JSONL file: agent messages labeled, times and SLA verdicts.

    The measures are those of `replyqa.transcripts.score_transcripts`, the same code the
    API runs. A line that is not a valid transcript goes to the rejects file with its reason.
    """
    from .transcripts import score_transcripts, transcript_from_dict

    input_path, output_path = Path(input_path), Path(output_path)
    to_stdout = str(output_path) == "-"
    paths = _paths(output_path, Path(rejects) if rejects is not None else None, to_stdout)
    stats = BatchStats(output_path=None if to_stdout else output_path)
    start = time.perf_counter()
    source = _open_source("jsonl", input_path, "text", stdin, None)
    reject_lines: list[str] = []
    out_ctx: Any = nullcontext(stdout or sys.stdout) if to_stdout else atomic_open(output_path)
    try:
        with out_ctx as out:
            for chunk in source.chunks(chunk_size, 0, 0):
                good = []
                for line, raw_bytes in chunk.items:
                    stats.read += 1
                    raw = raw_bytes.decode("utf-8", errors="replace").rstrip()
                    try:
                        transcript = transcript_from_dict(json.loads(raw), f"line {line}")
                        policy.severity(transcript.severity)
                    except json.JSONDecodeError as exc:
                        reject_lines.append(Reject(line, f"bad JSON: {exc.msg} at column {exc.colno}", raw).to_json())
                        continue
                    except (InvalidInputError, PolicyError) as exc:
                        reject_lines.append(Reject(line, str(exc), raw).to_json())
                        continue
                    good.append(transcript)
                scores = score_transcripts(good, classifier, policy, as_of=as_of)
                for transcript, score in zip(good, scores, strict=True):
                    row = score.to_dict()
                    row["created_at"] = transcript.created_at.isoformat() if transcript.created_at else None
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                stats.labeled += len(good)
                if progress is not None:
                    stats.elapsed = time.perf_counter() - start
                    progress(
                        BatchProgress(
                            stats.read, stats.labeled, len(reject_lines), chunk.end_offset, source.total, stats.elapsed
                        )
                    )
    finally:
        source.close()
    stats.rejected = len(reject_lines)
    if reject_lines:
        with atomic_open(paths.rejects) as fh:
            fh.write("\n".join(reject_lines) + "\n")
        stats.rejects_path = paths.rejects
    stats.elapsed = time.perf_counter() - start
    return stats
