"""The classifier: sparse bilingual n-gram features, a linear model, calibrated probabilities."""

from __future__ import annotations

import logging
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from .data import Example, fingerprint
from .errors import InvalidInputError
from .labels import BOILERPLATE, CATEGORIES, SUBSTANTIVE, SUBSTANTIVE_CATEGORIES
from .text import Analyzer, normalise, sentences

log = logging.getLogger(__name__)

_SUBSTANTIVE_MASK = np.array([c in SUBSTANTIVE_CATEGORIES for c in CATEGORIES])


@dataclass(frozen=True)
class TrainParams:
    """Hyperparameters of `train`; recorded in the manifest."""

    C: float = 8.0
    min_df: int = 2
    char_ngrams: bool = False
    stem: bool = False
    word_ngrams: int = 2
    cjk_ngrams: tuple[int, int] = (1, 3)
    char_max_features: int = 60000
    class_weight: str | None = "balanced"
    binary_head: bool = False
    balance_quality: bool = True
    binary_C: float = 4.0
    # Out-of-fold logits for the temperature; 3 folds fit the same temperature as 5 (0.519 vs 0.527)
    # in 60% of the time, which the rule-1 mixes made matter.
    calibration_folds: int = 3
    # Rule-1 mixes added per training reply (see `rule1_mixes`); 0 turns them off.
    mix_substantive: float = 1.0
    mix_boilerplate: float = 0.5
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Prediction:
    """The label of one reply."""

    category: str
    quality: str
    p_substantive: float
    confidence: float
    model_version: str
    probabilities: dict[str, float] = field(default_factory=dict)

    def to_dict(self, *, with_probabilities: bool = False) -> dict[str, Any]:
        """The prediction as a JSON-ready dict."""
        out: dict[str, Any] = {
            "category": self.category,
            "quality": self.quality,
            "p_substantive": round(self.p_substantive, 4),
            "confidence": round(self.confidence, 4),
            "model_version": self.model_version,
        }
        if with_probabilities:
            out["probabilities"] = {k: round(v, 4) for k, v in self.probabilities.items()}
        return out


@dataclass(frozen=True)
class FeatureWeight:
    """A feature of the reply and how much it moves the substantive log-odds."""

    feature: str
    weight: float


@dataclass(frozen=True)
class SentenceScore:
    """One sentence of the reply and its own probability of being substantive."""

    text: str
    p_substantive: float


@dataclass(frozen=True)
class Explanation:
    """The evidence behind a prediction."""

    prediction: Prediction
    toward_substantive: list[FeatureWeight]
    toward_boilerplate: list[FeatureWeight]
    sentences: list[SentenceScore]

    def to_dict(self) -> dict[str, Any]:
        """The explanation as a JSON-ready dict."""
        return {
            "prediction": self.prediction.to_dict(with_probabilities=True),
            "toward_substantive": [asdict(f) for f in self.toward_substantive],
            "toward_boilerplate": [asdict(f) for f in self.toward_boilerplate],
            "sentences": [asdict(s) for s in self.sentences],
        }


def _lower(text: str) -> str:
    return text.lower()


