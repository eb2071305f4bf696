import json
from pathlib import Path

import pytest

from replyqa.artifacts import load, save, sha256_file, verify
from replyqa.errors import ArtifactError, ModelNotFoundError
from replyqa.model import Classifier
from replyqa.registry import current_version, history, list_versions, set_current


def test_round_trip_keeps_predictions_and_writes_manifest(classifier: Classifier, tmp_path: Path) -> None:
    path = save(classifier, tmp_path, version="v1", metrics={"test": {"binary_macro_f1": 1.0}})
    manifest = json.loads((path / "manifest.json").read_text())
    for key in (
        "format_version",
        "replyqa_version",
        "sklearn_version",
        "python_version",
        "training_data",
        "hyperparameters",
        "metrics",
        "artifact_sha256",
        "created",
    ):
        assert key in manifest, key
    assert manifest["artifact_sha256"] == sha256_file(path / "model.joblib")
    loaded = load(path)
    assert loaded.version == "v1"
    texts = ["Fixed in 4.2.1", "请提供日志"]
    assert loaded.predict_proba(texts).tolist() == classifier.predict_proba(texts).tolist()
    assert not list(tmp_path.glob(".*.tmp")), "no staging folder left behind"


def test_tampered_artifact_is_refused_before_unpickling(classifier: Classifier, tmp_path: Path) -> None:
    path = save(classifier, tmp_path, version="v1")
    evil = b"cos\nsystem\n(S'touch " + str(tmp_path / "pwned").encode() + b"'\ntR."
    (path / "model.joblib").write_bytes(evil)
    with pytest.raises(ArtifactError, match="does not match the manifest"):
        load(path)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("format_version", 99, "unknown artifact format"),
        ("sklearn_version", "0.1.0", "trained with scikit-learn 0.1.0"),
    ],
)
def test_incompatible_manifest_is_refused_with_a_retrain_hint(
    classifier: Classifier, tmp_path: Path, field: str, value: object, message: str
) -> None:
    path = save(classifier, tmp_path, version="v1")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest[field] = value
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match=message) as info:
        verify(path)
    assert "replyqa train" in str(info.value)


def test_missing_model_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="replyqa train"):
        load(tmp_path)
    with pytest.raises(ModelNotFoundError):
        Classifier.load(tmp_path / "nowhere")


def test_existing_version_is_not_overwritten(classifier: Classifier, tmp_path: Path) -> None:
    save(classifier, tmp_path, version="v1")
    with pytest.raises(ArtifactError, match="already exists"):
        save(classifier, tmp_path, version="v1")


def test_current_pointer_and_listing(classifier: Classifier, tmp_path: Path) -> None:
    save(classifier, tmp_path, version="v1")
    save(classifier, tmp_path, version="v2")
    assert current_version(tmp_path) is None
    set_current(tmp_path, "v2")
    assert current_version(tmp_path) == "v2"
    assert load(tmp_path).version == "v2"
    assert [(v.version, v.current) for v in list_versions(tmp_path)] == [("v1", False), ("v2", True)]
    assert history(tmp_path) == ["v2"]
