import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from replyqa.artifacts import resolve
from replyqa.cli import main
from replyqa.data import Example, write_examples
from replyqa.errors import QualityGateError, RegistryError
from replyqa.feedback import add_feedback
from replyqa.labels import CATEGORIES, SUBSTANTIVE_CATEGORIES
from replyqa.model import TrainParams
from replyqa.registry import (
    HISTORY_FILE,
    Gate,
    compare,
    current_version,
    format_versions,
    history,
    list_versions,
    promote,
    rollback,
    set_current,
    train_and_save,
)

PARAMS = TrainParams(min_df=1, calibration_folds=2)
STRICT = Gate(min_n=1)


def flipped(examples: list[Example]) -> list[Example]:
    """The same replies with every label moved to the other quality: a model that must lose."""
    boil = [c for c in CATEGORIES if c not in SUBSTANTIVE_CATEGORIES]
    swap = {c: (boil[i % len(boil)] if c in SUBSTANTIVE_CATEGORIES else "solution") for i, c in enumerate(CATEGORIES)}
    return [Example(e.id, e.text, swap[e.category], e.lang, e.domain, e.group, e.context) for e in examples]


def trained(data_dir: Path, models: Path, version: str, **kw: object) -> object:
    return train_and_save(
        data_dir=data_dir, models_dir=models, version=version, cv=False, params=PARAMS, gate=STRICT, **kw
    )


@pytest.fixture()
def bad_data(tmp_path: Path, data_dir: Path, examples: list[Example]) -> Path:
    """Same test split as data_dir, training labels flipped."""
    d = tmp_path / "bad"
    d.mkdir()
    # Twice over, so every class has enough members for the calibration folds.
    copies = [Example(f"{e.id}b", e.text + " ", e.category, e.lang, e.domain, f"{e.group}b") for e in examples]
    write_examples(d / "train.jsonl", flipped(examples + copies))
    (d / "test.jsonl").write_bytes((data_dir / "test.jsonl").read_bytes())
    return d