class ReplyModel:
    """The fitted pipeline that is pickled: vectorizers, linear model and temperature."""

    def __init__(self, params: TrainParams) -> None:
        self.params = params
        self.word = TfidfVectorizer(
            analyzer=Analyzer(params.stem, params.word_ngrams, tuple(params.cjk_ngrams)),  # type: ignore[arg-type]
            min_df=params.min_df,
            sublinear_tf=True,
            dtype=np.float32,
        )
        self.char: TfidfVectorizer | None = None
        if params.char_ngrams:
            self.char = TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=(2, 4),
                min_df=params.min_df,
                max_features=params.char_max_features,
                sublinear_tf=True,
                preprocessor=_lower,
                dtype=np.float32,
            )
        self.clf = LogisticRegression(
            C=params.C,
            class_weight=None if params.balance_quality else params.class_weight,
            solver="newton-cg",  # ~15x faster than lbfgs here, same optimum (measured in bench_train)
            max_iter=3000,
            random_state=params.seed,
        )
        self.temperature = 1.0
        self.binary: LogisticRegression | None = None
        if params.binary_head:
            self.binary = LogisticRegression(
                C=params.binary_C,
                class_weight=params.class_weight,
                solver="newton-cg",
                max_iter=3000,
                random_state=params.seed,
            )
        self.binary_temperature = 1.0

    def _features(self, normalised: Sequence[str], fit: bool = False) -> sp.csr_matrix:
        if not fit and self.char is None and hasattr(self.word, "idf_"):
            return self._word_features(normalised)
        blocks = [self.word.fit_transform(normalised) if fit else self.word.transform(normalised)]
        if self.char is not None:
            blocks.append(self.char.fit_transform(normalised) if fit else self.char.transform(normalised))
        return sp.hstack(blocks, format="csr")

    def _word_features(self, normalised: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF exactly as the fitted vectorizer computes it (sublinear tf, idf, L2).

        scikit-learn's transform spends ~1 ms per call validating its input, which dominates
        single-reply latency; the arithmetic itself is a dictionary lookup per token.
        """
        vocab: dict[str, int] = self.word.vocabulary_
        analyzer = self.word.analyzer
        cols: list[int] = []
        counts: list[int] = []
        indptr = [0]
        for doc in normalised:
            for token, n in Counter(analyzer(doc)).items():
                j = vocab.get(token)
                if j is not None:
                    cols.append(j)
                    counts.append(n)
            indptr.append(len(cols))
        col = np.asarray(cols, dtype=np.int32)
        vals = (1.0 + np.log(np.asarray(counts, dtype=np.float64))) * self.word.idf_[col]
        ptr = np.asarray(indptr, dtype=np.int64)
        lengths = np.diff(ptr)
        rows = np.repeat(np.arange(len(normalised)), lengths)
        norms = np.sqrt(np.bincount(rows, weights=vals * vals, minlength=len(normalised)))
        vals /= np.repeat(np.where(norms > 0, norms, 1.0), lengths)
        return sp.csr_matrix((vals, col, ptr), shape=(len(normalised), len(vocab)))

    def _decision(self, x: sp.csr_matrix) -> np.ndarray:
        """Linear decision values (the same as LogisticRegression.decision_function, minus its checks).

        Sums the weight rows of each text's features directly: scipy's sparse @ dense costs
        time in the vocabulary size per call, this costs time in the number of tokens.
        """
        weights: np.ndarray | None = self.__dict__.get("_weight_rows")
        if weights is None:
            weights = np.ascontiguousarray(self.clf.coef_.T, dtype=np.float64)
            self._weight_rows = weights
        scores = np.zeros((x.shape[0], weights.shape[1]))
        filled = np.diff(x.indptr) > 0
        if filled.any():
            rows = weights[x.indices] * x.data[:, None]
            scores[filled] = np.add.reduceat(rows, x.indptr[:-1][filled], axis=0)
        return np.asarray(scores + self.clf.intercept_, dtype=np.float64)

    def fit(
        self, normalised: Sequence[str], labels: Sequence[int] | np.ndarray, extra: Sequence[str] = ()
    ) -> ReplyModel:
        """Fit the vectorizers on `normalised`, the linear model on it and on `extra`.

        `labels` covers `normalised` then `extra`. `extra` (rule-1 mixes) repeats sentences of
        `normalised`: counting it would let n-grams seen once pass `min_df` and skew the idf,
        so it is only transformed.
        """
        x = self._features(normalised, fit=True)
        if extra:
            x = sp.vstack([x, self._features(extra)], format="csr")
        y = np.asarray(labels)
        self.clf.fit(x, y, sample_weight=quality_weights(y) if self.params.balance_quality else None)
        if self.binary is not None:
            self.binary.fit(x, _SUBSTANTIVE_MASK[y])
        return self

    def binary_logits(self, normalised: Sequence[str]) -> np.ndarray | None:
        """Decision values of the binary head (substantive vs boilerplate), if it has one."""
        if self.binary is None:
            return None
        return np.asarray(self.binary.decision_function(self._features(normalised)), dtype=np.float64)

    def logits(self, normalised: Sequence[str]) -> np.ndarray:
        """Decision values, one column per category (all eight, in CATEGORIES order)."""
        return self._full(self._decision(self._features(normalised)))

    def _full(self, scores: np.ndarray) -> np.ndarray:
        # A training set may lack a category (tiny fixtures); give it -inf.
        out = np.full((scores.shape[0], len(CATEGORIES)), -1e9, dtype=np.float64)
        out[:, self.clf.classes_] = scores
        return out

    def proba(self, normalised: Sequence[str]) -> np.ndarray:
        """Calibrated category probabilities.

        The category model's temperature-scaled softmax, with the substantive mass set by
        the binary head when there is one: the binary decision is learnt from all examples
        at once, not from three thin classes summed.
        """
        x = self._features(normalised)
        p = softmax(self._full(self._decision(x)) / self.temperature)
        if self.binary is None:
            return p
        p_sub = _sigmoid(np.asarray(self.binary.decision_function(x), dtype=np.float64) / self.binary_temperature)
        return regroup(p, p_sub)

    def substantive_direction(self, p: np.ndarray) -> np.ndarray:
        """Per-feature weight on the substantive log-odds (for explanations), at probabilities p."""
        if self.binary is not None:
            return np.asarray(self.binary.coef_[0] / self.binary_temperature)
        p_sub = max(float(p[_SUBSTANTIVE_MASK].sum()), 1e-12)
        p_boil = max(float(p[~_SUBSTANTIVE_MASK].sum()), 1e-12)
        # Gradient of the substantive log-odds with respect to each class logit.
        grad = np.where(_SUBSTANTIVE_MASK, p / p_sub, -p / p_boil)[self.clf.classes_]
        return np.asarray(grad @ self.clf.coef_ / self.temperature)

    def feature_name_list(self) -> list[str]:
        """feature_names(), built once per loaded model (explanations look names up per call)."""
        names: list[str] | None = self.__dict__.get("_names")
        if names is None:
            names = self.feature_names()
            self._names = names
        return names

    def __getstate__(self) -> dict[str, Any]:
        # The caches are derived from the fitted parts: never pickle them into an artifact.
        state = self.__dict__.copy()
        state.pop("_names", None)
        state.pop("_weight_rows", None)
        return state

    def feature_names(self) -> list[str]:
        """Names of all feature columns, word block first."""
        names = [_display(n) for n in self.word.get_feature_names_out()]
        if self.char is not None:
            names += [f"chars:{n!r}" for n in self.char.get_feature_names_out()]
        return names


def _display(feature: str) -> str:
    return " ".join(f"<{w[2:-2]}>" if w.startswith("__") and w.endswith("__") else w for w in feature.split(" "))


def quality_weights(labels: np.ndarray) -> np.ndarray:
    """Sample weights giving each quality half the total weight, each category an equal share of it.

    Plain per-category balancing would give boilerplate (five categories) 5/8 of the weight
    and bias the binary decision; this keeps both the categories and the qualities balanced.
    """
    counts = np.bincount(labels, minlength=len(CATEGORIES)).astype(float)
    present = counts > 0
    weights = np.zeros(len(CATEGORIES))
    for side in (_SUBSTANTIVE_MASK, ~_SUBSTANTIVE_MASK):
        cats = side & present
        if cats.any():
            weights[cats] = 0.5 / cats.sum() / counts[cats]
    w = weights[labels]
    return np.asarray(w * len(labels) / w.sum())


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def regroup(p: np.ndarray, p_sub: np.ndarray) -> np.ndarray:
    """Rescale category probabilities so the substantive ones sum to p_sub."""
    sub = p[:, _SUBSTANTIVE_MASK].sum(axis=1, keepdims=True)
    out = p.copy()
    out[:, _SUBSTANTIVE_MASK] *= p_sub[:, None] / np.clip(sub, 1e-12, None)
    out[:, ~_SUBSTANTIVE_MASK] *= (1 - p_sub)[:, None] / np.clip(1 - sub, 1e-12, None)
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of held-out logits.

    `logits` is (n, classes) with integer labels, or (n,) binary decision values with 0/1 labels.
    """

    def nll(t: float) -> float:
        if logits.ndim == 1:
            p1 = np.clip(_sigmoid(logits / t), 1e-12, 1 - 1e-12)
            return float(-np.mean(labels * np.log(p1) + (1 - labels) * np.log(1 - p1)))
        p = softmax(logits / t)
        return float(-np.mean(np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, None))))

    res = minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded")
    return float(res.x)


