"""Agreement between two label sets (two reviewers, or a model and a reviewer).

Cohen's kappa corrects raw agreement for what two labelers would agree on by chance given
how often each uses each label. Agreement between careful reviewers is also the ceiling a
model trained on their labels can be expected to reach.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data import dedup_key
from .errors import DataError
from .feedback import Rejected, iter_samples
from .labels import CATEGORIES, QUALITIES, quality_of


@dataclass(frozen=True)
class Label:
    """One labeled reply of one label set."""

    key: str
    text: str
    quality: str
    category: str | None
    position: int


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two equally long label sequences (1 = perfect, 0 = chance level)."""
    if len(a) != len(b):
        raise DataError(f"kappa needs two label lists of the same length, got {len(a)} and {len(b)}")
    n = len(a)
    if n == 0:
        return 0.0
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if expected >= 1.0:  # both used a single, identical label throughout
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1.0 - expected)


def read_labels(path: Path | str, *, by: str = "auto") -> tuple[dict[str, Label], list[Rejected]]:
    """Labels of a JSON Lines or CSV file keyed by id (or by text), and the records that were skipped."""
    labels: dict[str, Label] = {}
    skipped: list[Rejected] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    for position, record in iter_samples(path):
        if isinstance(record, DataError):
            skipped.append(Rejected(position, str(record)))
        elif not isinstance(record, dict):
            skipped.append(Rejected(position, "not a JSON object"))
        else:
            rows.append((position, record))
    use_id = by == "id" or (by == "auto" and bool(rows) and all(r.get("id") not in (None, "") for _, r in rows))
    for position, record in rows:
        text = record.get("text")
        category = record.get("category") or None
        quality = record.get("quality") or None
        if not isinstance(text, str) or not text.strip():
            skipped.append(Rejected(position, "no text"))
            continue
        if category is not None and category not in CATEGORIES:
            skipped.append(Rejected(position, f"unknown category {category!r}"))
            continue
        if quality is not None and quality not in QUALITIES:
            skipped.append(Rejected(position, f"unknown quality {quality!r}"))
            continue
        if category is None and quality is None:
            skipped.append(Rejected(position, "no label (category or quality is blank)"))
            continue
        if category is not None and quality is not None and quality != quality_of(category):
            skipped.append(Rejected(position, f"quality {quality!r} contradicts category {category!r}"))
            continue
        if use_id and record.get("id") in (None, ""):
            skipped.append(Rejected(position, "no id (matching by id)"))
            continue
        key = f"id:{record['id']}" if use_id else f"text:{dedup_key(text)}"
        if key in labels:
            skipped.append(Rejected(position, f"labeled twice (first at line {labels[key].position})"))
            continue
        labels[key] = Label(key, text, quality or quality_of(str(category)), category, position)
    return labels, skipped


