"""The committed corpus passes `replyqa data check` and keeps the counts issue 3 asks for."""

from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from replyqa.cli import main
from replyqa.config import Settings
from replyqa.data import Example, load_split, overlap_pairs
from replyqa.labels import CATEGORIES

DATA = Path(__file__).resolve().parents[1] / "data" / "labeled"
DEVSET = Settings().devset_dir  # ../shared/devset beside the clone, or REPLYQA_DEVSET_DIR


@pytest.fixture(scope="module")
def corpus() -> tuple[list[Example], list[Example]]:
    return load_split(DATA, with_feedback=False)


def test_data_check_passes_on_the_corpus() -> None:
    result = CliRunner().invoke(main, ["data", "check", str(DATA)])
    assert result.exit_code == 0, result.output[-2000:]
    # The corpus folder holds train.jsonl and test.jsonl: pairs across the splits are checked too.
    assert "0 errors, 0 exact and 0 near duplicate pairs" in result.output


def test_counts_and_language_mix(corpus: tuple[list[Example], list[Example]]) -> None:
    train, test = corpus
    everything = train + test
    assert len(everything) >= 2400
    per_category = Counter(e.category for e in everything)
    assert set(per_category) == set(CATEGORIES)
    assert min(per_category.values()) >= 250, per_category
    langs = Counter(e.lang for e in everything)
    assert (langs["zh"] + langs["mixed"]) / len(everything) >= 0.40
    assert langs["en"] / len(everything) >= 0.35


def test_test_split_is_fixed_grouped_and_stratified(corpus: tuple[list[Example], list[Example]]) -> None:
    train, test = corpus
    assert len(test) / (len(train) + len(test)) >= 0.20
    assert not {e.group for e in train} & {e.group for e in test}
    assert not {e.id for e in train} & {e.id for e in test}
    for category in CATEGORIES:
        for lang in ("en", "zh", "mixed"):
            assert any(e.category == category and e.lang == lang for e in test), (category, lang)


@pytest.mark.skipif(not DEVSET.is_dir(), reason="the evaluation devset (../shared/devset) is not beside this clone")
def test_no_corpus_text_is_derived_from_the_devset() -> None:
    result = CliRunner().invoke(main, ["data", "check", str(DATA), "--against", str(DEVSET)])
    assert "0 texts close to the evaluation set" in result.output, result.output[-3000:]
    assert result.exit_code == 0


def test_overlap_flags_paraphrases_and_copied_versions_only() -> None:
    # Invented reference texts (never real devset replies).
    reference = [
        "The leak in the encoder pool is fixed in 7.3.9, please upgrade and restart the worker.",
        "日志里是鉴权服务超时了，检查一下网关到 auth 的内网连通性",
    ]
    texts = [
        "the leak in the encoder pool is fixed in 7.3.9, pls upgrade and restart the worker",  # paraphrase
        "日志里是鉴权服务超时，检查一下网关到 auth 的内网连通性吧",  # paraphrase, other script
        "v7.3.9 is out, the resampler regression is gone",  # reuses a version, little else
        "The token was built for uid 0 but you join with 12345, so validation fails.",  # unrelated
        "fixed in 2.2.0, upgrade",  # same idea, own words and numbers
    ]
    flagged = {i: reason for i, _, _, reason in overlap_pairs(texts, reference)}
    assert set(flagged) == {0, 1, 2}
    assert flagged[2].startswith("reuses version 7.3.9")
