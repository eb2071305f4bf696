import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import write_jsonl
from replyqa.artifacts import save
from replyqa.cli import main
from replyqa.model import Classifier


@pytest.fixture()
def model_dir(classifier: Classifier, tmp_path: Path) -> Path:
    return save(classifier, tmp_path / "models", version="vtest")


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, (*prefix, name))
    return out


@pytest.mark.parametrize("path", _commands(main))
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    cmd = main
    for part in path:
        cmd = cmd.commands[part]  # type: ignore[attr-defined]
    if not isinstance(cmd, click.Group):
        assert "Example:" in result.output


def test_classify_prints_label_and_evidence(model_dir: Path) -> None:
    result = CliRunner().invoke(main, ["classify", "Fixed in 4.2.1, please upgrade.", "--model", str(model_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.split()[0] in ("substantive", "boilerplate")
    assert "toward substantive" in result.output and "sentences:" in result.output
    as_json = CliRunner().invoke(main, ["classify", "请提供日志", "--model", str(model_dir), "--json"])
    assert json.loads(as_json.output)["prediction"]["model_version"] == "vtest"


def test_label_keeps_every_row_in_order_and_rejects_bad_ones(model_dir: Path, tmp_path: Path) -> None:
    rows = [
        {"text": "Fixed in 4.2.1", "ticket": 1},
        "{broken",
        {"text": "Thanks, looking", "ticket": 2, "nested": {"a": [1]}},
        {"ticket": 3},
        {"text": "   ", "ticket": 4},
        {"text": "Thanks, looking", "ticket": 5},
    ]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["label", str(src), "-o", str(out), "--model", str(model_dir)])
    assert result.exit_code == 0, result.output
    labeled = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["ticket"] for r in labeled] == [1, 2, 5]
    assert labeled[1]["nested"] == {"a": [1]}
    for r in labeled:
        assert {"quality", "category", "p_substantive", "confidence"} <= set(r)
    assert labeled[1]["category"] == labeled[2]["category"]
    rejects = [json.loads(line) for line in (tmp_path / "out.jsonl.rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [2, 4, 5]
    assert "read 6, labeled 3, rejected 3" in result.output


def test_missing_model_is_one_clear_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["classify", "hi", "--model", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("error: no model in") and "Traceback" not in result.output


def test_data_check_exit_codes(data_dir: Path, tmp_path: Path) -> None:
    ok = CliRunner().invoke(main, ["data", "check", str(data_dir / "train.jsonl")])
    assert ok.exit_code == 0, ok.output
    assert "acknowledgement" in ok.output and "0 errors" in ok.output
    bad = write_jsonl(tmp_path / "bad.jsonl", ["{x", {"text": "hi", "category": "zzz"}])
    result = CliRunner().invoke(main, ["data", "check", str(bad)])
    assert result.exit_code == 1
    assert "bad.jsonl:1" in result.output and "unknown category" in result.output


def test_train_then_evaluate(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import replyqa.registry as registry
    from replyqa.model import TrainParams

    monkeypatch.setattr(registry, "TrainParams", lambda seed=0: TrainParams(min_df=1, calibration_folds=2, seed=seed))
    models = tmp_path / "models"
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--data",
            str(data_dir),
            "--models",
            str(models),
            "--devset",
            str(tmp_path / "none"),
            "--no-cv",
            "--version",
            "v1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "promoted to current" in result.output
    assert (models / "CURRENT").read_text().strip() == "v1"
    ev = CliRunner().invoke(
        main,
        [
            "evaluate",
            "--model",
            str(models),
            "--data",
            str(data_dir),
            "--devset",
            str(tmp_path / "none"),
            "--out",
            str(tmp_path / "rep"),
        ],
    )
    assert ev.exit_code == 0, ev.output
    assert "test split" in ev.output and (tmp_path / "rep" / "evaluation-v1.json").is_file()


def test_data_split_keeps_groups_apart(examples: list, tmp_path: Path) -> None:
    from replyqa.data import read_examples, write_examples

    src = tmp_path / "all.jsonl"
    write_examples(src, examples)
    result = CliRunner().invoke(
        main, ["data", "split", str(src), "--out", str(tmp_path / "out"), "--test-fraction", "0.3"]
    )
    assert result.exit_code == 0, result.output
    train, test = read_examples(tmp_path / "out" / "train.jsonl"), read_examples(tmp_path / "out" / "test.jsonl")
    assert len(train) + len(test) == len(examples) and test
    assert not {e.group for e in train} & {e.group for e in test}