def rule1_mixes(
    examples: Sequence[Example], substantive: float, boilerplate: float, seed: int
) -> list[tuple[int, str]]:
    """Training-time copies of replies with boilerplate sentences of other replies added.

    LABELING.md rule 1: the most substantive part of a reply wins, so a substantive reply
    with a courtesy or a generic request around it is still substantive, and boilerplate
    around boilerplate is still boilerplate. Written replies tend to be pure; real ones are
    not. Each reply gets on average `substantive` (or `boilerplate`) copies, each with one or
    two sentences drawn from boilerplate replies of the same script (Latin or CJK), put
    before or after it. Returns (index of the source example, text) pairs.
    """
    rng = random.Random(seed)
    pools: dict[bool, list[list[str]]] = {True: [], False: []}
    for e in examples:
        if e.quality == BOILERPLATE:
            pools[e.lang != "en"].append(sentences(e.text) or [e.text])
    out: list[tuple[int, str]] = []
    for i, e in enumerate(examples):
        cjk = e.lang != "en"
        pool = pools[cjk]
        rate = substantive if e.quality == SUBSTANTIVE else boilerplate
        while pool and rate > 0:
            if rng.random() < rate:
                added = [rng.choice(rng.choice(pool)) for _ in range(rng.randint(1, 2))]
                sep = "" if cjk else " "
                joint = "\n\n" if rng.random() < 0.5 else sep
                extra = sep.join(added)
                out.append((i, extra + joint + e.text if rng.random() < 0.5 else e.text + joint + extra))
            rate -= 1
    return out


