import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import replyqa.batch as batch
from conftest import write_jsonl
from replyqa.artifacts import save
from replyqa.batch import Labeler, detect_format, label_file, label_jsonl, score_file
from replyqa.cli import main
from replyqa.errors import DataError, InvalidInputError
from replyqa.model import Classifier
from replyqa.sla import load_policy
from replyqa.transcripts import score_transcripts, transcript_from_dict

LABELS = {"quality", "category", "p_substantive", "confidence"}


@pytest.fixture()
def model_dir(classifier: Classifier, tmp_path: Path) -> Path:
    return save(classifier, tmp_path / "models", version="vtest")


def read_jsonl(path: Path) -> list[dict]:
    # Only "\n" ends a JSON Lines record; str.splitlines would also split on U+2028 inside a string.
    return [json.loads(line) for line in path.read_bytes().decode("utf-8").split("\n") if line.strip()]


def replies(n: int) -> list[dict]:
    texts = [
        "Thanks for reporting, we'll look into it.",
        "Fixed in 4.2.1, please upgrade.",
        "麻烦提供一下完整的SDK日志和复现步骤。",
        "Error 110 means the token is invalid; check the channel name.",
    ]
    return [{"id": i, "text": f"{texts[i % 4]} (ticket {i})" if i % 3 else texts[i % 4]} for i in range(n)]


def test_every_kind_of_bad_row_is_rejected_with_its_line(classifier: Classifier, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'\xef\xbb\xbf{"text": "Fixed in 4.2.1", "n": 1}\n'  # BOM on the first line is fine
        b"{broken\n"
        b"[1, 2]\n"
        b"\n"  # blank lines are not rows
        b'{"text": 5}\n'
        b'{"text": "   "}\n'
        b'{"text": "caf\xe9 bad utf-8"}\n'
        b'{"text": "Thanks, looking", "n": 2}\n'
    )
    stats = label_jsonl(classifier, src, tmp_path / "out.jsonl")
    assert (stats.read, stats.labeled, stats.rejected) == (7, 2, 5)
    assert stats.read == stats.labeled + stats.rejected
    assert [r["n"] for r in read_jsonl(tmp_path / "out.jsonl")] == [1, 2]
    rejects = read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")
    assert [r["line"] for r in rejects] == [2, 3, 5, 6, 7]
    reasons = [r["reason"] for r in rejects]
    assert reasons[0].startswith("bad JSON") and "got list" in reasons[1]
    assert "no 'text' string field" in reasons[2] and "empty" in reasons[3] and "UTF-8" in reasons[4]
    assert rejects[0]["raw"] == "{broken"


def test_input_objects_are_kept_byte_for_byte(classifier: Classifier, tmp_path: Path) -> None:
    lines = ['{"text":"Fixed in 4.2.1","x":1.0,"u":"\\u4f60"}', '{"text": "ok", "quality": "stale"}']
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\r\n", encoding="utf-8")
    label_file(classifier, src, tmp_path / "out.jsonl")
    out = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert out[0].startswith('{"text":"Fixed in 4.2.1","x":1.0,"u":"\\u4f60", "quality": ')
    relabeled = json.loads(out[1])
    assert relabeled["quality"] in ("boilerplate", "substantive") and out[1].count('"quality"') == 1


