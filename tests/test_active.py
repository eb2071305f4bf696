import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

from conftest import write_jsonl
from replyqa.active import select_diverse, suggest, uncertainty
from replyqa.artifacts import save
from replyqa.cli import main
from replyqa.data import dedup_key
from replyqa.errors import InvalidInputError
from replyqa.feedback import add_feedback
from replyqa.labels import CATEGORIES
from replyqa.model import Classifier


def test_uncertainty_is_highest_where_the_model_cannot_decide() -> None:
    sure = np.zeros((1, len(CATEGORIES)))
    sure[0, 0] = 1.0
    even = np.full((1, len(CATEGORIES)), 1 / len(CATEGORIES))
    split = np.zeros((1, len(CATEGORIES)))
    split[0, [0, CATEGORIES.index("solution")]] = 0.5
    u = uncertainty(np.vstack([sure, even, split]))
    assert u[0] == pytest.approx(0.0, abs=1e-6)
    assert u[1] > u[2] > u[0]
    assert u[2] >= 0.5  # p_substantive exactly 0.5: the binary half is 1


def test_select_diverse_skips_near_copies() -> None:
    vectors = sp.csr_matrix(np.array([[1.0, 0.0], [0.999, 0.0447], [0.0, 1.0], [0.7071, 0.7071]]))
    scores = np.array([0.9, 0.89, 0.5, 0.4])
    assert select_diverse(scores, vectors, 3, diversity=0.0, max_similarity=1.01) == [0, 1, 2]
    picked = select_diverse(scores, vectors, 3, diversity=0.5, max_similarity=0.9)
    assert picked[0] == 0 and 1 not in picked and picked == [0, 2, 3]
    assert select_diverse(scores, vectors, 10, max_similarity=0.9) == [0, 2, 3]  # nothing else is far enough
    with pytest.raises(InvalidInputError):
        select_diverse(scores, vectors, 2, diversity=1.5)


REPLIES = [
    "Could you check whether the token was built for the same channel?",
    "Could you check whether the token was built for the same channel?!",
    "could you  check whether the token was built for the same CHANNEL?",
    "Could you check whether the token was built for the same channel name?",
    "Thanks, we will look at the logs and the version.",
    "升级到 4.2.1 之后还有问题吗？请发一下日志。",
    "The crash is in the decoder; try disabling hardware decoding.",
    "Please submit a ticket.",
    "Fixed in 4.2.1, please upgrade.",
    "Our team is checking, and it may be caused by the network.",
]


def test_suggest_prefers_uncertain_distinct_replies(classifier: Classifier) -> None:
    items = [(i + 1, {"text": t, "id": f"r{i}"}) for i, t in enumerate(REPLIES)]
    items.append((99, {"body": "no text here"}))
    report = suggest(classifier, items, n=5, exclude={dedup_key("Please submit a ticket.")})
    assert report.read == 11 and len(report.skipped) == 1 and report.skipped[0].position == 99
    assert report.duplicates == 1 and report.already_labeled == 1
    texts = [s.text for s in report.suggestions]
    assert len(texts) == 5 and len(set(texts)) == 5
    token_variants = [t for t in texts if "token was built" in t]
    assert len(token_variants) <= 1  # near-copies are not suggested together
    assert all(s.uncertainty >= 0 for s in report.suggestions)
    rec = report.suggestions[0].to_record()
    assert rec["category"] == "" and rec["needs_review"] is True and rec["id"].startswith("r")
    assert rec["suggested"]["category"] in CATEGORIES and rec["lang"] in ("en", "zh", "mixed")
    assert report.suggestions[0].to_record(prefill=True)["category"] == rec["suggested"]["category"]
    assert "suggested 5" in report.summary()


def test_suggestions_cannot_enter_training_unreviewed(classifier: Classifier, data_dir: Path) -> None:
    report = suggest(classifier, [(1, {"text": "Fixed in 4.2.1, please upgrade now."})], n=1)
    record = report.suggestions[0].to_record(prefill=True)
    result = add_feedback([(1, record)], data_dir)
    assert not result.accepted and "needs_review" in result.rejected[0].reason
    record["needs_review"] = False
    assert len(add_feedback([(1, record)], data_dir).accepted) == 1


def test_cli_suggest(classifier: Classifier, data_dir: Path, tmp_path: Path) -> None:
    model = save(classifier, tmp_path / "models", version="vs")
    src = write_jsonl(tmp_path / "replies.jsonl", [{"text": t} for t in REPLIES])
    out = tmp_path / "to_label.jsonl"
    args = ["suggest", str(src), "-n", "3", "-o", str(out), "--model", str(model), "--data", str(data_dir)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3 and all(r["needs_review"] and r["category"] == "" for r in rows)
    assert {"id", "text", "category", "lang", "domain", "suggested", "source_line"} <= set(rows[0])
    assert "suggested 3" in result.output
    stdout = CliRunner().invoke(main, ["suggest", str(src), "-n", "2", "--model", str(model), "--data", str(data_dir)])
    assert stdout.exit_code == 0 and stdout.output.count('"needs_review": true') == 2
    bad = CliRunner().invoke(main, ["suggest", str(src), "-n", "0", "--model", str(model), "--data", str(data_dir)])
    assert bad.exit_code == 1 and bad.output.startswith("error: -n must be at least 1")
