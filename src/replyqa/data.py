"""Labeled samples: reading, validating, checking for duplicates, splitting by group."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import unicodedata
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from .atomic import atomic_open, file_lock
from .errors import DataError
from .labels import CATEGORIES, LANGS, QUALITIES, quality_of

DOMAINS = ("rtc", "cloud", "payments", "push", "maps", "auth", "database", "mobile", "im", "other")
TRAIN_FILE = "train.jsonl"
TEST_FILE = "test.jsonl"
FEEDBACK_DIR = "feedback"
FEEDBACK_LOCK = ".lock"
# Share of feedback groups held aside for evaluation (never trained on).
HOLDOUT_FRACTION = 0.2

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Example:
    """One labeled vendor reply (a record of `data/labeled/*.jsonl`)."""

    id: str
    text: str
    category: str
    lang: str
    domain: str = "other"
    group: str = ""
    context: str | None = None

    @property
    def quality(self) -> str:
        """The binary label implied by the category."""
        return quality_of(self.category)

    def to_record(self) -> dict[str, object]:
        """The JSON record of this example, `quality` included."""
        record = asdict(self)
        record["quality"] = self.quality
        if self.context is None:
            del record["context"]
        return record


@dataclass(frozen=True)
class Issue:
    """A problem found in labeled data, with where it is."""

    path: str
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass
class CheckReport:
    """What `check` found: examples read, problems, duplicate pairs, balance."""

    examples: list[Example] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    exact_duplicates: list[tuple[str, str]] = field(default_factory=list)
    near_duplicates: list[tuple[str, str, float]] = field(default_factory=list)
    contrast_pairs: list[tuple[str, str, float]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error and no duplicate pair."""
        errors = [i for i in self.issues if i.severity == "error"]
        return not errors and not self.exact_duplicates and not self.near_duplicates


def example_from_record(record: object, *, where: str = "record") -> Example:
    """Validate one JSON record against LABELING.md and return it as an Example."""
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: 'text' must be a non-empty string")
    category = record.get("category")
    if category not in CATEGORIES:
        raise DataError(f"{where}: unknown category {category!r}; expected one of {', '.join(CATEGORIES)}")
    quality = record.get("quality")
    if quality is not None and quality != quality_of(category):
        raise DataError(
            f"{where}: quality {quality!r} contradicts category {category!r} (which is {quality_of(category)})"
        )
    if quality is not None and quality not in QUALITIES:
        raise DataError(f"{where}: unknown quality {quality!r}")
    lang = record.get("lang", "en")
    if lang not in LANGS:
        raise DataError(f"{where}: unknown lang {lang!r}; expected one of {', '.join(LANGS)}")
    domain = record.get("domain", "other")
    if not isinstance(domain, str) or domain not in DOMAINS:
        raise DataError(f"{where}: unknown domain {domain!r}; expected one of {', '.join(DOMAINS)}")
    context = record.get("context")
    if context is not None and not isinstance(context, str):
        raise DataError(f"{where}: 'context' must be a string when present")
    rid = record.get("id")
    if rid is None:
        rid = "sha-" + hashlib.sha256(text.encode()).hexdigest()[:12]
    if not isinstance(rid, str) or not rid:
        raise DataError(f"{where}: 'id' must be a non-empty string")
    group = record.get("group") or rid
    if not isinstance(group, str):
        raise DataError(f"{where}: 'group' must be a string")
    return Example(id=rid, text=text, category=category, lang=lang, domain=domain, group=group, context=context)


def iter_records(path: Path) -> Iterator[tuple[int, object | DataError]]:
    """Yield (line number, parsed JSON or a DataError) for each non-blank line of a JSONL file."""
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as exc:
                yield lineno, DataError(f"{path}:{lineno}: bad JSON: {exc.msg} at column {exc.colno}")


