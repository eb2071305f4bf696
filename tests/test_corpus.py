"""The committed corpus passes `replyqa data check` and keeps the counts issue 3 asks for."""

from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from replyqa.cli import main
from replyqa.data import Example, load_split
from replyqa.labels import CATEGORIES

DATA = Path(__file__).resolve().parents[1] / "data" / "labeled"


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
