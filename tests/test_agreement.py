import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_jsonl
from replyqa.agreement import agreement, cohen_kappa, read_labels
from replyqa.cli import main
from replyqa.errors import DataError


def test_cohen_kappa_matches_the_textbook() -> None:
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15 -> po 0.7, pe 0.5, kappa 0.4.
    a = ["y"] * 20 + ["y"] * 5 + ["n"] * 10 + ["n"] * 15
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a, a) == 1.0
    assert cohen_kappa(["x", "x"], ["x", "x"]) == 1.0  # one shared label: perfect, not 0/0
    assert cohen_kappa([], []) == 0.0
    with pytest.raises(DataError):
        cohen_kappa(["a"], [])


A = [
    {"id": "1", "text": "Fixed in 4.2.1, please upgrade.", "category": "solution"},
    {"id": "2", "text": "Thanks, looking.", "category": "acknowledgement"},
    {"id": "3", "text": "Error 110 means the token expired.", "category": "diagnosis"},
    {"id": "4", "text": "Please send the full log.", "category": "info_request"},
    {"id": "5", "text": "Only in A.", "category": "status_update"},
    {"id": "6", "text": "Blank label.", "category": ""},
]
B = [
    {"id": "1", "text": "Fixed in 4.2.1, please upgrade.", "category": "solution"},
    {"id": "2", "text": "Thanks, looking.", "category": "status_update"},
    {"id": "3", "text": "Error 110 means the token expired.", "category": "root_cause"},
    {"id": "4", "text": "Please send the full log.", "category": "diagnosis"},
    {"id": "7", "text": "Only in B.", "quality": "boilerplate"},
    {"id": "1", "text": "labeled twice", "category": "solution"},
]


def test_agreement_by_id(tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", A)
    b = write_jsonl(tmp_path / "b.jsonl", B)
    result = agreement(a, b)
    assert (result.n, result.only_a, result.only_b) == (4, 1, 1)
    assert result.binary_observed == pytest.approx(0.75) and result.category_observed == pytest.approx(0.25)
    assert [r.reason for r in result.skipped_a] == ["no label (category or quality is blank)"]
    assert "labeled twice (first at line 1)" in result.skipped_b[0].reason
    assert result.per_category["solution"] == {"a": 1, "b": 1, "both": 1, "agreement": 1.0, "kappa": 1.0}
    assert result.per_category["diagnosis"]["agreement"] == 0.0
    assert result.confusion["acknowledgement"]["status_update"] == 1
    # The quality disagreement (info_request vs diagnosis) is listed first.
    assert [(d["a"], d["b"]) for d in result.disagreements] == [
        ("info_request", "diagnosis"),
        ("acknowledgement", "status_update"),
        ("diagnosis", "root_cause"),
    ]
    text = result.text()
    assert "Cohen's kappa" in text and "disagreements (3, showing 3)" in text


def test_agreement_by_text_and_quality_only_labels(tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", [{k: v for k, v in r.items() if k != "id"} for r in A[:4]])
    b = write_jsonl(tmp_path / "b.jsonl", [{"text": r["text"].upper(), "quality": "substantive"} for r in A[:4]])
    result = agreement(a, b)
    assert result.n == 4 and result.n_category == 0 and result.binary_observed == 0.5
    assert [d["b"] for d in result.disagreements] == ["substantive", "substantive"]


def test_read_labels_rejects_bad_records(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "x.jsonl",
        [
            "{broken",
            {"text": "a", "category": "nice"},
            {"text": "b", "quality": "meh"},
            {"text": "c", "category": "solution", "quality": "boilerplate"},
            {"category": "solution"},
            {"text": "ok", "category": "solution"},
        ],
    )
    labels, skipped = read_labels(path, by="text")
    assert len(labels) == 1 and [r.position for r in skipped] == [1, 2, 3, 4, 5]


def test_cli_agreement(tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", A)
    b = write_jsonl(tmp_path / "b.jsonl", B)
    result = CliRunner().invoke(main, ["agreement", str(a), str(b), "--show", "1"])
    assert result.exit_code == 0, result.output
    assert "matched 4 replies" in result.output and "showing 1" in result.output
    as_json = json.loads(CliRunner().invoke(main, ["agreement", str(a), str(b), "--json"]).output)
    assert as_json["n"] == 4 and len(as_json["disagreements"]) == 3
    other = write_jsonl(tmp_path / "c.jsonl", [{"id": "z", "text": "nothing shared", "category": "solution"}])
    none = CliRunner().invoke(main, ["agreement", str(a), str(other)])
    assert none.exit_code == 1 and none.output.startswith("error: the two label sets share no reply")