def jsonl_files(path: Path) -> list[Path]:
    """The JSONL files at a path: the file itself, or every *.jsonl below a folder."""
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*.jsonl") if "drafts" not in p.parts)
    raise DataError(f"{path}: no such file or folder")


def read_examples(path: Path | str) -> list[Example]:
    """Read labeled examples from a JSONL file or folder; the first bad record raises DataError."""
    examples: list[Example] = []
    for file in jsonl_files(Path(path)):
        for lineno, record in iter_records(file):
            if isinstance(record, DataError):
                raise record
            examples.append(example_from_record(record, where=f"{file}:{lineno}"))
    return examples


def write_examples(path: Path, examples: Iterable[Example]) -> None:
    """Write examples as JSONL, atomically (temporary file, then rename)."""
    with atomic_open(path) as fh:
        for ex in examples:
            fh.write(json.dumps(ex.to_record(), ensure_ascii=False) + "\n")


def fingerprint(examples: Sequence[Example]) -> str:
    """SHA-256 over the examples' ids, texts and labels, independent of file layout."""
    digest = hashlib.sha256()
    for ex in sorted(examples, key=lambda e: e.id):
        digest.update(json.dumps([ex.id, ex.text, ex.category, ex.lang], ensure_ascii=False).encode())
    return digest.hexdigest()


def load_split(data_dir: Path | str, *, with_feedback: bool = True) -> tuple[list[Example], list[Example]]:
    """The fixed (train, test) split of a labeled-data folder; feedback joins training, minus its held-aside slice."""
    data_dir = Path(data_dir)
    train_path, test_path = data_dir / TRAIN_FILE, data_dir / TEST_FILE
    for p in (train_path, test_path):
        if not p.is_file():
            raise DataError(f"{p} is missing; the labeled corpus needs {TRAIN_FILE} and {TEST_FILE}")
    train = read_examples(train_path)
    if with_feedback:
        train += [e for e in read_feedback(data_dir) if not in_holdout(e)]
    return train, read_examples(test_path)


