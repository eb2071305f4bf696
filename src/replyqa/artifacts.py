"""Model versions on disk: a folder with `model.joblib` and `manifest.json`.

Loading reads the manifest, checks the format and library versions and the
artifact's SHA-256 *before* unpickling: a pickle runs code, so an artifact that
does not match its manifest is never opened.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import sklearn

from . import __version__
from .atomic import atomic_write_text
from .errors import ArtifactError, ModelNotFoundError
from .model import Classifier, ReplyModel

FORMAT_VERSION = 1
ARTIFACT_NAME = "model.joblib"
MANIFEST_NAME = "manifest.json"
CURRENT_POINTER = "CURRENT"
DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
RETRAIN_HINT = "retrain with `replyqa train` (or `make train`)"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def new_version_name(now: datetime | None = None) -> str:
    """A sortable version name from the UTC time, e.g. `v20261125-101500`."""
    now = now or datetime.now(UTC)
    return now.strftime("v%Y%m%d-%H%M%S")


def save(
    classifier: Classifier, models_dir: Path | str, *, version: str | None = None, metrics: dict[str, Any] | None = None
) -> Path:
    """Write a classifier as a new version folder (atomically) and return the folder."""
    models_dir = Path(models_dir)
    version = version or new_version_name()
    target = models_dir / version
    if target.exists():
        raise ArtifactError(f"model version {version} already exists in {models_dir}; choose another name")
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=models_dir, prefix=f".{version}.", suffix=".tmp"))
    staging.chmod(0o755)
    try:
        artifact = staging / ARTIFACT_NAME
        joblib.dump(classifier.model, artifact, compress=3)
        artifact.chmod(0o644)
        manifest = {
            **classifier.manifest,
            "format_version": FORMAT_VERSION,
            "version": version,
            "replyqa_version": __version__,
            "sklearn_version": sklearn.__version__,
            "python_version": platform.python_version(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "artifact": ARTIFACT_NAME,
            "artifact_sha256": sha256_file(artifact),
            "artifact_bytes": artifact.stat().st_size,
        }
        if metrics is not None:
            manifest["metrics"] = metrics
        atomic_write_text(staging / MANIFEST_NAME, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def read_manifest(version_dir: Path) -> dict[str, Any]:
    """Read and sanity-check a version folder's manifest."""
    path = version_dir / MANIFEST_NAME
    if not path.is_file():
        raise ModelNotFoundError(f"no {MANIFEST_NAME} in {version_dir}; {RETRAIN_HINT}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path} is not valid JSON ({exc}); {RETRAIN_HINT}") from exc
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{path} is not a JSON object; {RETRAIN_HINT}")
    return manifest


def verify(version_dir: Path) -> dict[str, Any]:
    """Check format version, scikit-learn version and SHA-256; return the manifest."""
    manifest = read_manifest(version_dir)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{version_dir}: unknown artifact format {manifest.get('format_version')!r} "
            f"(this replyqa reads format {FORMAT_VERSION}); {RETRAIN_HINT}"
        )
    trained_with = str(manifest.get("sklearn_version", ""))
    if trained_with.split(".")[:2] != sklearn.__version__.split(".")[:2]:
        raise ArtifactError(
            f"{version_dir}: trained with scikit-learn {trained_with or 'unknown'}, "
            f"this environment has {sklearn.__version__}; install the matching version or {RETRAIN_HINT}"
        )
    artifact = version_dir / str(manifest.get("artifact", ARTIFACT_NAME))
    if artifact.parent != version_dir or not artifact.is_file():
        raise ArtifactError(f"{version_dir}: artifact {artifact.name} is missing; {RETRAIN_HINT}")
    expected = manifest.get("artifact_sha256")
    actual = sha256_file(artifact)
    if not isinstance(expected, str) or actual != expected:
        raise ArtifactError(
            f"{artifact}: SHA-256 {actual[:12]}… does not match the manifest ({str(expected)[:12]}…); "
            f"refusing to unpickle a file that may have been tampered with; {RETRAIN_HINT}"
        )
    return manifest


def resolve(path: Path | str | None = None) -> Path:
    """The version folder meant by a path: a version folder, or a models folder's current version."""
    path = Path(path) if path is not None else DEFAULT_MODELS_DIR
    if (path / MANIFEST_NAME).is_file():
        return path
    pointer = path / CURRENT_POINTER
    if pointer.is_file():
        version = pointer.read_text(encoding="utf-8").strip()
        if version and (path / version / MANIFEST_NAME).is_file():
            return path / version
        raise ModelNotFoundError(f"{pointer} names {version!r}, which is not a model version; {RETRAIN_HINT}")
    raise ModelNotFoundError(f"no model in {path}; {RETRAIN_HINT}")


def load(path: Path | str | None = None) -> Classifier:
    """Load and verify a model version (default: the current model of the shipped `models/`)."""
    version_dir = resolve(path)
    manifest = verify(version_dir)
    try:
        model = joblib.load(version_dir / str(manifest.get("artifact", ARTIFACT_NAME)))
    except Exception as exc:  # a verified file that still fails to unpickle
        raise ArtifactError(f"{version_dir}: artifact could not be loaded ({exc}); {RETRAIN_HINT}") from exc
    if not isinstance(model, ReplyModel):
        raise ArtifactError(f"{version_dir}: artifact holds {type(model).__name__}, not a replyqa model")
    return Classifier(model, manifest)