def train(examples: Sequence[Example], params: TrainParams | None = None) -> Classifier:
    """Train a classifier on labeled examples; deterministic for a given `params.seed`."""
    params = params or TrainParams()
    if len(examples) < 2:
        raise InvalidInputError("training needs at least two labeled examples")
    normalised = [normalise(e.text) for e in examples]
    labels = np.array([CATEGORIES.index(e.category) for e in examples])
    groups = np.array([e.group for e in examples])
    mixes = rule1_mixes(examples, params.mix_substantive, params.mix_boilerplate, params.seed)
    mix_source = np.array([i for i, _ in mixes], dtype=int)
    mix_text = [normalise(t) for _, t in mixes]
    mix_labels = labels[mix_source] if mixes else np.zeros(0, dtype=int)
    model = ReplyModel(params)
    folds = min(params.calibration_folds, int(np.bincount(labels).max()), len(set(groups)))
    if folds >= 2 and len(set(labels)) >= 2:
        # Out-of-fold logits fit the temperature, so calibration is not judged on seen data.
        oof = np.zeros((len(examples), len(CATEGORIES)))
        oof_bin = np.zeros(len(examples))
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=params.seed)
        for tr, te in splitter.split(normalised, labels, groups):
            # Mixes of the training part only: held-out replies are scored as written.
            extra = np.flatnonzero(np.isin(mix_source, tr))
            fold = ReplyModel(params).fit(
                [normalised[i] for i in tr],
                np.concatenate([labels[tr], mix_labels[extra]]),
                [mix_text[j] for j in extra],
            )
            held = [normalised[i] for i in te]
            oof[te] = fold.logits(held)
            b = fold.binary_logits(held)
            if b is not None:
                oof_bin[te] = b
        model.temperature = _fit_temperature(oof, labels)
        if params.binary_head:
            model.binary_temperature = _fit_temperature(oof_bin, _SUBSTANTIVE_MASK[labels].astype(float))
    model.fit(normalised, np.concatenate([labels, mix_labels]), mix_text)
    manifest = {
        "hyperparameters": params.to_dict(),
        "temperature": model.temperature,
        "binary_temperature": model.binary_temperature,
        "training_data": {
            "fingerprint": fingerprint(examples),
            "n_examples": len(examples),
            "by_category": {c: int((labels == i).sum()) for i, c in enumerate(CATEGORIES)},
            "by_lang": {lang: sum(e.lang == lang for e in examples) for lang in sorted({e.lang for e in examples})},
            "rule1_mixes": len(mixes),
        },
    }
    log.info("trained on %d examples, temperature %.3f", len(examples), model.temperature)
    return Classifier(model, manifest)


