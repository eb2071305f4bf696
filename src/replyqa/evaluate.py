"""Metrics and reports: the model next to a keyword-rule baseline, per language, calibrated."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold

from .atomic import atomic_write_text
from .data import Example, example_from_record, iter_records, load_feedback_holdout, load_split
from .errors import DataError
from .labels import CATEGORIES, SUBSTANTIVE_CATEGORIES
from .model import Classifier, TrainParams, train
from .text import normalise

_SUB = np.array([c in SUBSTANTIVE_CATEGORIES for c in CATEGORIES])

# Keyword rules, checked from the most substantive category down (rule 1 of LABELING.md).
_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("root_cause", r"root cause|caused by|because|the reason|due to|根因|原因是|导致|由于|是因为"),
    (
        "solution",
        r"fixed in|is fixed|workaround|you can set|you should|please set|use __ident__|已修复|修复了|解决方法|可以设置|改成|改为",
    ),
    (
        "diagnosis",
        r"means|looks like|seems|from the log|in your log|probably|likely|说明|看起来|从日志|日志里|可能是|应该是",
    ),
    (
        "status_update",
        r"investigat|escalat|closing|duplicate|tracking|next release|排查中|跟进|关闭|下个版本|已转交|处理中",
    ),
    ("deflection", r"ticket|support portal|contact|forum|__email__|工单|联系|论坛|文档"),
    (
        "generic_advice",
        r"restart|reinstall|clear (the )?cache|latest version|update to the latest|重启|重装|清理缓存|最新版",
    ),
    ("info_request", r"log|provide|share|screenshot|repro|日志|提供|截图|复现|demo"),
)
_KEYWORD_RES = tuple((c, re.compile(p, re.I)) for c, p in _KEYWORDS)


def keyword_baseline(texts: Sequence[str]) -> np.ndarray:
    """One-hot 'probabilities' from keyword rules: the reference every model must beat."""
    out = np.zeros((len(texts), len(CATEGORIES)))
    for i, text in enumerate(texts):
        norm = normalise(text)
        category = next((c for c, rx in _KEYWORD_RES if rx.search(norm)), "acknowledgement")
        out[i, CATEGORIES.index(category)] = 1.0
    return out


def expected_calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """ECE of a binary probability: bin-weighted |observed rate - mean probability|."""
    if len(p) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            ece += sel.mean() * abs(float(y[sel].mean()) - float(p[sel].mean()))
    return float(ece)


def _core_scores(y_cat: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    p_sub = proba[:, _SUB].sum(axis=1)
    pred_sub = p_sub >= 0.5
    # The category always agrees with the quality decision (see predictions_from_proba).
    masked = np.where(pred_sub[:, None] == _SUB[None, :], proba, -1.0)
    pred_cat = masked.argmax(axis=1)
    y_sub = _SUB[y_cat]
    labels = sorted(set(y_cat) | set(pred_cat))
    return {
        "n": len(y_cat),
        "binary_macro_f1": float(f1_score(y_sub, pred_sub, average="macro", labels=[False, True], zero_division=0)),
        "accuracy": float(accuracy_score(y_sub, pred_sub)),
        "category_macro_f1": float(f1_score(y_cat, pred_cat, average="macro", labels=labels, zero_division=0)),
        "category_accuracy": float(accuracy_score(y_cat, pred_cat)),
        "substantive_recall": float(pred_sub[y_sub].mean()) if y_sub.any() else 0.0,
        "ece": expected_calibration_error(p_sub, y_sub.astype(float)),
        "_pred_cat": pred_cat,
    }


def score(examples: Sequence[Example], proba: np.ndarray) -> dict[str, Any]:
    """All metrics of predicted probabilities against labeled examples."""
    if len(examples) == 0:
        raise DataError("nothing to evaluate: the example set is empty")
    y = np.array([CATEGORIES.index(e.category) for e in examples])
    core = _core_scores(y, proba)
    pred = core.pop("_pred_cat")
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(len(CATEGORIES)), zero_division=0)
    core["per_class"] = {
        c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        for i, c in enumerate(CATEGORIES)
    }
    core["confusion"] = {
        "labels": list(CATEGORIES),
        "matrix": confusion_matrix(y, pred, labels=range(len(CATEGORIES))).tolist(),
    }
    langs = np.array([e.lang for e in examples])
    core["per_lang"] = {}
    for lang in sorted(set(langs)):
        sel = langs == lang
        sub = _core_scores(y[sel], proba[sel])
        sub.pop("_pred_cat")
        core["per_lang"][lang] = sub
    # Chinese and mixed replies together, as "Chinese" targets are stated.
    zh = np.isin(langs, ["zh", "mixed"])
    if zh.any() and (~zh).any() and "mixed" in set(langs):
        sub = _core_scores(y[zh], proba[zh])
        sub.pop("_pred_cat")
        core["per_lang"]["zh+mixed"] = sub
    return core


def evaluate(classifier: Classifier, examples: Sequence[Example]) -> dict[str, Any]:
    """Scores of the classifier and of the keyword baseline on the same examples."""
    texts = [e.text for e in examples]
    return {
        "model": score(examples, classifier.predict_proba(texts)),
        "baseline": score(examples, keyword_baseline(texts)),
    }


def cross_validate(
    examples: Sequence[Example],
    params: TrainParams | None = None,
    folds: int = 5,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Grouped, stratified k-fold scores on the training split (out-of-fold predictions)."""
    params = params or TrainParams()
    y = np.array([CATEGORIES.index(e.category) for e in examples])
    groups = np.array([e.group for e in examples])
    proba = np.zeros((len(examples), len(CATEGORIES)))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=params.seed)
    for k, (tr, te) in enumerate(splitter.split(np.zeros(len(y)), y, groups), start=1):
        clf = train([examples[i] for i in tr], params)
        proba[te] = clf.predict_proba([examples[i].text for i in te])
        if progress:
            progress(k, folds)
    result = score(examples, proba)
    result["folds"] = folds
    return result


