"""The models folder as a registry: which versions exist, which one is current, and the quality gate.

A new version becomes current only when it is not worse than the current one on the fixed
test split and on the held-aside slice of feedback (binary macro-F1 overall and per
language, and the recall of substantive replies), unless the caller forces it. The
pointer moves atomically and every move is recorded in HISTORY, so `rollback` can undo it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .artifacts import CURRENT_POINTER, MANIFEST_NAME, load, new_version_name, read_manifest, save
from .atomic import atomic_write_text, file_lock
from .data import Example, fingerprint, load_feedback_holdout, load_split
from .errors import QualityGateError, RegistryError, ReplyQAError
from .evaluate import evaluate_model, score, summary
from .model import Classifier, TrainParams, train

HISTORY_FILE = "HISTORY"
LOCK_FILE = ".lock"
TEST_SET = "test split"
HOLDOUT_SET = "feedback holdout"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VersionInfo:
    """A model version folder with its manifest and whether it is current."""

    version: str
    path: Path
    manifest: dict[str, Any]
    current: bool


def current_version(models_dir: Path | str) -> str | None:
    """The version the pointer names, or None when there is no pointer."""
    pointer = Path(models_dir) / CURRENT_POINTER
    if not pointer.is_file():
        return None
    return pointer.read_text(encoding="utf-8").strip() or None


def list_versions(models_dir: Path | str) -> list[VersionInfo]:
    """Every version folder under models_dir, oldest first."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return []
    current = current_version(models_dir)
    out = []
    for path in sorted(p for p in models_dir.iterdir() if (p / MANIFEST_NAME).is_file() and not p.name.startswith(".")):
        out.append(VersionInfo(path.name, path, read_manifest(path), path.name == current))
    return out


def history(models_dir: Path | str) -> list[str]:
    """Versions that were current, oldest first (the last line is the current one)."""
    path = Path(models_dir) / HISTORY_FILE
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def set_current(models_dir: Path | str, version: str) -> None:
    """Point CURRENT at a version atomically and record it in HISTORY."""
    models_dir = Path(models_dir)
    if not (models_dir / version / MANIFEST_NAME).is_file():
        raise RegistryError(f"no model version {version!r} in {models_dir}; see `replyqa models`")
    with file_lock(models_dir / LOCK_FILE):
        past = history(models_dir)
        atomic_write_text(models_dir / HISTORY_FILE, "".join(f"{v}\n" for v in [*past, version]))
        atomic_write_text(models_dir / CURRENT_POINTER, version + "\n")


# --- the quality gate -------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """How much a candidate may lose against the current model before the gate refuses it."""

    tolerance: float = 0.005
    lang_tolerance: float = 0.02
    recall_tolerance: float = 0.01
    # Slices smaller than this are shown but not gated: one reply flips their score too much.
    min_n: int = 20


@dataclass(frozen=True)
class Check:
    """One metric of one evaluation set, for the candidate and the current model."""

    dataset: str
    metric: str
    candidate: float
    current: float | None
    tolerance: float
    n: int
    gated: bool = True
    lang: str | None = None

    @property
    def passed(self) -> bool:
        """True unless the candidate is worse than the current model by more than the tolerance."""
        return not self.gated or self.current is None or self.candidate >= self.current - self.tolerance - 1e-12

    @property
    def label(self) -> str:
        """Where the check looks, e.g. `test split binary_macro_f1 [zh]`."""
        return f"{self.dataset} {self.metric}" + (f" [{self.lang}]" if self.lang else "")

    def to_dict(self) -> dict[str, Any]:
        """The check as a JSON-ready dict."""
        return {**asdict(self), "passed": self.passed}