@dataclass
class Agreement:
    """How two label sets agree, overall and per category, and where they differ."""

    n: int
    only_a: int
    only_b: int
    binary_observed: float
    binary_kappa: float
    n_category: int
    category_observed: float
    category_kappa: float
    per_category: dict[str, dict[str, float]]
    confusion: dict[str, dict[str, int]]
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    skipped_a: list[Rejected] = field(default_factory=list)
    skipped_b: list[Rejected] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The agreement as a JSON-ready dict."""
        out = {k: v for k, v in self.__dict__.items() if k not in ("skipped_a", "skipped_b")}
        out["skipped_a"] = [r.to_dict() for r in self.skipped_a]
        out["skipped_b"] = [r.to_dict() for r in self.skipped_b]
        return out

    def text(self, max_disagreements: int = 50) -> str:
        """A readable report."""
        lines = [
            f"matched {self.n} replies ({self.only_a} only in A, {self.only_b} only in B; "
            f"skipped {len(self.skipped_a)} in A, {len(self.skipped_b)} in B)",
            f"quality (binary):  agreement {self.binary_observed:.3f}  Cohen's kappa {self.binary_kappa:.3f}",
            f"category (8-way):  agreement {self.category_observed:.3f}  Cohen's kappa {self.category_kappa:.3f}"
            f"  (n={self.n_category})",
            "per category:           in A   in B   both  agreement  kappa",
        ]
        for c, m in self.per_category.items():
            lines.append(
                f"  {c:20}{int(m['a']):>5}{int(m['b']):>7}{int(m['both']):>7}{m['agreement']:>11.3f}{m['kappa']:>7.3f}"
            )
        if self.disagreements:
            shown = self.disagreements[:max_disagreements]
            lines.append(f"disagreements ({len(self.disagreements)}, showing {len(shown)}):")
            for d in shown:
                text = " ".join(d["text"].split())
                text = text if len(text) <= 90 else text[:89] + "…"
                lines.append(f"  A:{d['a']:<16} B:{d['b']:<16} {d['where']:<14} {text}")
        return "\n".join(lines)


def compare_labels(
    a: Mapping[str, Label],
    b: Mapping[str, Label],
    skipped_a: Sequence[Rejected] = (),
    skipped_b: Sequence[Rejected] = (),
) -> Agreement:
    """Agreement of two label sets on the replies they share."""
    keys = [k for k in a if k in b]
    if not keys:
        raise DataError("the two label sets share no reply (matched by id when every record has one, else by text)")
    qa = [a[k].quality for k in keys]
    qb = [b[k].quality for k in keys]
    both = [k for k in keys if a[k].category is not None and b[k].category is not None]
    ca = [str(a[k].category) for k in both]
    cb = [str(b[k].category) for k in both]
    per_category: dict[str, dict[str, float]] = {}
    for c in CATEGORIES:
        in_a, in_b = ca.count(c), cb.count(c)
        agree = sum(x == y == c for x, y in zip(ca, cb, strict=True))
        per_category[c] = {
            "a": in_a,
            "b": in_b,
            "both": agree,
            # Specific (positive) agreement: how often one labeler's `c` is also the other's.
            "agreement": 2 * agree / (in_a + in_b) if in_a + in_b else 1.0,
            "kappa": cohen_kappa([x == c for x in ca], [y == c for y in cb]) if both else 0.0,
        }
    confusion = {c: {d: 0 for d in CATEGORIES} for c in CATEGORIES}
    for x, y in zip(ca, cb, strict=True):
        confusion[x][y] += 1
    disagreements = []
    for k in keys:
        la, lb = a[k], b[k]
        label_a = la.category or la.quality
        label_b = lb.category or lb.quality
        if la.quality != lb.quality or (la.category and lb.category and la.category != lb.category):
            disagreements.append(
                {
                    "key": k,
                    "where": f"A:{la.position} B:{lb.position}",
                    "a": label_a,
                    "b": label_b,
                    "quality_differs": la.quality != lb.quality,
                    "text": la.text,
                }
            )
    # Quality disagreements first: they matter most.
    disagreements.sort(key=lambda d: not d["quality_differs"])
    return Agreement(
        n=len(keys),
        only_a=sum(k not in b for k in a),
        only_b=sum(k not in a for k in b),
        binary_observed=sum(x == y for x, y in zip(qa, qb, strict=True)) / len(keys),
        binary_kappa=cohen_kappa(qa, qb),
        n_category=len(both),
        category_observed=sum(x == y for x, y in zip(ca, cb, strict=True)) / len(both) if both else 0.0,
        category_kappa=cohen_kappa(ca, cb),
        per_category=per_category,
        confusion=confusion,
        disagreements=disagreements,
        skipped_a=list(skipped_a),
        skipped_b=list(skipped_b),
    )


def agreement(path_a: Path | str, path_b: Path | str, *, by: str = "auto") -> Agreement:
    """Agreement of two label files (JSON Lines or CSV with text and category and/or quality)."""
    if by not in ("auto", "id", "text"):
        raise DataError(f"match by 'auto', 'id' or 'text', not {by!r}")
    if by == "auto":
        # Ids only when both files have them on every record; otherwise the texts must match.
        a_id, _ = read_labels(path_a, by="auto")
        b_id, _ = read_labels(path_b, by="auto")
        ids = all(k.startswith("id:") for k in a_id) and all(k.startswith("id:") for k in b_id)
        by = "id" if ids and a_id and b_id else "text"
    a, skipped_a = read_labels(path_a, by=by)
    b, skipped_b = read_labels(path_b, by=by)
    return compare_labels(a, b, skipped_a, skipped_b)
