import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_jsonl
from replyqa import feedback as feedback_module
from replyqa.cli import main
from replyqa.data import FEEDBACK_DIR, dedup_key, read_feedback
from replyqa.errors import DataError
from replyqa.feedback import add_feedback, feedback_id, iter_samples, labeled_index, prepare, redact

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def stored_records(data_dir: Path) -> list[dict]:
    out = []
    for path in sorted((data_dir / FEEDBACK_DIR).glob("*.jsonl")):
        out += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


@pytest.mark.parametrize(
    ("text", "expected", "kinds"),
    [
        ("Mail me at john.doe+rtc@corp.example.com.", "Mail me at [email].", ["email"]),
        ("Call +86 138 1234 5678 or 13812345678.", "Call [phone] or [phone].", ["phone"]),
        (
            "US desk: (555) 123-4567, 555-123-4567; 北京 010-12345678",
            "US desk: [phone], [phone]; 北京 [phone]",
            ["phone"],
        ),
        ("Authorization: Bearer abcdefgh12345678", "Authorization: Bearer [secret]", ["secret"]),
        ("token: 007eJxTYBBa1234abcd, password=hunter22", "token: [secret], password=[secret]", ["secret"]),
        ("密钥：abc123def456ghi", "密钥：[secret]", ["secret"]),
        ("keys AKIAABCDEFGHIJKLMNOP sk_live_abcdef123456", "keys [secret] [secret]", ["secret"]),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghijk", "jwt [secret]", ["secret"]),
        ("appId=a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", "appId=[secret]", ["secret"]),
    ],
)
def test_redact_removes_personal_data_and_secrets(text: str, expected: str, kinds: list[str]) -> None:
    assert redact(text) == (expected, kinds)


@pytest.mark.parametrize(
    "text",
    [
        "Error 110 at 2024-03-01 12:00:00 in 4.2.1, code -1004, uid 12345, ts 1712345678, host 192.168.1.100",
        "Set AUDIO_PROFILE_MUSIC_HIGH_QUALITY_STEREO and call setParameters('{\"che.audio.enable.aec\":true}')",
        "token = buildToken(appId, appCertificate, channel, uid, expire); the token expired",
        "+1 for this, latency went up by +100 ms; see #412 and @kevin",
        "根因是该机型系统音频驱动在通话模式下采样率被强制改为 16k，导致重采样错位。",
    ],
)
def test_redact_keeps_what_makes_a_reply_substantive(text: str) -> None:
    assert redact(text) == (text, [])


def test_prepare_validates_against_the_label_spec() -> None:
    with pytest.raises(DataError, match="unknown category 'nice'"):
        prepare({"text": "Fixed in 4.2.1", "category": "nice"})
    with pytest.raises(DataError, match="contradicts"):
        prepare({"text": "Fixed in 4.2.1", "category": "solution", "quality": "boilerplate"})
    with pytest.raises(DataError, match="needs_review"):
        prepare({"text": "Fixed in 4.2.1", "category": "solution", "needs_review": True})
    with pytest.raises(DataError, match="non-empty"):
        prepare({"text": "", "category": "solution"})
    ex, kinds, source_id = prepare(
        {"text": "请联系 a@b.com，4.2.1 已修复", "category": "solution", "id": "mine-1", "domain": "", "lang": None}
    )
    assert ex.lang == "zh" and ex.domain == "other" and kinds == ["email"] and source_id == "mine-1"
    assert "a@b.com" not in ex.text and ex.id == feedback_id(ex.text) and ex.group == ex.id


def test_add_feedback_reports_every_sample(data_dir: Path) -> None:
    corpus_text = json.loads((data_dir / "train.jsonl").read_text(encoding="utf-8").splitlines()[0])["text"]
    items = [
        (1, {"text": "Set the sample rate to 48k before joinChannel.", "category": "solution", "id": "T-9"}),
        (2, {"text": "set the sample rate to 48k   before joinChannel.", "category": "solution"}),  # same, spaced
        (3, {"text": "Set the sample rate to 48k before joinChannel.", "category": "diagnosis"}),  # conflict in batch
        (4, {"text": corpus_text.upper(), "category": "acknowledgement"}),  # in the corpus already
        (5, {"text": corpus_text, "category": "solution"}),  # contradicts the corpus
        (6, {"text": "Write to me: dev@vendor.io", "category": "deflection"}),
        (7, DataError("in.jsonl:7: bad JSON")),
        (8, {"text": "ok", "category": "praise"}),
    ]
    report = add_feedback(items, data_dir, source="test", now=NOW)
    assert [e.text for e in report.accepted] == [
        "Set the sample rate to 48k before joinChannel.",
        "Write to me: [email]",
    ]
    assert [d.position for d in report.duplicates] == [2, 4]
    assert "already labeled at test.jsonl:1 (id t0)" in report.duplicates[1].reason
    assert [r.position for r in report.rejected] == [3, 5, 7, 8]
    assert "conflicts with" in report.rejected[1].reason and "'acknowledgement'" in report.rejected[1].reason
    assert report.redacted == 1 and report.path == data_dir / FEEDBACK_DIR / "feedback-20261125.jsonl"
    stored = stored_records(data_dir)
    assert [r["source_id"] for r in stored if "source_id" in r] == ["T-9"]
    assert stored[1]["redacted"] == ["email"] and stored[1]["source"] == "test"
    assert stored[0]["quality"] == "substantive" and stored[0]["added"] == "2026-11-25T10:00:00+00:00"
    # Earlier feedback counts as labeled: sending the same sample again stores nothing.
    again = add_feedback([(1, items[0][1])], data_dir, now=NOW)
    assert not again.accepted and "feedback/feedback-20261125.jsonl:1" in again.duplicates[0].reason
    assert len(stored_records(data_dir)) == 2