class Classifier:
    """Labels vendor replies; `Classifier.load()` gives the shipped model."""

    def __init__(self, model: ReplyModel, manifest: dict[str, Any] | None = None) -> None:
        self.model = model
        self.manifest: dict[str, Any] = dict(manifest or {})

    @property
    def version(self) -> str:
        """The model version, or `unsaved` for a model not yet written to disk."""
        return str(self.manifest.get("version", "unsaved"))

    @classmethod
    def load(cls, path: Path | str | None = None) -> Classifier:
        """Load a verified model version (default: the current model under `models/`)."""
        from .artifacts import load  # artifacts imports this module; load lazily.

        return load(path)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated category probabilities, one row per text, columns in CATEGORIES order."""
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str) or not t.strip():
                raise InvalidInputError(f"text #{i} is empty; every reply needs some text")
        if not texts:
            return np.zeros((0, len(CATEGORIES)))
        return self.model.proba([normalise(t) for t in texts])

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Label each text: category, quality, p_substantive, confidence, model version."""
        return predictions_from_proba(self.predict_proba(texts), self.version)

    def p_substantive(self, texts: Sequence[str]) -> np.ndarray:
        """Probability that each text is substantive."""
        return np.asarray(self.predict_proba(texts)[:, _SUBSTANTIVE_MASK].sum(axis=1))

    def explain(self, text: str, top: int = 8) -> Explanation:
        """The prediction for one text with the features and sentences behind it."""
        proba = self.predict_proba([text])
        prediction = predictions_from_proba(proba, self.version)[0]
        normalised = normalise(text)
        x = self.model._features([normalised])
        p = proba[0]
        direction = self.model.substantive_direction(p)
        cols = x.indices
        contrib = x.data * direction[cols]
        names = self.model.feature_name_list()
        order = np.argsort(contrib)
        toward = [
            FeatureWeight(names[cols[i]], round(float(contrib[i]), 4)) for i in order[::-1][:top] if contrib[i] > 0
        ]
        away = [FeatureWeight(names[cols[i]], round(float(contrib[i]), 4)) for i in order[:top] if contrib[i] < 0]
        parts = sentences(text)
        scores = self.p_substantive(parts) if parts else np.zeros(0)
        return Explanation(
            prediction=prediction,
            toward_substantive=toward,
            toward_boilerplate=away,
            sentences=[SentenceScore(s, round(float(v), 4)) for s, v in zip(parts, scores, strict=True)],
        )


def predictions_from_proba(proba: np.ndarray, version: str) -> list[Prediction]:
    """Turn probability rows into predictions whose category always agrees with quality."""
    if len(proba) == 0:
        return []
    p_sub = np.clip(proba[:, _SUBSTANTIVE_MASK].sum(axis=1), 0.0, 1.0)
    is_sub = p_sub >= 0.5
    # The best category on the side the quality decision chose (vectorised: this runs per reply in batch jobs).
    masked = np.where(is_sub[:, None] == _SUBSTANTIVE_MASK[None, :], proba, -1.0)
    best = masked.argmax(axis=1)
    confidence = proba[np.arange(len(proba)), best]
    rows = proba.tolist()
    return [
        Prediction(
            category=CATEGORIES[b],
            quality=SUBSTANTIVE if s else BOILERPLATE,
            p_substantive=ps,
            confidence=c,
            model_version=version,
            probabilities=dict(zip(CATEGORIES, row, strict=True)),
        )
        for b, s, ps, c, row in zip(
            best.tolist(), is_sub.tolist(), p_sub.tolist(), confidence.tolist(), rows, strict=True
        )
    ]


def entropy(proba: np.ndarray) -> np.ndarray:
    """Entropy of each probability row (for uncertainty)."""
    p = np.clip(proba, 1e-12, 1.0)
    return np.asarray(-(p * np.log(p)).sum(axis=1) / math.log(p.shape[1]))
