from pathlib import Path

import numpy as np
import pytest

from replyqa.data import Example
from replyqa.errors import DataError
from replyqa.evaluate import (
    cross_validate,
    evaluate,
    evaluate_model,
    expected_calibration_error,
    keyword_baseline,
    score,
)
from replyqa.labels import CATEGORIES
from replyqa.model import Classifier, TrainParams


def test_ece_of_perfect_and_overconfident_probabilities() -> None:
    y = np.array([0, 0, 1, 1], dtype=float)
    assert expected_calibration_error(np.array([0.0, 0.0, 1.0, 1.0]), y) == 0.0
    assert expected_calibration_error(np.array([1.0, 1.0, 1.0, 1.0]), y) == pytest.approx(0.5)


def test_score_of_perfect_predictions(examples: list[Example]) -> None:
    proba = np.zeros((len(examples), len(CATEGORIES)))
    for i, e in enumerate(examples):
        proba[i, CATEGORIES.index(e.category)] = 1.0
    m = score(examples, proba)
    assert m["binary_macro_f1"] == 1.0 and m["category_macro_f1"] == 1.0 and m["ece"] == 0.0
    assert set(m["per_lang"]) == {"en", "zh"}
    assert np.trace(np.array(m["confusion"]["matrix"])) == len(examples)
    with pytest.raises(DataError):
        score([], proba[:0])


def test_keyword_baseline_is_a_real_reference(examples: list[Example]) -> None:
    proba = keyword_baseline(["Thanks, we will investigate", "根因是驱动的采样率问题"])
    assert CATEGORIES[int(proba[0].argmax())] == "status_update"
    assert CATEGORIES[int(proba[1].argmax())] == "root_cause"


def test_model_beats_baseline_on_its_training_data(classifier: Classifier, examples: list[Example]) -> None:
    res = evaluate(classifier, examples)
    assert res["model"]["binary_macro_f1"] > res["baseline"]["binary_macro_f1"]


def test_cross_validation_is_out_of_fold(examples: list[Example]) -> None:
    m = cross_validate(examples, TrainParams(min_df=1, calibration_folds=2, char_max_features=2000), folds=2)
    assert m["n"] == len(examples) and m["folds"] == 2
    assert 0.0 <= m["binary_macro_f1"] <= 1.0


def test_evaluate_model_report_sections(classifier: Classifier, data_dir: Path, tmp_path: Path) -> None:
    report = evaluate_model(classifier, data_dir=data_dir, devset_dir=tmp_path / "missing")
    assert list(report.sections) == ["test split"]
    assert "binary_macro_f1" in report.text()
    path = report.save(tmp_path / "out")
    assert path.is_file() and path.with_suffix(".txt").is_file()
