"""Active learning: the unlabeled replies whose labels would teach the model most, without near-copies.

Uncertainty is half the closeness of p_substantive to 0.5 (the decision that matters most)
and half the entropy over the eight categories. Picking only the most uncertain replies
returns clusters of near-identical ones, so the choice is greedy maximal marginal
relevance on TF-IDF vectors: each pick maximises uncertainty minus its cosine similarity
to what is already picked, and replies too close to a pick are never taken.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from .data import DOMAINS, dedup_key
from .errors import DataError, InvalidInputError
from .feedback import Rejected
from .labels import CATEGORIES, LANGS, SUBSTANTIVE_CATEGORIES
from .model import Classifier, Prediction, entropy, predictions_from_proba
from .text import Analyzer, detect_lang, normalise

_SUB = np.array([c in SUBSTANTIVE_CATEGORIES for c in CATEGORIES])


def uncertainty(proba: np.ndarray) -> np.ndarray:
    """Per row in [0, 1]: half binary uncertainty (1 at p_substantive 0.5), half normalised category entropy."""
    p_sub = proba[:, _SUB].sum(axis=1)
    binary = 1.0 - np.abs(2.0 * p_sub - 1.0)
    return np.asarray(0.5 * binary + 0.5 * entropy(proba))


def select_diverse(
    scores: np.ndarray, vectors: sp.csr_matrix, n: int, *, diversity: float = 0.5, max_similarity: float = 0.8
) -> list[int]:
    """Greedy maximal marginal relevance: indices maximising (1-d)*score - d*similarity to the picks so far.

    Rows are L2-normalised vectors; a row whose cosine similarity to any pick reaches
    `max_similarity` is a near-copy and is never picked.
    """
    if not 0.0 <= diversity <= 1.0:
        raise InvalidInputError(f"diversity must be between 0 and 1, got {diversity}")
    size = len(scores)
    chosen: list[int] = []
    closest = np.zeros(size)
    open_ = np.ones(size, dtype=bool)
    for _ in range(min(n, size)):
        objective = (1.0 - diversity) * scores - diversity * closest
        objective[~open_ | (closest >= max_similarity)] = -np.inf
        best = int(np.argmax(objective))
        if not np.isfinite(objective[best]):
            break
        chosen.append(best)
        open_[best] = False
        sims = np.asarray((vectors @ vectors[best].T).todense()).ravel()
        closest = np.maximum(closest, sims)
    return chosen


@dataclass(frozen=True)
class Suggestion:
    """A reply worth labeling, with the model's guess and how unsure it is."""

    position: int
    record: dict[str, Any]
    text: str
    prediction: Prediction
    uncertainty: float

    def to_record(self, *, prefill: bool = False) -> dict[str, Any]:
        """The reply in the labeling format, flagged `needs_review` (category blank unless prefilled)."""
        rec = self.record
        lang = rec.get("lang") if rec.get("lang") in LANGS else detect_lang(self.text)
        domain = rec.get("domain") if rec.get("domain") in DOMAINS else "other"
        out: dict[str, Any] = {
            "id": str(rec.get("id") or "sg-" + hashlib.sha256(dedup_key(self.text).encode()).hexdigest()[:12]),
            "text": self.text,
            "category": self.prediction.category if prefill else "",
            "lang": lang,
            "domain": domain,
        }
        if isinstance(rec.get("context"), str) and rec["context"].strip():
            out["context"] = rec["context"]
        if isinstance(rec.get("group"), str) and rec["group"].strip():
            out["group"] = rec["group"]
        out["needs_review"] = True
        out["suggested"] = {
            "category": self.prediction.category,
            "quality": self.prediction.quality,
            "p_substantive": round(self.prediction.p_substantive, 4),
            "uncertainty": round(self.uncertainty, 4),
            "model_version": self.prediction.model_version,
        }
        out["source_line"] = self.position
        return out


@dataclass
class SuggestReport:
    """The suggestions and what was left out on the way."""

    suggestions: list[Suggestion] = field(default_factory=list)
    read: int = 0
    skipped: list[Rejected] = field(default_factory=list)
    duplicates: int = 0
    already_labeled: int = 0

    def summary(self) -> str:
        """One line of counts."""
        mean = float(np.mean([s.uncertainty for s in self.suggestions])) if self.suggestions else 0.0
        return (
            f"read {self.read}, skipped {len(self.skipped)} without text, {self.duplicates} repeated, "
            f"{self.already_labeled} already labeled; suggested {len(self.suggestions)} "
            f"(mean uncertainty {mean:.2f})"
        )


def suggest(
    classifier: Classifier,
    items: Iterable[tuple[int, object]],
    n: int = 50,
    *,
    text_field: str = "text",
    exclude: Collection[str] = (),
    diversity: float = 0.5,
    max_similarity: float = 0.8,
    pool: int | None = None,
) -> SuggestReport:
    """Pick up to n replies (position, record) to label next: uncertain for the model, unlike each other.

    `exclude` holds dedup keys (`replyqa.data.dedup_key`) of replies already labeled.
    """
    if n < 1:
        raise InvalidInputError(f"-n must be at least 1, got {n}")
    report = SuggestReport()
    seen: set[str] = set()
    rows: list[tuple[int, dict[str, Any], str]] = []
    for position, record in items:
        report.read += 1
        if isinstance(record, DataError):
            report.skipped.append(Rejected(position, str(record)))
            continue
        if not isinstance(record, dict):
            report.skipped.append(Rejected(position, "not a JSON object"))
            continue
        text = record.get(text_field)
        if not isinstance(text, str) or not text.strip():
            report.skipped.append(Rejected(position, f"no text in field {text_field!r}"))
            continue
        key = dedup_key(text)
        if key in exclude:
            report.already_labeled += 1
        elif key in seen:
            report.duplicates += 1
        else:
            seen.add(key)
            rows.append((position, dict(record), text))
    if not rows:
        return report
    proba = classifier.predict_proba([t for _, _, t in rows])
    scores = uncertainty(proba)
    # Diversity only among the most uncertain: the rest would never win anyway.
    size = min(len(rows), pool or max(10 * n, 1000))
    top = np.argsort(-scores, kind="stable")[:size]
    vectors = _vectors([rows[i][2] for i in top])
    picked = [
        int(top[i]) for i in select_diverse(scores[top], vectors, n, diversity=diversity, max_similarity=max_similarity)
    ]
    predictions = predictions_from_proba(proba[picked], classifier.version)
    for i, prediction in zip(picked, predictions, strict=True):
        position, record, text = rows[i]
        report.suggestions.append(Suggestion(position, record, text, prediction, float(scores[i])))
    return report


def _vectors(texts: Sequence[str]) -> sp.csr_matrix:
    vectorizer = TfidfVectorizer(analyzer=Analyzer(), sublinear_tf=True, dtype=np.float64)
    try:
        return sp.csr_matrix(vectorizer.fit_transform([normalise(t) for t in texts]))
    except ValueError:  # no features at all (e.g. only punctuation): nothing is similar
        return sp.csr_matrix((len(texts), 1))


def write_suggestions(fh: IO[str], suggestions: Iterable[Suggestion], *, prefill: bool = False) -> int:
    """Write suggestions as labeling-format JSON Lines; return how many."""
    count = 0
    for s in suggestions:
        fh.write(json.dumps(s.to_record(prefill=prefill), ensure_ascii=False) + "\n")
        count += 1
    return count