def test_first_model_is_promoted_and_an_equal_one_passes_the_gate(data_dir: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    first = trained(data_dir, models, "v1")
    assert first.promoted and current_version(models) == "v1"
    assert first.gate.current is None and first.gate.passed
    second = trained(data_dir, models, "v2")
    assert second.promoted and second.gate.current == "v1" and second.gate.passed
    assert all(c.current is not None for c in second.gate.checks)
    assert current_version(models) == "v2" and history(models) == ["v1", "v2"]
    manifest = json.loads((models / "v2" / "manifest.json").read_text())
    assert manifest["metrics"]["gate"]["passed"] is True and manifest["metrics"]["gate"]["current"] == "v1"
    second.raise_for_gate()  # nothing to raise
    assert "quality gate: v2 against current v1" in second.summary_text()


def test_a_worse_model_is_saved_but_not_promoted(data_dir: Path, bad_data: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    trained(data_dir, models, "v1")
    bad = trained(bad_data, models, "vbad")
    assert not bad.promoted and current_version(models) == "v1" and (models / "vbad").is_dir()
    failed = {c.label for c in bad.gate.failures}
    assert "test split binary_macro_f1" in failed and "test split substantive_recall" in failed
    assert "test split binary_macro_f1 [en]" in failed
    with pytest.raises(QualityGateError) as err:
        bad.raise_for_gate()
    message = str(err.value)
    assert "vbad was not promoted" in message and "worse than current v1" in message
    assert "test split binary_macro_f1" in message and "`replyqa promote vbad --force`" in message
    assert "NOT promoted" in bad.summary_text()


def test_no_promote_saves_without_gating_and_force_promotes(data_dir: Path, bad_data: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    trained(data_dir, models, "v1")
    quiet = trained(bad_data, models, "vbad", promote=False)
    assert not quiet.promoted and not quiet.gate.passed
    quiet.raise_for_gate()  # promotion was not asked for: no error
    forced = trained(bad_data, models, "vforced", force=True)
    assert forced.promoted and forced.forced and current_version(models) == "vforced"


def test_promote_gates_and_force_overrides_and_rollback_undoes(data_dir: Path, bad_data: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    trained(data_dir, models, "v1")
    trained(bad_data, models, "vbad", promote=False)
    with pytest.raises(QualityGateError, match="--force"):
        promote(models, "vbad", data_dir=data_dir, gate=STRICT)
    assert current_version(models) == "v1"
    done = promote(models, "vbad", data_dir=data_dir, force=True)
    assert done.forced and done.previous == "v1" and current_version(models) == "vbad"
    assert done.summary_text() == "current model: v1 -> vbad (--force: quality gate skipped)"
    assert promote(models, "vbad", data_dir=data_dir).summary_text() == "vbad is already current"
    back = rollback(models)
    assert (back.version, back.previous) == ("v1", "vbad") and current_version(models) == "v1"
    assert history(models) == ["v1"]
    with pytest.raises(RegistryError, match="nothing to roll back to"):
        rollback(models)
    with pytest.raises(RegistryError, match="no model version 'v9'"):
        promote(models, "v9", data_dir=data_dir)


def test_promote_passes_for_an_equal_model(data_dir: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    trained(data_dir, models, "v1")
    trained(data_dir, models, "v2", promote=False)
    result = promote(models, "v2", data_dir=data_dir, gate=STRICT)
    assert result.gate is not None and result.gate.passed and current_version(models) == "v2"


def test_rollback_skips_deleted_versions(data_dir: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    trained(data_dir, models, "v1")
    trained(data_dir, models, "v2")
    trained(data_dir, models, "v3")
    (models / HISTORY_FILE).write_text("v1\nv2\nv3\n")
    import shutil

    shutil.rmtree(models / "v2")
    assert rollback(models).version == "v1" and resolve(models) == models / "v1"


def test_a_current_model_that_cannot_load_fails_the_gate(data_dir: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    trained(data_dir, models, "v1")
    (models / "v1" / "model.joblib").write_bytes(b"tampered")
    result = trained(data_dir, models, "v2")
    assert not result.promoted and result.gate.problem and "cannot be loaded" in result.gate.problem
    with pytest.raises(QualityGateError, match="cannot compare it with the current model"):
        result.raise_for_gate()


def _scores(f1: float, recall: float, n: int = 100, langs: dict[str, tuple[float, int]] | None = None) -> dict:
    return {
        "n": n,
        "binary_macro_f1": f1,
        "substantive_recall": recall,
        "per_lang": {k: {"binary_macro_f1": v, "n": m} for k, (v, m) in (langs or {}).items()},
    }


def test_compare_applies_each_tolerance_and_skips_tiny_slices() -> None:
    gate = Gate(tolerance=0.01, lang_tolerance=0.02, recall_tolerance=0.01, min_n=20)
    current = {"test split": _scores(0.90, 0.90, langs={"en": (0.90, 50), "zh": (0.90, 10)})}
    ok = {"test split": _scores(0.89, 0.891, langs={"en": (0.881, 50), "zh": (0.5, 10)})}
    checks = compare(ok, current, gate)
    assert all(c.passed for c in checks)
    assert [c.gated for c in checks if c.lang == "zh"] == [False]  # n=10 < 20: shown, not gated
    worse = {"test split": _scores(0.90, 0.88, langs={"en": (0.87, 50), "zh": (0.9, 10)})}
    failed = [c.label for c in compare(worse, current, gate) if not c.passed]
    assert failed == ["test split substantive_recall", "test split binary_macro_f1 [en]"]
    assert all(c.passed for c in compare(worse, None, gate))  # no current model: nothing to lose


def test_holdout_feedback_is_evaluated_not_trained_on(data_dir: Path, tmp_path: Path) -> None:
    samples = [
        (i, {"text": f"Set bufferSize to {i * 10} ms before joining.", "category": "solution"}) for i in range(30)
    ]
    samples += [
        (100 + i, {"text": f"Thanks, ticket {i} is with our team now.", "category": "status_update"}) for i in range(30)
    ]
    report = add_feedback(samples, data_dir)
    held = report.held_out
    result = trained(data_dir, tmp_path / "models", "v1")
    manifest = json.loads((tmp_path / "models" / "v1" / "manifest.json").read_text())
    assert manifest["metrics"]["feedback_holdout"]["n"] == held > 0
    n_train = len((data_dir / "train.jsonl").read_text().splitlines()) + 60 - held
    assert manifest["training_data"]["n_examples"] == n_train
    assert "== feedback holdout" in result.report_text


def test_models_listing(data_dir: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    trained(data_dir, models, "v1")
    trained(data_dir, models, "v2", promote=False)
    versions = list_versions(models)
    text = format_versions(versions)
    lines = text.splitlines()
    assert lines[1].startswith("* v1") and lines[2].startswith("  v2")
    assert "test_F1" in lines[0] and "passed" in lines[2] and "en " in lines[1]
    assert "no model versions" in format_versions([])


def test_cli_gate_promote_rollback_models(data_dir: Path, bad_data: Path, tmp_path: Path, examples) -> None:
    models = tmp_path / "models"
    # Enough test examples (>= 20) for the default gate to apply.
    for d in (data_dir, bad_data):
        write_examples(d / "test.jsonl", examples)
    common = ["--models", str(models), "--devset", str(tmp_path / "none"), "--no-cv"]
    run = CliRunner().invoke
    first = run(main, ["train", "--data", str(data_dir), "--version", "v1", *common])
    assert first.exit_code == 0, first.output
    assert "promoted to current" in first.output
    bad = run(main, ["train", "--data", str(bad_data), "--version", "vbad", *common])
    assert bad.exit_code == 1
    assert "error: model vbad was not promoted" in bad.output and "replyqa promote vbad --force" in bad.output
    assert "Traceback" not in bad.output
    refused = run(main, ["promote", "vbad", "--models", str(models), "--data", str(data_dir)])
    assert refused.exit_code == 1 and "worse than current v1" in refused.output
    forced = run(main, ["promote", "vbad", "--force", "--models", str(models), "--data", str(data_dir)])
    assert forced.exit_code == 0 and "v1 -> vbad (--force" in forced.output
    listing = run(main, ["models", "--models", str(models)])
    assert listing.exit_code == 0 and "* vbad" in listing.output and "failed" in listing.output
    as_json = json.loads(run(main, ["models", "--models", str(models), "--json"]).output)
    assert [(v["version"], v["current"]) for v in as_json] == [("v1", False), ("vbad", True)]
    back = run(main, ["rollback", "--models", str(models)])
    assert back.exit_code == 0 and "vbad -> v1" in back.output
    again = run(main, ["rollback", "--models", str(models)])
    assert again.exit_code == 1 and again.output.startswith("error: nothing to roll back to")


def test_set_current_checks_the_version(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="replyqa models"):
        set_current(tmp_path, "nope")
