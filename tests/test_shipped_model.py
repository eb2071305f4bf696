"""The model committed under models/ is the one the committed data and code produce."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from replyqa.artifacts import DEFAULT_MODELS_DIR, resolve, verify
from replyqa.cli import main
from replyqa.data import fingerprint, load_split
from replyqa.evaluate import evaluate
from replyqa.model import Classifier

DATA = Path(__file__).resolve().parents[1] / "data" / "labeled"
METRICS = ("n", "binary_macro_f1", "accuracy", "category_macro_f1", "substantive_recall", "ece")


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier.load()


def test_shipped_model_loads_verified(shipped: Classifier) -> None:
    manifest = verify(resolve(DEFAULT_MODELS_DIR))
    assert shipped.version == manifest["version"]
    assert manifest["artifact_bytes"] < 30_000_000


def test_fingerprint_matches_the_committed_training_data(shipped: Classifier) -> None:
    train, test = load_split(DATA, with_feedback=False)
    assert shipped.manifest["training_data"]["fingerprint"] == fingerprint(train)
    assert shipped.manifest["training_data"]["n_examples"] == len(train)
    assert shipped.manifest["test_data"]["fingerprint"] == fingerprint(test)


def test_recorded_test_metrics_are_reproduced(shipped: Classifier) -> None:
    _, test = load_split(DATA, with_feedback=False)
    now = evaluate(shipped, test)["model"]
    recorded = shipped.manifest["metrics"]["test"]
    for key in METRICS:
        assert now[key] == pytest.approx(recorded[key], abs=1e-9), key
    for lang, scores in recorded["per_lang"].items():
        assert now["per_lang"][lang]["binary_macro_f1"] == pytest.approx(scores["binary_macro_f1"], abs=1e-9)


def test_evaluate_command_prints_the_recorded_numbers(shipped: Classifier, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["evaluate", "--devset", str(tmp_path / "none"), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    recorded = shipped.manifest["metrics"]["test"]
    assert f"{'binary_macro_f1':24}{recorded['binary_macro_f1']:>10.3f}" in result.output


def test_shipped_model_meets_the_test_split_targets(shipped: Classifier) -> None:
    recorded = shipped.manifest["metrics"]["test"]
    assert recorded["binary_macro_f1"] >= 0.92
    assert recorded["category_macro_f1"] >= 0.75
    assert recorded["ece"] <= 0.05
    for lang in ("en", "zh+mixed"):
        scores = recorded["per_lang"][lang]
        assert scores["binary_macro_f1"] >= 0.92, lang
        assert scores["category_macro_f1"] >= 0.75, lang
        assert scores["ece"] <= 0.05, lang
