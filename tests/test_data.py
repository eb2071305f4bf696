from pathlib import Path

import pytest

from conftest import write_jsonl
from replyqa.data import (
    check,
    example_from_record,
    fingerprint,
    near_duplicate_pairs,
    read_examples,
    split_by_group,
)
from replyqa.errors import DataError

GOOD = {"id": "a", "text": "Fixed in 4.2.1, please upgrade.", "category": "solution", "lang": "en", "domain": "rtc"}


def test_record_validation_errors_say_what_is_wrong() -> None:
    with pytest.raises(DataError, match="unknown category 'nice'"):
        example_from_record({**GOOD, "category": "nice"})
    with pytest.raises(DataError, match="contradicts category"):
        example_from_record({**GOOD, "quality": "boilerplate"})
    with pytest.raises(DataError, match="non-empty"):
        example_from_record({**GOOD, "text": "   "})
    with pytest.raises(DataError, match="unknown lang"):
        example_from_record({**GOOD, "lang": "fr"})
    with pytest.raises(DataError, match="JSON object"):
        example_from_record(["x"])
    assert example_from_record(GOOD).quality == "substantive"


def test_read_examples_reports_file_and_line_of_bad_json(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [GOOD, "{not json"])
    with pytest.raises(DataError, match=r"x\.jsonl:2: bad JSON"):
        read_examples(path)


def test_check_collects_every_problem_with_its_line(tmp_path: Path) -> None:
    rows = [
        GOOD,
        "{oops",
        {**GOOD, "id": "b", "category": "nope", "text": "something else entirely here"},
        {**GOOD, "id": "c", "quality": "boilerplate", "text": "another distinct reply text"},
        {**GOOD, "id": "d", "text": ""},
        {**GOOD, "id": "a", "text": "a reply with a reused id but new words"},
        {**GOOD, "id": "e"},  # exact duplicate text of the first
    ]
    report = check(write_jsonl(tmp_path / "bad.jsonl", rows))
    messages = [(i.line, i.message) for i in report.issues]
    assert any(line == 2 and "bad JSON" in m for line, m in messages)
    assert any(line == 3 and "unknown category" in m for line, m in messages)
    assert any(line == 4 and "contradicts" in m for line, m in messages)
    assert any(line == 5 and "non-empty" in m for line, m in messages)
    assert any(line == 6 and "duplicate id" in m for line, m in messages)
    assert len(report.exact_duplicates) == 1
    assert not report.ok


def test_near_duplicates_are_found_and_distinct_texts_are_not() -> None:
    texts = [
        "Please upgrade to 4.2.1, the crash on Pixel 8 is fixed there. Let us know if it persists.",
        "Please upgrade to 4.2.2, the crash on Pixel 8 is fixed there. Let us know if it persists!",
        "根因是该机型系统音频驱动在通话模式下采样率被强制改为16k。",
        "Could you share the log from the receiving device around the join?",
    ]
    pairs = near_duplicate_pairs(texts)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1)]
    assert pairs[0][2] >= 0.8


def test_check_passes_clean_data(tmp_path: Path) -> None:
    rows = [
        GOOD,
        {**GOOD, "id": "b", "text": "请发一下完整的 SDK 日志。", "category": "info_request", "lang": "zh"},
    ]
    report = check(write_jsonl(tmp_path / "ok.jsonl", rows))
    assert report.ok, report.issues


def test_split_keeps_groups_whole_and_is_stratified(examples: list) -> None:
    many = [
        example_from_record({**e.to_record(), "id": f"{e.id}-{k}", "group": f"{e.group}-{k // 2}"})
        for e in examples
        for k in range(6)
    ]
    train, test = split_by_group(many, test_fraction=0.25)
    assert not {e.group for e in train} & {e.group for e in test}
    assert 0.15 < len(test) / len(many) < 0.35
    assert {e.category for e in test} == {e.category for e in many}


def test_fingerprint_ignores_order_but_not_labels(examples: list) -> None:
    assert fingerprint(examples) == fingerprint(list(reversed(examples)))
    changed = [
        example_from_record({**examples[0].to_record(), "category": "deflection", "quality": None}),
        *examples[1:],
    ]
    assert fingerprint(changed) != fingerprint(examples)


def test_minimal_pairs_in_one_group_are_contrasts_not_duplicates(tmp_path: Path) -> None:
    body = "Thanks for the detailed report and the logcat, the camera crash on Pixel 8 with Android 14 "
    fixed = body + "is fixed in 4.2.1."
    later = body + "will be fixed in 4.2.1."
    rows = [
        {"id": "a", "text": fixed, "category": "solution", "lang": "en", "group": "g1"},
        {"id": "b", "text": later, "category": "status_update", "lang": "en", "group": "g1"},
        {
            "id": "c",
            "text": later.replace("detailed", "detail"),
            "category": "status_update",
            "lang": "en",
            "group": "g2",
        },
    ]
    report = check(write_jsonl(tmp_path / "pairs.jsonl", rows))
    assert [(a[-1], b[-1]) for a, b, _ in report.contrast_pairs] == [("1", "2")]
    assert [(a[-1], b[-1]) for a, b, _ in report.near_duplicates] == [("2", "3")]  # same label, other group
    assert not report.ok


def test_holdout_is_a_stable_fifth_of_feedback_groups() -> None:
    from replyqa.data import in_holdout

    examples = [example_from_record({**GOOD, "id": f"f{i}", "group": f"g{i // 2}"}) for i in range(4000)]
    held = [e for e in examples if in_holdout(e)]
    assert 0.17 < len(held) / len(examples) < 0.23
    assert held == [e for e in examples if in_holdout(e)]  # deterministic
    by_group = {}
    for e in examples:
        by_group.setdefault(e.group, set()).add(in_holdout(e))
    assert all(len(v) == 1 for v in by_group.values())  # variants of one case stay together


def test_load_split_trains_on_feedback_minus_the_held_aside_slice(data_dir: Path) -> None:
    from replyqa.data import in_holdout, load_feedback_holdout, load_split, read_feedback
    from replyqa.feedback import add_feedback

    samples = [(i, {"text": f"Set bufferSize to {i} ms before joining.", "category": "solution"}) for i in range(40)]
    add_feedback(samples, data_dir)
    feedback = read_feedback(data_dir)
    holdout = load_feedback_holdout(data_dir)
    train, _ = load_split(data_dir)
    base, _ = load_split(data_dir, with_feedback=False)
    assert len(feedback) == 40 and 0 < len(holdout) < 40
    assert all(in_holdout(e) for e in holdout)
    assert {e.id for e in train} == {e.id for e in base} | {e.id for e in feedback if not in_holdout(e)}
    assert not {e.id for e in holdout} & {e.id for e in train}