@dataclass(frozen=True)
class GateResult:
    """The candidate next to the current model, check by check."""

    candidate: str
    current: str | None
    checks: tuple[Check, ...] = ()
    problem: str | None = None

    @property
    def passed(self) -> bool:
        """True when the comparison ran and no gated check failed."""
        return self.problem is None and all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        """The checks that failed."""
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict (recorded in the candidate's manifest)."""
        return {
            "candidate": self.candidate,
            "current": self.current,
            "passed": self.passed,
            "problem": self.problem,
            "checks": [c.to_dict() for c in self.checks],
        }

    def text(self) -> str:
        """The comparison as an aligned table."""
        against = self.current or "none (first model)"
        lines = [f"== quality gate: {self.candidate} against current {against} =="]
        if self.problem:
            lines.append(f"cannot compare: {self.problem}")
        lines.append(f"{'check':44}{'current':>9}{'candidate':>11}{'change':>9}{'allowed':>9}  verdict")
        for c in self.checks:
            cur = "-" if c.current is None else f"{c.current:.3f}"
            change = "-" if c.current is None else f"{c.candidate - c.current:+.3f}"
            verdict = "ok" if c.passed else "FAIL"
            if not c.gated:
                verdict = f"not gated (n={c.n} < min)"
            lines.append(f"{c.label:44}{cur:>9}{c.candidate:>11.3f}{change:>9}{-c.tolerance:>9.3f}  {verdict}")
        lines.append("gate: " + ("passed" if self.passed else "FAILED"))
        return "\n".join(lines)

    def error(self) -> QualityGateError:
        """The QualityGateError that says what failed and how to override it."""
        override = f"promote anyway with `replyqa promote {self.candidate} --force`"
        if self.problem:
            return QualityGateError(
                f"model {self.candidate} was not promoted: cannot compare it with the current model "
                f"({self.problem}); {override}"
            )
        what = "; ".join(
            f"{c.label} {c.candidate:.3f} vs {c.current:.3f} (drop over {c.tolerance:.3f})"
            for c in self.failures
            if c.current is not None
        )
        return QualityGateError(
            f"model {self.candidate} was not promoted: worse than current {self.current} on {what}; "
            f"compare them with `replyqa models`, add or fix labeled data, or {override}"
        )


def compare(
    candidate: Mapping[str, dict[str, Any]], current: Mapping[str, dict[str, Any]] | None, gate: Gate
) -> list[Check]:
    """Gate checks from two models' scores (as from `evaluate.score`) on the same evaluation sets."""
    checks: list[Check] = []
    for dataset, cand in candidate.items():
        cur = current.get(dataset) if current is not None else None
        gated = cand["n"] >= gate.min_n
        for metric, tol in (("binary_macro_f1", gate.tolerance), ("substantive_recall", gate.recall_tolerance)):
            before = None if cur is None else float(cur[metric])
            checks.append(Check(dataset, metric, float(cand[metric]), before, tol, int(cand["n"]), gated))
        for lang, scores in cand.get("per_lang", {}).items():
            before_lang = None if cur is None else cur.get("per_lang", {}).get(lang)
            checks.append(
                Check(
                    dataset,
                    "binary_macro_f1",
                    float(scores["binary_macro_f1"]),
                    None if before_lang is None else float(before_lang["binary_macro_f1"]),
                    gate.lang_tolerance,
                    int(scores["n"]),
                    scores["n"] >= gate.min_n,
                    lang,
                )
            )
    return checks


def evaluation_sets(data_dir: Path | str) -> dict[str, list[Example]]:
    """What the gate evaluates on: the fixed test split and, when there is any, the held-aside feedback."""
    _, test = load_split(data_dir, with_feedback=False)
    sets = {TEST_SET: test}
    holdout = load_feedback_holdout(data_dir)
    if holdout:
        sets[HOLDOUT_SET] = holdout
    return sets


def _scores(classifier: Classifier, sets: Mapping[str, Sequence[Example]]) -> dict[str, dict[str, Any]]:
    return {name: score(ex, classifier.predict_proba([e.text for e in ex])) for name, ex in sets.items() if ex}


def check_gate(
    candidate: Classifier,
    current: Classifier | None,
    sets: Mapping[str, Sequence[Example]],
    gate: Gate | None = None,
    *,
    candidate_version: str | None = None,
    problem: str | None = None,
) -> GateResult:
    """Score both models on the same sets and compare them (no current model: nothing to lose)."""
    gate = gate or Gate()
    name = candidate_version or candidate.version
    cand = _scores(candidate, sets)
    cur = _scores(current, sets) if current is not None else None
    return GateResult(name, current.version if current else None, tuple(compare(cand, cur, gate)), problem)


def _load_current(models_dir: Path) -> tuple[Classifier | None, str | None]:
    version = current_version(models_dir)
    if version is None:
        return None, None
    try:
        return load(models_dir / version), None
    except ReplyQAError as exc:
        return None, f"current model {version} cannot be loaded: {exc}"


@dataclass(frozen=True)
class Promotion:
    """A move of the CURRENT pointer: to which version, from which, and the gate it passed."""

    version: str
    previous: str | None
    gate: GateResult | None = None
    forced: bool = False

    def summary_text(self) -> str:
        """What `replyqa promote` and `replyqa rollback` print."""
        if self.previous == self.version:
            return f"{self.version} is already current"
        how = " (--force: quality gate skipped)" if self.forced else ""
        return f"current model: {self.previous or 'none'} -> {self.version}{how}"


def promote(
    models_dir: Path | str,
    version: str,
    *,
    data_dir: Path | str,
    force: bool = False,
    gate: Gate | None = None,
) -> Promotion:
    """Make a version current if it passes the quality gate against the current one (or if forced)."""
    models_dir = Path(models_dir)
    if not (models_dir / version / MANIFEST_NAME).is_file():
        raise RegistryError(f"no model version {version!r} in {models_dir}; see `replyqa models`")
    previous = current_version(models_dir)
    if previous == version:
        return Promotion(version, previous)
    result = None
    if not force:
        candidate = load(models_dir / version)
        current, problem = _load_current(models_dir)
        sets = evaluation_sets(data_dir)
        result = check_gate(candidate, current, sets, gate, problem=problem)
        if not result.passed:
            raise result.error()
    set_current(models_dir, version)
    log.info("promoted %s (was %s)%s", version, previous, " by force" if force else "")
    return Promotion(version, previous, result, forced=force)


def rollback(models_dir: Path | str) -> Promotion:
    """Make the version that was current before this one current again (HISTORY is a stack)."""
    models_dir = Path(models_dir)
    with file_lock(models_dir / LOCK_FILE):
        current = current_version(models_dir)
        past = history(models_dir)
        while past and past[-1] == current:
            past.pop()
        # Versions deleted by hand since cannot be gone back to.
        while past and not (models_dir / past[-1] / MANIFEST_NAME).is_file():
            past.pop()
        if not past:
            raise RegistryError(
                f"nothing to roll back to: no version was current before {current or 'now'} in {models_dir}; "
                "see `replyqa models` and `replyqa promote VERSION`"
            )
        target = past[-1]
        atomic_write_text(models_dir / HISTORY_FILE, "".join(f"{v}\n" for v in past))
        atomic_write_text(models_dir / CURRENT_POINTER, target + "\n")
    log.info("rolled back from %s to %s", current, target)
    return Promotion(target, current, None)


def format_versions(versions: Sequence[VersionInfo]) -> str:
    """The versions as a table: metrics on the test split and feedback holdout, gate, which is current."""
    lines = [
        f"  {'version':22}{'created':27}{'n_train':>8}{'test_F1':>9}{'sub_rec':>9}{'holdout_F1':>12}  "
        f"{'gate':8}per-language test F1"
    ]
    for v in versions:
        m = v.manifest.get("metrics", {})
        test = m.get("test", {})
        holdout = m.get("feedback_holdout", {})
        gate = m.get("gate")
        gate_state = "-" if not gate or gate.get("current") is None else ("passed" if gate.get("passed") else "failed")
        langs = "  ".join(f"{k} {s['binary_macro_f1']:.3f}" for k, s in test.get("per_lang", {}).items())

        def num(d: dict[str, Any], key: str) -> str:
            return f"{d[key]:.3f}" if key in d else "-"

        lines.append(
            f"{'*' if v.current else ' '} {v.version:22}{v.manifest.get('created', '-')!s:27}"
            f"{v.manifest.get('training_data', {}).get('n_examples', '-')!s:>8}{num(test, 'binary_macro_f1'):>9}"
            f"{num(test, 'substantive_recall'):>9}{num(holdout, 'binary_macro_f1'):>12}  {gate_state:8}{langs}"
        )
    if not versions:
        lines.append("  (no model versions; run `replyqa train`)")
    return "\n".join(lines)


# --- training ---------------------------------------------------------------


@dataclass(frozen=True)
class TrainResult:
    """A trained, saved model version, its metrics and its quality gate."""

    version: str
    path: Path
    metrics: dict[str, Any]
    promoted: bool
    report_text: str
    gate: GateResult | None = None
    attempted: bool = False
    forced: bool = False

    def summary_text(self) -> str:
        """What `replyqa train` prints."""
        if self.promoted:
            state = "promoted to current" + (" (forced past the quality gate)" if self.forced else "")
        elif self.attempted:
            state = f"saved, NOT promoted (quality gate failed; see `replyqa promote {self.version} --force`)"
        else:
            state = f"saved (not current; see `replyqa promote {self.version}`)"
        gate = f"\n\n{self.gate.text()}" if self.gate is not None else ""
        return f"{self.report_text}{gate}\n\nmodel {self.version} {state}: {self.path}"

    def raise_for_gate(self) -> None:
        """Raise QualityGateError when promotion was asked for and the gate refused it."""
        if self.attempted and not self.promoted and self.gate is not None:
            raise self.gate.error()


def train_and_save(
    *,
    data_dir: Path | str,
    models_dir: Path | str,
    devset_dir: Path | str | None = None,
    version: str | None = None,
    seed: int = 0,
    cv: bool = True,
    promote: bool = True,
    force: bool = False,
    gate: Gate | None = None,
    params: TrainParams | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train on the training split (+ feedback), evaluate next to the current model, save, promote if the gate passes.

    The first model of a models folder always becomes current; `force` promotes past a failed gate.
    """
    say = progress or (lambda _msg: None)
    models_dir = Path(models_dir)
    version = version or new_version_name()
    train_set, test_set = load_split(data_dir)
    holdout = load_feedback_holdout(data_dir)
    params = params or TrainParams(seed=seed)
    say(f"training on {len(train_set)} examples ({len(holdout)} feedback samples held aside for evaluation)")
    classifier = train(train_set, params)
    report = evaluate_model(classifier, data_dir=data_dir, devset_dir=devset_dir, cv=cv, params=params, progress=say)
    metrics = {
        "test": summary(report.sections[TEST_SET]["model"]),
        "test_baseline": summary(report.sections[TEST_SET]["baseline"]),
    }
    if "devset (real replies)" in report.sections:
        metrics["devset"] = summary(report.sections["devset (real replies)"]["model"])
        metrics["devset_baseline"] = summary(report.sections["devset (real replies)"]["baseline"])
    if "cross-validation on training split" in report.sections:
        metrics["cv"] = summary(report.sections["cross-validation on training split"]["model"])
    if HOLDOUT_SET in report.sections:
        metrics["feedback_holdout"] = summary(report.sections[HOLDOUT_SET]["model"])
    current, problem = _load_current(models_dir)
    if current is not None:
        say(f"comparing with the current model {current.version}")
    sets = {TEST_SET: test_set, HOLDOUT_SET: holdout}
    result = check_gate(classifier, current, sets, gate, candidate_version=version, problem=problem)
    metrics["gate"] = result.to_dict()
    classifier.manifest["test_data"] = {"fingerprint": fingerprint(test_set), "n_examples": len(test_set)}
    path = save(classifier, models_dir, version=version, metrics=metrics)
    first = current_version(models_dir) is None
    promoted = first or (promote and (result.passed or force))
    if promoted:
        set_current(models_dir, path.name)
    report.model_version = path.name
    return TrainResult(
        path.name,
        path,
        metrics,
        promoted,
        report.text(),
        gate=result,
        attempted=promote and not first,
        forced=promoted and not first and not result.passed,
    )