def test_appends_are_fsynced(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(feedback_module.os, "fsync", spy)
    add_feedback([(1, {"text": "Fixed in 9.9.9", "category": "solution"})], data_dir, now=NOW)
    assert synced


def test_a_half_written_line_is_ignored_then_cut_off(data_dir: Path) -> None:
    add_feedback([(1, {"text": "Fixed in 9.9.9", "category": "solution"})], data_dir, now=NOW)
    path = data_dir / FEEDBACK_DIR / "feedback-20261125.jsonl"
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"text": "crashed mid-wri')  # a writer died here
    assert [e.text for e in read_feedback(data_dir)] == ["Fixed in 9.9.9"]
    add_feedback([(1, {"text": "Fixed in 9.9.10", "category": "solution"})], data_dir, now=NOW)
    assert [r["text"] for r in stored_records(data_dir)] == ["Fixed in 9.9.9", "Fixed in 9.9.10"]


def test_a_complete_last_line_without_newline_is_kept(data_dir: Path) -> None:
    folder = data_dir / FEEDBACK_DIR
    folder.mkdir()
    record = {"text": "Fixed in 7.7.7", "category": "solution", "lang": "en", "id": "x1"}
    (folder / "feedback-20261125.jsonl").write_text(json.dumps(record), encoding="utf-8")
    assert [e.id for e in read_feedback(data_dir)] == ["x1"]
    add_feedback([(1, {"text": "Fixed in 7.7.8", "category": "solution"})], data_dir, now=NOW)
    assert [r["text"] for r in stored_records(data_dir)] == ["Fixed in 7.7.7", "Fixed in 7.7.8"]


WORKER = """
import sys
from replyqa.feedback import add_feedback
data_dir, worker = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()  # start together with the other writers
for i in range(20):
    add_feedback(
        [
            (0, {"text": f"worker {worker} reply {i}: set bufferSize to {i} ms", "category": "solution"}),
            (1, {"text": f"shared reply {i}: error {i} means the token expired", "category": "diagnosis"}),
        ],
        data_dir,
        source=f"w{worker}",
    )
"""


@pytest.mark.slow
def test_concurrent_writers_lose_nothing_and_store_nothing_twice(data_dir: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(data_dir), str(w)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for w in range(2)
    ]
    for p in procs:  # imports done: what follows is only the writing
        assert p.stdout is not None and p.stdout.readline() == b"ready\n"

    def thread_writer(worker: int) -> None:
        for i in range(20):
            add_feedback(
                [
                    (0, {"text": f"worker {worker} reply {i}: set bufferSize to {i} ms", "category": "solution"}),
                    (1, {"text": f"shared reply {i}: error {i} means the token expired", "category": "diagnosis"}),
                ],
                data_dir,
                source=f"t{worker}",
            )

    threads = [threading.Thread(target=thread_writer, args=(w,)) for w in range(2, 4)]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(b"go\n")
        p.stdin.flush()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
    texts = [r["text"] for r in stored_records(data_dir)]
    expected = {f"worker {w} reply {i}: set bufferSize to {i} ms" for w in range(4) for i in range(20)}
    expected |= {f"shared reply {i}: error {i} means the token expired" for i in range(20)}
    assert sorted(texts) == sorted(expected)  # every sample once: none lost, none doubled
    assert len(read_feedback(data_dir)) == len(expected)


def test_labeled_index_sees_corpus_and_feedback_not_drafts(data_dir: Path) -> None:
    drafts = data_dir / "drafts"
    drafts.mkdir()
    write_jsonl(drafts / "d.jsonl", [{"text": "draft only", "category": "solution"}])
    add_feedback([(1, {"text": "Fixed in 9.9.9", "category": "solution"})], data_dir, now=NOW)
    index = labeled_index(data_dir)
    assert dedup_key("Fixed in 9.9.9") in index and dedup_key("draft only") not in index
    assert index[dedup_key("Fixed in 9.9.9")].where == "feedback/feedback-20261125.jsonl:1"
    assert labeled_index(data_dir / "missing") == {}


def test_iter_samples_reads_csv_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text('text,category\n"two\nlines",solution\nhello,acknowledgement\n', encoding="utf-8")
    assert [(pos, rec["category"]) for pos, rec in iter_samples(path)] == [(3, "solution"), (4, "acknowledgement")]
    (tmp_path / "bad.csv").write_text("body,category\nx,solution\n", encoding="utf-8")
    with pytest.raises(DataError, match="no 'text' column"):
        list(iter_samples(tmp_path / "bad.csv"))


def test_cli_feedback_add(data_dir: Path, tmp_path: Path) -> None:
    src = write_jsonl(
        tmp_path / "corrections.jsonl",
        [
            {"text": "Fixed in 4.9.1; write to ops@vendor.io if not", "category": "solution"},
            "{broken",
            {"text": "thanks", "category": "nope"},
        ],
    )
    result = CliRunner().invoke(main, ["feedback", "add", str(src), "--data", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "accepted 1" in result.output and "2 rejected" in result.output and "1 redacted" in result.output
    assert "line 2: " in result.output and "line 3: unknown category 'nope'" in result.output
    rejects = [json.loads(line) for line in (tmp_path / "corrections.jsonl.rejects.jsonl").read_text().splitlines()]
    assert [r["position"] for r in rejects] == [2, 3]
    assert stored_records(data_dir)[0]["source"] == "cli:corrections.jsonl"
    missing = CliRunner().invoke(main, ["feedback", "add", str(tmp_path / "nope.jsonl"), "--data", str(data_dir)])
    assert missing.exit_code == 1 and missing.output.startswith("error: ") and "no such file" in missing.output