def in_holdout(example: Example, fraction: float = HOLDOUT_FRACTION) -> bool:
    """True for feedback held aside for evaluation: a stable hash of the group, so variants stay together."""
    digest = hashlib.sha256(f"holdout:{example.group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < fraction * 2**64


def load_feedback_holdout(data_dir: Path | str) -> list[Example]:
    """The held-aside slice of feedback: evaluated on by the quality gate, never trained on."""
    return [e for e in read_feedback(data_dir) if in_holdout(e)]


def read_feedback(data_dir: Path | str) -> list[Example]:
    """Every sample under `data_dir/feedback/`, read under a shared lock so no append is seen half-written."""
    folder = Path(data_dir) / FEEDBACK_DIR
    if not folder.is_dir():
        return []
    try:
        with file_lock(folder / FEEDBACK_LOCK, shared=True):
            return _read_feedback_files(folder)
    except OSError:  # a read-only checkout: no writer can be appending either
        return _read_feedback_files(folder)


def _read_feedback_files(folder: Path) -> list[Example]:
    examples: list[Example] = []
    for file in jsonl_files(folder):
        lines = file.read_text(encoding="utf-8").split("\n")
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                if lineno == len(lines):
                    # A last line without its newline is an append that crashed midway: it was never
                    # reported as accepted, and the next append cuts it off.
                    log.warning("%s:%d: ignoring an incomplete last line (an interrupted append)", file, lineno)
                    break
                raise DataError(f"{file}:{lineno}: bad JSON: {exc.msg} at column {exc.colno}") from exc
            examples.append(example_from_record(record, where=f"{file}:{lineno}"))
    return examples


# --- duplicates -------------------------------------------------------------

_SPACE = re.compile(r"\s+")


def dedup_key(text: str) -> str:
    """The text as compared for duplicates: NFKC, lower case, white space folded."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def shingles(text: str, k: int = 5) -> set[str]:
    """Character k-shingles of the dedup key (the whole text if shorter than k)."""
    key = dedup_key(text)
    if len(key) <= k:
        return {key}
    return {key[i : i + k] for i in range(len(key) - k + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """Jaccard similarity of two sets."""
    return len(a & b) / len(a | b) if a or b else 1.0


def near_duplicate_pairs(
    texts: Sequence[str], *, threshold: float = 0.8, k: int = 5, seed: int = 0
) -> list[tuple[int, int, float]]:
    """Pairs (i, j, similarity) of texts whose k-shingle Jaccard is at least `threshold`.

    MinHash with banded LSH finds candidates; each candidate is then scored exactly.
    """
    n_hash, bands = 128, 32
    rows = n_hash // bands
    rng = np.random.default_rng(seed)
    prime = (1 << 61) - 1
    a = rng.integers(1, prime, size=n_hash, dtype=np.uint64)
    b = rng.integers(0, prime, size=n_hash, dtype=np.uint64)
    sets = [shingles(t, k) for t in texts]
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    for idx, s in enumerate(sets):
        hashes = np.array(
            [zlib.crc32(x.encode()) for x in s],
            dtype=np.uint64,
        )
        sig = ((hashes[:, None] * a[None, :] + b[None, :]) % np.uint64(prime)).min(axis=0)
        for band in range(bands):
            buckets[(band, sig[band * rows : (band + 1) * rows].tobytes())].append(idx)
    candidates: set[tuple[int, int]] = set()
    for members in buckets.values():
        if 1 < len(members) <= 200:
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    candidates.add((members[x], members[y]))
    pairs = []
    for i, j in sorted(candidates):
        sim = jaccard(sets[i], sets[j])
        if sim >= threshold:
            pairs.append((i, j, sim))
    return pairs


_VERSION3 = re.compile(r"(?<![\w.])v?(\d+\.\d+\.\d+)(?!\w|\.\d)")


def overlap_pairs(
    texts: Sequence[str],
    reference: Sequence[str],
    *,
    threshold: float = 0.4,
    version_threshold: float = 0.15,
) -> list[tuple[int, int, float, str]]:
    """Texts that look derived from a reference text: (i, j, similarity, reason) pairs.

    Guards the corpus against the evaluation set: a training reply that paraphrases a
    devset reply makes the devset measure memory, not generalisation. Similarity is the
    cosine of character 2–4-gram TF-IDF vectors of the dedup keys (robust to reordering and
    small edits, in both scripts; the idf is fitted on both sets, so removing flagged texts
    can move others across the line: re-run until it reports none). A text is flagged when it is at least `threshold` similar to a
    reference text, or when it reuses one of that text's x.y.z version numbers and is at
    least `version_threshold` similar (a copied version is the mark of a copied reply).
    """
    if not texts or not reference:
        return []
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, lowercase=False)
    x = vec.fit_transform([dedup_key(t) for t in [*texts, *reference]])
    sims = (x[: len(texts)] @ x[len(texts) :].T).toarray()
    ref_versions = [set(_VERSION3.findall(t)) for t in reference]
    pairs = []
    for i, text in enumerate(texts):
        versions = set(_VERSION3.findall(text))
        best_j = int(sims[i].argmax())
        if sims[i, best_j] >= threshold:
            pairs.append((i, best_j, float(sims[i, best_j]), "similar text"))
            continue
        shared = [(float(sims[i, j]), j) for j, rv in enumerate(ref_versions) if versions & rv]
        if shared:
            sim, j = max(shared)
            if sim >= version_threshold:
                pairs.append((i, j, sim, f"reuses version {', '.join(sorted(versions & ref_versions[j]))}"))
    return pairs


def check(path: Path | str, *, threshold: float = 0.8) -> CheckReport:
    """Validate every record under a path and find exact and near-duplicate texts."""
    report = CheckReport()
    seen_ids: dict[str, str] = {}
    where: list[str] = []
    for file in jsonl_files(Path(path)):
        for lineno, record in iter_records(file):
            if isinstance(record, DataError):
                report.issues.append(Issue(str(file), lineno, str(record).removeprefix(f"{file}:{lineno}: ")))
                continue
            try:
                ex = example_from_record(record, where="")
            except DataError as exc:
                report.issues.append(Issue(str(file), lineno, str(exc).lstrip(": ")))
                continue
            if not (isinstance(record, dict) and "id" in record):
                report.issues.append(Issue(str(file), lineno, "record has no 'id'", "warning"))
            if ex.id in seen_ids:
                report.issues.append(Issue(str(file), lineno, f"duplicate id {ex.id!r} (first at {seen_ids[ex.id]})"))
            seen_ids.setdefault(ex.id, f"{file}:{lineno}")
            report.examples.append(ex)
            where.append(f"{file}:{lineno}")
    by_key: dict[str, int] = {}
    for idx, ex in enumerate(report.examples):
        key = dedup_key(ex.text)
        if key in by_key:
            report.exact_duplicates.append((where[by_key[key]], where[idx]))
        else:
            by_key[key] = idx
    exact = {(by_key[dedup_key(report.examples[i].text)], i) for i in range(len(report.examples))}
    for i, j, sim in near_duplicate_pairs([e.text for e in report.examples], threshold=threshold):
        a, b = report.examples[i], report.examples[j]
        if (i, j) in exact or dedup_key(a.text) == dedup_key(b.text):
            continue
        # A minimal pair written on purpose (same group, different label) teaches the rule
        # that separates the labels; anything else this close is a duplicate.
        if a.group == b.group and a.category != b.category:
            report.contrast_pairs.append((where[i], where[j], sim))
        else:
            report.near_duplicates.append((where[i], where[j], sim))
    return report


def balance(examples: Sequence[Example], by: tuple[str, str] = ("category", "lang")) -> dict[str, Counter[str]]:
    """Counts of examples by one field (rows) and another (columns)."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for ex in examples:
        table[str(getattr(ex, by[0]))][str(getattr(ex, by[1]))] += 1
    return dict(table)


def format_balance(examples: Sequence[Example], by: tuple[str, str] = ("category", "lang")) -> str:
    """The balance table as aligned text, with totals."""
    table = balance(examples, by)
    cols = sorted({c for row in table.values() for c in row})
    width = max([len(r) for r in table] + [len(by[0]), 5]) + 2
    lines = [f"{by[0]:<{width}}" + "".join(f"{c:>8}" for c in cols) + f"{'total':>8}"]
    for row in sorted(table):
        counts = table[row]
        lines.append(f"{row:<{width}}" + "".join(f"{counts[c]:>8}" for c in cols) + f"{sum(counts.values()):>8}")
    totals = Counter[str]()
    for counts in table.values():
        totals.update(counts)
    lines.append(f"{'total':<{width}}" + "".join(f"{totals[c]:>8}" for c in cols) + f"{sum(totals.values()):>8}")
    return "\n".join(lines)


def split_by_group(
    examples: Sequence[Example], *, test_fraction: float = 0.22, seed: int = 13
) -> tuple[list[Example], list[Example]]:
    """Split into (train, test) by group, stratified by each group's (category, lang) mix."""
    groups: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        groups[ex.group].append(ex)
    names = sorted(groups)
    random.Random(seed).shuffle(names)
    target = Counter((e.category, e.lang) for e in examples)
    taken: Counter[tuple[str, str]] = Counter()
    test_groups: set[str] = set()
    for name in names:
        members = groups[name]
        need = sum(
            max(0.0, test_fraction * target[(e.category, e.lang)] - taken[(e.category, e.lang)]) for e in members
        )
        # Take the group while it fills strata still short of their share.
        if need >= 0.5 * len(members):
            test_groups.add(name)
            taken.update((e.category, e.lang) for e in members)
    train = [e for e in examples if e.group not in test_groups]
    test = [e for e in examples if e.group in test_groups]
    return train, test