def read_devset(path: Path | str) -> list[Example]:
    """Read the real-world development set (JSONL files with text/category/lang)."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.glob("*.jsonl"))
    if not files:
        raise DataError(f"no devset JSONL files at {path}")
    out = []
    for file in files:
        for lineno, record in iter_records(file):
            if isinstance(record, DataError):
                raise record
            if isinstance(record, dict):
                record = {k: v for k, v in record.items() if k in ("id", "text", "category", "quality", "lang")}
            out.append(example_from_record(record, where=f"{file}:{lineno}"))
    return out


def summary(metrics: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of a score dict (for manifests and comparisons)."""
    keys = ("n", "binary_macro_f1", "accuracy", "category_macro_f1", "substantive_recall", "ece")
    out: dict[str, Any] = {k: metrics[k] for k in keys if k in metrics}
    out["per_lang"] = {lang: {k: v[k] for k in keys if k in v} for lang, v in metrics.get("per_lang", {}).items()}
    return out


def format_scores(title: str, metrics: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    """A human-readable block of scores, with the baseline beside the model when given."""
    lines = [f"== {title} (n={metrics['n']}) =="]
    head = ("binary_macro_f1", "accuracy", "category_macro_f1", "substantive_recall", "ece")
    lines.append(f"{'':24}{'model':>10}" + (f"{'baseline':>10}" if baseline else ""))
    for k in head:
        lines.append(f"{k:24}{metrics[k]:>10.3f}" + (f"{baseline[k]:>10.3f}" if baseline else ""))
    if "per_lang" in metrics:
        lines.append("per language:            binF1    acc   catF1    ECE     n")
        for lang, m in metrics["per_lang"].items():
            lines.append(
                f"  {lang:22}{m['binary_macro_f1']:>6.3f} {m['accuracy']:>6.3f} {m['category_macro_f1']:>6.3f}"
                f" {m['ece']:>6.3f} {m['n']:>5}"
            )
    if "per_class" in metrics:
        lines.append("per category:             prec    rec     f1  support")
        for c, m in metrics["per_class"].items():
            lines.append(f"  {c:22}{m['precision']:>6.3f} {m['recall']:>6.3f} {m['f1']:>6.3f} {m['support']:>7}")
    if "confusion" in metrics:
        labels = metrics["confusion"]["labels"]
        short = [c[:6] for c in labels]
        lines.append("confusion (rows = true, columns = predicted):")
        lines.append(" " * 18 + "".join(f"{s:>7}" for s in short))
        for c, row in zip(labels, metrics["confusion"]["matrix"], strict=True):
            lines.append(f"  {c:16}" + "".join(f"{v:>7}" for v in row))
    return "\n".join(lines)


def write_report(report: dict[str, Any], path: Path) -> None:
    """Save a report as JSON (atomically)."""
    atomic_write_text(path, json.dumps(report, indent=2, ensure_ascii=False) + "\n")


class EvaluationReport:
    """Named sections of scores (test split, devset, cross-validation) for one model."""

    def __init__(self, model_version: str) -> None:
        self.model_version = model_version
        self.sections: dict[str, dict[str, Any]] = {}
        self.curve: list[dict[str, Any]] | None = None

    def add(self, name: str, model: dict[str, Any], baseline: dict[str, Any] | None = None) -> None:
        """Add a section: the model's scores and, optionally, the baseline's."""
        self.sections[name] = {"model": model, **({"baseline": baseline} if baseline else {})}

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        out: dict[str, Any] = {"model_version": self.model_version, **self.sections}
        if self.curve is not None:
            out["learning curve"] = self.curve
        return out

    def text(self) -> str:
        """The report as text, one block per section."""
        blocks = [f"model {self.model_version}"]
        for name, sec in self.sections.items():
            blocks.append(format_scores(name, sec["model"], sec.get("baseline")))
        if self.curve is not None:
            blocks.append(format_curve(self.curve))
        return "\n\n".join(blocks)

    def save(self, out_dir: Path) -> Path:
        """Write the report as JSON and text into out_dir; return the JSON path."""
        path = Path(out_dir) / f"evaluation-{self.model_version}.json"
        write_report(self.to_dict(), path)
        atomic_write_text(path.with_suffix(".txt"), self.text() + "\n")
        return path


def evaluate_model(
    classifier: Classifier,
    *,
    data_dir: Path | str,
    devset_dir: Path | str | None = None,
    cv: bool = False,
    params: TrainParams | None = None,
    progress: Callable[[str], None] | None = None,
    curve: bool = False,
) -> EvaluationReport:
    """Evaluate on the fixed test split, held-aside feedback and the devset when present, optionally CV and a curve."""
    say = progress or (lambda _msg: None)
    train_set, test_set = load_split(data_dir)
    report = EvaluationReport(classifier.version)
    res = evaluate(classifier, test_set)
    report.add("test split", res["model"], res["baseline"])
    holdout = load_feedback_holdout(data_dir)
    if holdout:
        res = evaluate(classifier, holdout)
        report.add("feedback holdout", res["model"], res["baseline"])
    if devset_dir is not None and Path(devset_dir).exists():
        dev = read_devset(devset_dir)
        res = evaluate(classifier, dev)
        report.add("devset (real replies)", res["model"], res["baseline"])
    elif devset_dir is not None:
        say(f"no devset at {devset_dir}; skipping the real-world report")
    if cv:
        hp = params or TrainParams(**classifier.manifest.get("hyperparameters", {}))
        cvres = cross_validate(train_set, hp, progress=lambda k, n: say(f"cross-validation fold {k}/{n}"))
        report.add("cross-validation on training split", cvres)
    if curve:
        hp = params or TrainParams(**classifier.manifest.get("hyperparameters", {}))
        report.curve = learning_curve(train_set, test_set, hp, progress=say)
    return report


# --- learning curve ---------------------------------------------------------

CURVE_FRACTIONS = (0.1, 0.25, 0.5, 0.75, 1.0)


def nested_subsets(examples: Sequence[Example], fractions: Sequence[float], seed: int = 0) -> list[list[Example]]:
    """Growing subsets of whole groups, stratified by category, each containing the previous one.

    Nesting makes the curve measure more data rather than another random draw.
    """
    groups: dict[str, list[Example]] = {}
    for ex in examples:
        groups.setdefault(ex.group, []).append(ex)
    strata: dict[str, list[str]] = {}
    for name in sorted(groups):
        strata.setdefault(groups[name][0].category, []).append(name)
    rng = np.random.default_rng(seed)
    # Each group's place in the order is its (shuffled) rank within its category, as a share of that
    # category: every prefix of the order then holds each category in proportion.
    keyed: list[tuple[float, float, str]] = []
    for names in strata.values():
        for rank, name in enumerate(rng.permutation(names)):
            keyed.append(((rank + 0.5) / len(names), float(rng.random()), str(name)))
    order = [name for _, _, name in sorted(keyed)]
    out: list[list[Example]] = []
    taken: list[Example] = []
    it = iter(order)
    for fraction in sorted(fractions):
        target = fraction * len(examples)
        while len(taken) < target - 1e-9:
            group = next(it, None)
            if group is None:
                break
            taken.extend(groups[group])
        out.append(list(taken))
    return out


def learning_curve(
    train_set: Sequence[Example],
    test_set: Sequence[Example],
    params: TrainParams | None = None,
    fractions: Sequence[float] = CURVE_FRACTIONS,
    *,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Test-split scores of models trained on growing fractions of the training split."""
    if not test_set:
        raise DataError("nothing to evaluate: the test split is empty")
    points: list[dict[str, Any]] = []
    for fraction, subset in zip(sorted(fractions), nested_subsets(train_set, fractions, seed), strict=True):
        if len({e.category for e in subset}) < 2:
            if progress:
                progress(f"skipping {fraction:.0%}: {len(subset)} examples cover fewer than two categories")
            continue
        if progress:
            progress(f"learning curve: training on {fraction:.0%} ({len(subset)} examples)")
        clf = train(subset, params)
        scores = summary(score(test_set, clf.predict_proba([e.text for e in test_set])))
        points.append({"fraction": fraction, "n_train": len(subset), **scores})
    return points


def format_curve(points: Sequence[dict[str, Any]]) -> str:
    """The learning curve as a table, one row per training fraction."""
    langs = sorted({lang for p in points for lang in p.get("per_lang", {})})
    lines = [
        "== learning curve (scored on the test split) ==",
        f"{'fraction':>9}{'n_train':>9}{'binF1':>8}{'catF1':>8}{'sub_rec':>8}{'ECE':>7}"
        + "".join(f"{'F1 ' + lang:>12}" for lang in langs),
    ]
    for p in points:
        per_lang = p.get("per_lang", {})
        lines.append(
            f"{p['fraction']:>9.0%}{p['n_train']:>9}{p['binary_macro_f1']:>8.3f}{p['category_macro_f1']:>8.3f}"
            f"{p['substantive_recall']:>8.3f}{p['ece']:>7.3f}"
            + "".join(
                f"{per_lang[lang]['binary_macro_f1']:>12.3f}" if lang in per_lang else f"{'-':>12}" for lang in langs
            )
        )
    if len(points) >= 2:
        gain = points[-1]["binary_macro_f1"] - points[-2]["binary_macro_f1"]
        lines.append(
            f"last step ({points[-2]['n_train']} -> {points[-1]['n_train']} examples): binary macro-F1 {gain:+.3f}; "
            + (
                "still rising, more labels should help"
                if gain > 0.005
                else "flat, more of the same labels helps little"
            )
        )
    return "\n".join(lines)
