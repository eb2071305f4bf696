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


def test_nested_subsets_grow_by_whole_groups(examples: list[Example]) -> None:
    import itertools

    from replyqa.evaluate import nested_subsets

    subsets = nested_subsets(examples, [0.5, 0.25, 1.0])
    sizes = [len(s) for s in subsets]
    assert sizes == sorted(sizes) and sizes[-1] == len(examples) and sizes[0] >= 0.25 * len(examples)
    for small, big in itertools.pairwise(subsets):
        assert {e.id for e in small} <= {e.id for e in big}


def test_learning_curve_scores_growing_fractions(examples: list[Example]) -> None:
    from replyqa.evaluate import format_curve, learning_curve

    messages: list[str] = []
    params = TrainParams(min_df=1, calibration_folds=2)
    points = learning_curve(examples, examples[::2], params, fractions=(0.02, 0.5, 1.0), progress=messages.append)
    assert [p["fraction"] for p in points] == [0.5, 1.0]  # 2% is one example: skipped, and said so
    assert "skipping 2%" in messages[0]
    assert points[-1]["n_train"] == len(examples) and 0 <= points[0]["binary_macro_f1"] <= 1
    text = format_curve(points)
    assert "learning curve" in text and "last step" in text and "F1 zh" in text


def test_evaluate_model_with_curve(classifier: Classifier, data_dir: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from replyqa.artifacts import save
    from replyqa.cli import main

    model = save(classifier, tmp_path / "models", version="vc")
    args = ["evaluate", "--curve", "--model", str(model), "--data", str(data_dir), "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(main, [*args, "--devset", str(tmp_path / "none")])
    assert result.exit_code == 0, result.output
    assert "== learning curve (scored on the test split) ==" in result.output
    saved = (tmp_path / "r" / "evaluation-vc.json").read_text()
    assert '"learning curve"' in saved