def test_distinct_normalised_texts_are_classified_once(classifier: Classifier, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = classifier.model.proba
    monkeypatch.setattr(classifier.model, "proba", lambda texts: calls.append(len(texts)) or real(texts))
    labeler = Labeler(classifier)
    first = labeler.label(["Fixed in 4.2.1", "Fixed in 4.3.0", "Fixed in 4.2.1", "Thanks!"])
    assert calls == [2]  # the two versions normalise to the same text
    assert first[0] is first[1] is first[2]
    labeler.label(["Thanks!", "Fixed in 9.9.9"])
    assert calls == [2]  # remembered across chunks
    assert labeler.distinct == 2


def test_cache_is_bounded_and_keeps_what_is_used(classifier: Classifier, monkeypatch: pytest.MonkeyPatch) -> None:
    labeler = Labeler(classifier, cache_size=4)
    canned = "Thanks for reporting, we'll look into it."
    for name in ("ana", "bo", "cy", "di", "ed", "flo", "gus", "hal"):
        labeler.label([canned, f"Thanks, {name}"])
        assert len(labeler._by_text) <= 4 and len(labeler._by_normalised) <= 4
    calls: list[int] = []
    real = classifier.model.proba
    monkeypatch.setattr(classifier.model, "proba", lambda texts: calls.append(len(texts)) or real(texts))
    labeler.label([canned])
    assert calls == []  # used all along, so never forgotten


@pytest.mark.parametrize(
    ("path", "explicit", "expected"),
    [
        ("a.jsonl", None, "jsonl"),
        ("a.NDJSON", None, "jsonl"),
        ("a.csv", None, "csv"),
        ("a.pq", None, "parquet"),
        ("-", None, "jsonl"),
        ("a.txt", "csv", "csv"),
    ],
)
def test_detect_format(path: str, explicit: str | None, expected: str) -> None:
    assert detect_format(path, explicit) == expected


def test_unknown_format_says_what_to_do() -> None:
    with pytest.raises(InvalidInputError, match="--format"):
        detect_format("a.txt")
    with pytest.raises(InvalidInputError, match="unknown format"):
        detect_format("a.csv", "xml")


def test_csv_in_keeps_columns_multiline_cells_and_rejects_ragged_rows(classifier: Classifier, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(
        "\ufeffid,body,agent\n"
        '1,"Fixed in 4.2.1.\nPlease upgrade.",ann\n'
        "2,Thanks,bob,extra\n"
        "3,,cy\n"
        '4,"您好,已收到",di\n'.encode()
    )
    out = tmp_path / "out.jsonl"
    stats = label_file(classifier, src, out, text_column="body")
    assert (stats.read, stats.labeled, stats.rejected) == (4, 2, 2)
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == ["1", "4"] and rows[0]["agent"] == "ann"
    assert rows[0]["body"] == "Fixed in 4.2.1.\nPlease upgrade."
    rejects = read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")
    assert [(r["line"], r["reason"]) for r in rejects] == [(4, "expected 3 fields, got 4"), (5, "'body' is empty")]


def test_csv_without_the_text_column_is_one_clear_error(classifier: Classifier, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,message\n1,hi\n")
    with pytest.raises(DataError, match=r"no 'text' column .*--text-column"):
        label_file(classifier, src, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_jsonl_to_csv_and_parquet_and_back(classifier: Classifier, tmp_path: Path) -> None:
    rows = [{"text": r["text"], "id": r["id"], "meta": {"k": [1]}} for r in replies(5)]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    label_file(classifier, src, tmp_path / "out.csv")
    label_file(classifier, src, tmp_path / "out.parquet")
    label_file(classifier, tmp_path / "out.csv", tmp_path / "again.jsonl")
    expected = read_jsonl(label_file(classifier, src, tmp_path / "out.jsonl").output_path)  # type: ignore[arg-type]
    from_csv = read_jsonl(tmp_path / "again.jsonl")
    assert [r["category"] for r in from_csv] == [r["category"] for r in expected]
    assert from_csv[0]["meta"] == '{"k": [1]}' and from_csv[0]["id"] == "0"
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column_names == ["text", "id", "meta", "quality", "category", "p_substantive", "confidence"]
    assert table.column("id").to_pylist() == [0, 1, 2, 3, 4]
    assert table.column("category").to_pylist() == [r["category"] for r in expected]


def test_parquet_keeps_its_types_and_rejects_null_text(classifier: Classifier, tmp_path: Path) -> None:
    table = pa.table(
        {
            "ticket": pa.array([10, 11, 12], pa.int32()),
            "reply": ["Fixed in 4.2.1", None, "Thanks, looking"],
            "score": [0.5, 1.5, 2.5],
        }
    )
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=2)
    stats = label_file(classifier, tmp_path / "in.parquet", tmp_path / "out.parquet", text_column="reply")
    assert (stats.read, stats.labeled, stats.rejected) == (3, 2, 1)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.field("ticket").type == pa.int32()
    assert out.column("ticket").to_pylist() == [10, 12]
    reject = read_jsonl(tmp_path / "out.parquet.rejects.jsonl")[0]
    assert reject["line"] == 2 and json.loads(reject["raw"])["ticket"] == 11
    with pytest.raises(DataError, match="no 'text' column"):
        label_file(classifier, tmp_path / "in.parquet", tmp_path / "x.parquet")


def test_rows_that_do_not_fit_the_output_columns_are_rejected_not_lost(classifier: Classifier, tmp_path: Path) -> None:
    rows = [{"text": "Thanks", "a": 1}, {"text": "Fixed in 4.2.1", "a": 2}, {"text": "ok", "a": 3, "late": True}]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    for name in ("out.csv", "out.parquet"):
        stats = label_file(classifier, src, tmp_path / name, chunk_size=2)
        assert (stats.read, stats.labeled, stats.rejected) == (3, 2, 1), name
        reject = read_jsonl(tmp_path / f"{name}.rejects.jsonl")[0]
        assert reject["line"] == 3 and "'late'" in reject["reason"]
        assert json.loads(reject["raw"]) == {"text": "ok", "a": 3, "late": True}


def test_stdin_to_stdout_in_a_pipe(model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lines = "\n".join(json.dumps(r) for r in replies(4)) + "\n{nope\n"
    result = CliRunner().invoke(main, ["label", "-", "-o", "-", "--model", str(model_dir), "--quiet"], input=lines)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in out] == [0, 1, 2, 3] and all(set(r) >= LABELS for r in out)
    assert read_jsonl(tmp_path / "replyqa.rejects.jsonl")[0]["line"] == 5
    csv_in = "text,id\nThanks,1\n"
    result = CliRunner().invoke(
        main, ["label", "-", "-o", "-", "--format", "csv", "--model", str(model_dir), "-q"], input=csv_in
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "text,id,quality,category,p_substantive,confidence"


def test_parquet_through_stdin_and_stdout(classifier: Classifier, tmp_path: Path) -> None:
    buf = io.BytesIO()
    pq.write_table(pa.table({"text": ["Fixed in 4.2.1", "Thanks"]}), buf)
    out = io.BytesIO()
    stats = label_file(
        classifier,
        "-",
        "-",
        input_format="parquet",
        stdin=io.BytesIO(buf.getvalue()),
        stdout=out,
        rejects=tmp_path / "r",
    )
    assert stats.labeled == 2
    assert pq.read_table(io.BytesIO(out.getvalue())).num_rows == 2


def test_cli_summary_and_max_rejects(model_dir: Path, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": "Thanks"}, "{x", "{y", {"text": "ok"}])
    out = tmp_path / "out.jsonl"
    ok = CliRunner().invoke(main, ["label", str(src), "-o", str(out), "--model", str(model_dir), "--max-rejects", "2"])
    assert ok.exit_code == 0, ok.output
    assert "read 4, labeled 2, rejected 2" in ok.stderr and "rows/s" in ok.stderr
    out.unlink()
    bad = CliRunner().invoke(main, ["label", str(src), "-o", str(out), "--model", str(model_dir), "--max-rejects", "1"])
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: gave up after 2 rejected rows") and "Traceback" not in bad.output
    assert not out.exists() and len(read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")) == 2
    assert not list(tmp_path.glob(".out.jsonl*"))


def test_progress_is_reported_and_quiet_when_piped(model_dir: Path, classifier: Classifier, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", replies(10))
    seen: list[batch.BatchProgress] = []
    label_file(classifier, src, tmp_path / "out.jsonl", chunk_size=3, progress=seen.append)
    assert [p.read for p in seen] == [3, 6, 9, 10]
    assert seen[-1].done == seen[-1].total == src.stat().st_size
    result = CliRunner().invoke(main, ["label", str(src), "-o", str(tmp_path / "o.jsonl"), "--model", str(model_dir)])
    assert "\r" not in result.stderr  # not a terminal: no progress bar, only the summary


class Interrupt(Exception):
    pass


def _interrupt_after(n: int):
    def progress(p: batch.BatchProgress) -> None:
        if p.read >= n:
            raise Interrupt

    return progress


@pytest.mark.parametrize("out_name", ["out.jsonl", "out.csv", "out.parquet"])
def test_resume_continues_without_losing_or_repeating_a_row(
    classifier: Classifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out_name: str
) -> None:
    monkeypatch.setattr(batch, "COMMIT_EVERY", 0.0)
    rows: list[object] = [*replies(23)]
    rows[4] = "{bad"
    rows[17] = {"no": "text"}
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    reference = label_file(classifier, src, tmp_path / f"ref-{out_name}", chunk_size=5)
    out = tmp_path / out_name
    with pytest.raises(Interrupt):
        label_file(classifier, src, out, chunk_size=5, progress=_interrupt_after(12))
    assert not out.exists()  # nothing half-written where the output belongs
    assert (tmp_path / f".{out_name}.checkpoint.json").is_file()
    stats = label_file(classifier, src, out, chunk_size=5, resume=True)
    assert stats.resumed_at == 15  # the last committed chunk
    assert (stats.read, stats.labeled, stats.rejected) == (reference.read, reference.labeled, reference.rejected)
    if out_name.endswith(".parquet"):
        assert pq.read_table(out).equals(pq.read_table(tmp_path / f"ref-{out_name}"))
    else:
        assert out.read_bytes() == (tmp_path / f"ref-{out_name}").read_bytes()
    assert read_jsonl(tmp_path / f"{out_name}.rejects.jsonl") == read_jsonl(tmp_path / f"ref-{out_name}.rejects.jsonl")
    assert not list(tmp_path.glob(f".{out_name}*"))


def test_resume_of_a_csv_input(classifier: Classifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "COMMIT_EVERY", 0.0)
    src = tmp_path / "in.csv"
    src.write_text("text,n\n" + "".join(f'"Thanks,\nticket {i}",{i}\n' for i in range(12)), encoding="utf-8")
    label_file(classifier, src, tmp_path / "ref.jsonl", chunk_size=4)
    with pytest.raises(Interrupt):
        label_file(classifier, src, tmp_path / "out.jsonl", chunk_size=4, progress=_interrupt_after(8))
    label_file(classifier, src, tmp_path / "out.jsonl", chunk_size=4, resume=True)
    assert (tmp_path / "out.jsonl").read_bytes() == (tmp_path / "ref.jsonl").read_bytes()


def test_resume_refuses_a_changed_input_and_starts_over_without_a_checkpoint(
    classifier: Classifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "COMMIT_EVERY", 0.0)
    src = write_jsonl(tmp_path / "in.jsonl", replies(10))
    with pytest.raises(Interrupt):
        label_file(classifier, src, tmp_path / "out.jsonl", chunk_size=3, progress=_interrupt_after(6))
    with src.open("a") as fh:
        fh.write(json.dumps({"text": "new row"}) + "\n")
    with pytest.raises(InvalidInputError, match="rerun without --resume"):
        label_file(classifier, src, tmp_path / "out.jsonl", chunk_size=3, resume=True)
    fresh = label_file(classifier, src, tmp_path / "other.jsonl", resume=True)
    assert fresh.resumed_at == 0 and fresh.labeled == 11
    with pytest.raises(InvalidInputError, match="not '-'"):
        label_file(classifier, "-", tmp_path / "x.jsonl", resume=True)


def test_a_failed_job_leaves_no_output(classifier: Classifier, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", replies(6))
    with pytest.raises(Interrupt):
        label_file(classifier, src, tmp_path / "out.jsonl", chunk_size=2, progress=_interrupt_after(2))
    assert not (tmp_path / "out.jsonl").exists()
    with pytest.raises(InvalidInputError, match="overwrite the input"):
        label_file(classifier, src, src)


def test_empty_input(classifier: Classifier, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("\n\n")
    stats = label_file(classifier, src, tmp_path / "out.jsonl")
    assert (stats.read, stats.labeled, stats.rejected, stats.rejects_path) == (0, 0, 0, None)
    assert (tmp_path / "out.jsonl").read_text() == ""
    label_file(classifier, src, tmp_path / "out.parquet")
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 0


def test_several_processes_give_the_same_output(classifier: Classifier, tmp_path: Path) -> None:
    rows: list[object] = [*replies(40)]
    rows[7] = "{bad"
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    one = label_file(classifier, src, tmp_path / "one.jsonl", chunk_size=4)
    two = label_file(classifier, src, tmp_path / "two.jsonl", chunk_size=4, jobs=2)
    assert (two.read, two.labeled, two.rejected) == (one.read, one.labeled, one.rejected)
    assert (tmp_path / "two.jsonl").read_bytes() == (tmp_path / "one.jsonl").read_bytes()


chars = st.characters(blacklist_categories=("Cs",))  # lone surrogates cannot be written as UTF-8
line_strategy = st.one_of(
    st.builds(
        lambda t, n: json.dumps({"text": t, "n": n}, ensure_ascii=False), st.text(chars, max_size=30), st.integers()
    ),
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
        max_size=20,
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_strategy, max_size=12))
def test_read_is_always_labeled_plus_rejected(classifier: Classifier, tmp_path: Path, lines: list[str]) -> None:
    src = tmp_path / "prop.jsonl"
    src.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "prop-out.jsonl"
    stats = label_file(classifier, src, out, chunk_size=5)
    assert stats.read == sum(bool(line.strip()) for line in lines)
    assert stats.read == stats.labeled + stats.rejected
    labeled = read_jsonl(out)
    expected = []
    for line in lines:
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("text"), str) and obj["text"].strip():
            expected.append(obj)
    assert [{k: v for k, v in r.items() if k not in LABELS} for r in labeled] == expected


# --- scoring transcripts -------------------------------------------------------------------------------------------


def transcript(tid: str, severity: str = "P1") -> dict:
    return {
        "id": tid,
        "severity": severity,
        "vendor": "SkyMeet",
        "created_at": "2026-03-02T10:00:00Z",
        "messages": [
            {"role": "customer", "text": "Echo on Android 14", "timestamp": "2026-03-02T10:00:00Z"},
            {"role": "agent", "text": "Thanks for reporting, we'll look into it.", "timestamp": "2026-03-02T10:05:00Z"},
            {"role": "agent", "text": "Fixed in 4.2.1, please upgrade.", "timestamp": "2026-03-02T11:30:00Z"},
        ],
    }


def test_score_file_uses_the_library_measures_and_rejects_bad_transcripts(
    classifier: Classifier, tmp_path: Path
) -> None:
    policy = load_policy()
    good = transcript("T-1")
    bad_order = transcript("T-3")
    bad_order["messages"][2]["timestamp"] = "2026-03-02T09:00:00Z"
    src = write_jsonl(tmp_path / "t.jsonl", [good, "{nope", transcript("T-2", "P9"), bad_order, {"messages": []}])
    stats = score_file(classifier, policy, src, tmp_path / "scored.jsonl")
    assert (stats.read, stats.labeled, stats.rejected) == (5, 1, 4)
    scored = read_jsonl(tmp_path / "scored.jsonl")
    direct = score_transcripts([transcript_from_dict(good)], classifier, policy)[0].to_dict()
    assert scored[0] == {**direct, "created_at": "2026-03-02T10:00:00+00:00"}
    rejects = read_jsonl(tmp_path / "scored.jsonl.rejects.jsonl")
    assert [r["line"] for r in rejects] == [2, 3, 4, 5]
    assert "unknown severity 'P9'" in rejects[1]["reason"] and "earlier than" in rejects[2]["reason"]


def test_score_cli(model_dir: Path, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "t.jsonl", [transcript("T-1"), transcript("T-2", "urgent")])
    policy = tmp_path / "sla.toml"
    policy.write_text('[severities.P1]\nfirst_response = "1m"\nfirst_substantive_response = "1m"\n')
    out = tmp_path / "scored.jsonl"
    result = CliRunner().invoke(
        main, ["score", str(src), "-o", str(out), "--policy", str(policy), "--model", str(model_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "read 2, scored 1, rejected 1" in result.stderr
    row = read_jsonl(out)[0]
    assert row["sla"]["first_response"]["state"] == "breached" and row["vendor"] == "SkyMeet"
    assert [m.get("category") is not None for m in row["messages"]] == [False, True, True]
    bad = CliRunner().invoke(main, ["score", str(src), "-o", str(out), "--policy", str(tmp_path / "none.toml")])
    assert bad.exit_code == 1 and "does not exist" in bad.stderr
    bad_time = CliRunner().invoke(
        main, ["score", str(src), "-o", str(out), "--as-of", "noon", "--model", str(model_dir)]
    )
    assert bad_time.exit_code == 1 and "--as-of" in bad_time.stderr


def test_progress_line_on_a_terminal_shows_rate_and_eta() -> None:
    from replyqa.cli.batch import ProgressLine

    out = io.StringIO()
    bar = ProgressLine(enabled=True, stream=out)
    bar(batch.BatchProgress(read=5000, labeled=4990, rejected=10, done=250, total=1000, elapsed=2.0))
    text = out.getvalue()
    assert text.startswith("\r[######") and "25.0%" in text and "5,000 rows" in text and "2,500/s" in text
    assert "ETA 0:00:06" in text
    bar.close()
    assert out.getvalue().endswith("\r")
    silent = io.StringIO()
    ProgressLine(enabled=False, stream=silent)(batch.BatchProgress(1, 1, 0, 1, None, 1.0))
    assert silent.getvalue() == ""


def test_ctrl_c_says_how_to_resume(model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "label_file", interrupted)
    src = write_jsonl(tmp_path / "in.jsonl", replies(2))
    result = CliRunner().invoke(main, ["label", str(src), "-o", str(tmp_path / "o.jsonl"), "--model", str(model_dir)])
    assert result.exit_code == 130
    assert "interrupted; run the same command with --resume to continue" in result.stderr
