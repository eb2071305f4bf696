"""The models folder as a registry: which versions exist and which one is current."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .artifacts import CURRENT_POINTER, MANIFEST_NAME, read_manifest, save
from .atomic import atomic_write_text
from .data import fingerprint, load_split
from .errors import RegistryError
from .evaluate import evaluate_model, summary
from .model import TrainParams, train

HISTORY_FILE = "HISTORY"


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
    past = history(models_dir)
    atomic_write_text(models_dir / HISTORY_FILE, "".join(f"{v}\n" for v in [*past, version]))
    atomic_write_text(models_dir / CURRENT_POINTER, version + "\n")


@dataclass(frozen=True)
class TrainResult:
    """A trained, saved model version and its metrics."""

    version: str
    path: Path
    metrics: dict[str, Any]
    promoted: bool
    report_text: str

    def summary_text(self) -> str:
        """What `replyqa train` prints."""
        state = "promoted to current" if self.promoted else "saved (not current; see `replyqa promote`)"
        return f"{self.report_text}\n\nmodel {self.version} {state}: {self.path}"


def train_and_save(
    *,
    data_dir: Path | str,
    models_dir: Path | str,
    devset_dir: Path | str | None = None,
    version: str | None = None,
    seed: int = 0,
    cv: bool = True,
    promote: bool = False,
    params: TrainParams | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train on the training split (+ feedback), evaluate, save a version, maybe make it current."""
    say = progress or (lambda _msg: None)
    train_set, test_set = load_split(data_dir)
    params = params or TrainParams(seed=seed)
    say(f"training on {len(train_set)} examples")
    classifier = train(train_set, params)
    report = evaluate_model(classifier, data_dir=data_dir, devset_dir=devset_dir, cv=cv, params=params, progress=say)
    metrics = {
        "test": summary(report.sections["test split"]["model"]),
        "test_baseline": summary(report.sections["test split"]["baseline"]),
    }
    if "devset (real replies)" in report.sections:
        metrics["devset"] = summary(report.sections["devset (real replies)"]["model"])
        metrics["devset_baseline"] = summary(report.sections["devset (real replies)"]["baseline"])
    if "cross-validation on training split" in report.sections:
        metrics["cv"] = summary(report.sections["cross-validation on training split"]["model"])
    classifier.manifest["test_data"] = {"fingerprint": fingerprint(test_set), "n_examples": len(test_set)}
    path = save(classifier, models_dir, version=version, metrics=metrics)
    promoted = promote or current_version(models_dir) is None
    if promoted:
        set_current(models_dir, path.name)
    report.model_version = path.name
    return TrainResult(path.name, path, metrics, promoted, report.text())
