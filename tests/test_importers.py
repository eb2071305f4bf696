import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from replyqa.batch import Reject
from replyqa.cli import main
from replyqa.errors import DataError, InvalidInputError
from replyqa.importers import Context, Mapping, html_to_text, import_file, iter_transcripts, to_iso
from replyqa.importers.github import severity_from_labels
from replyqa.importers.jira import adf_text
from replyqa.transcripts import transcript_from_dict

EXPORTS = Path(__file__).parent / "fixtures" / "exports"


def run(fmt: str, name: str, **kwargs: object) -> tuple[list[dict], list[Reject], Context]:
    ctx = Context()
    items = list(iter_transcripts(fmt, EXPORTS / name, ctx, **kwargs))  # type: ignore[arg-type]
    transcripts = [i for i in items if not isinstance(i, Reject)]
    for t in transcripts:
        transcript_from_dict(t)  # every transcript an importer yields is valid input for score
    return transcripts, [i for i in items if isinstance(i, Reject)], ctx


def roles(t: dict) -> list[tuple[str, str | None]]:
    return [(m["role"], m["author"]) for m in t["messages"]]


def test_zendesk_sideloaded_export() -> None:
    ts, rejects, ctx = run("zendesk", "zendesk_tickets.json")
    first, second = ts
    assert first["id"] == "48211" and first["severity"] == "high"
    assert (first["vendor"], first["team"]) == ("SkyMeet", "Audio")
    # The trigger's auto-reply and the internal note are gone; requester is the customer.
    assert roles(first) == [
        ("customer", "Li Wei"),
        ("agent", "Jordan (SkyMeet Support)"),
        ("agent", "Mei (Audio Team)"),
        ("customer", "Li Wei"),
    ]
    assert first["messages"][2]["text"].startswith("The echo comes from")  # plain_body wins over html_body
    assert second["team"] == "Platform" and second["severity"] == "urgent"
    assert "Same here!!" not in [m["text"] for m in second["messages"]]  # author not among the users
    assert ctx.stats.skipped == {"internal notes": 2, "bot messages": 1, "messages by unknown authors": 1}
    assert [(r.line, r.reason) for r in rejects] == [
        (3, "ticket 48231: no public messages left after skipping notes and bots"),
        (4, "ticket 48240.created_at: 'yesterday' is not a timestamp"),
        (5, "item 5: expected an object, got str"),
        (6, "record has no ticket id"),
        (7, "ticket 48250: 'comments' must be a list"),
    ]
    assert ctx.stats.records == 7 and ctx.stats.transcripts == 2


def test_zendesk_jsonl_with_a_users_file() -> None:
    ts, rejects, _ = run("zendesk", "zendesk_tickets.jsonl", users=EXPORTS / "zendesk_users.json")
    assert [t["id"] for t in ts] == ["50001", "50003"]
    assert ts[0]["created_at"] == "2026-03-02T09:00:00+08:00"
    assert roles(ts[1]) == [("customer", "Maria Rossi"), ("agent", "Wang (SkyMeet 技术支持)")]
    assert rejects[0].line == 2 and rejects[0].reason.startswith("bad JSON")


def test_zendesk_without_users_says_what_to_do() -> None:
    with pytest.raises(DataError, match="--users"):
        run("zendesk", "zendesk_tickets.jsonl")


def test_freshdesk() -> None:
    ts, rejects, ctx = run("freshdesk", "freshdesk_tickets.json")
    first = ts[0]
    assert (first["severity"], first["vendor"], first["team"]) == ("high", "PayNimbus", "Payments API")
    assert [m["role"] for m in first["messages"]] == ["customer", "agent", "agent", "customer"]
    solution = first["messages"][2]["text"]
    assert "raw request body" in solution and "```\nhmac(secret, request.get_data())\n```" in solution
    assert ts[1]["severity"] == "urgent"
    assert ctx.stats.skipped == {"internal notes": 1, "bot messages": 1}
    assert [(r.line, r.reason) for r in rejects] == [
        (3, "ticket 3122 conversation 0: 'incoming' must be true or false"),
        (4, "ticket 3123: 'conversations' must be a list"),
    ]


def test_jira_service_management() -> None:
    ts, rejects, ctx = run("jira", "jira_issues.json")
    first, second = ts
    assert first["id"] == "HELP-231" and first["url"] == "https://mapsly.atlassian.net/browse/HELP-231"
    assert (first["vendor"], first["team"], first["severity"]) == ("Mapsly Support", "Geocoding", "high")
    assert first["created_at"] == "2026-04-01T09:15:00+08:00"
    assert [m["role"] for m in first["messages"]] == ["customer", "agent", "agent", "customer"]
    assert "```\nGET /geocode" in first["messages"][0]["text"]  # ADF code block kept as code
    # API v2: wiki-text bodies, and the reporter is the customer without an accountType.
    assert roles(second) == [("customer", "Olu Bello"), ("agent", "Tomás (Mapsly)"), ("customer", "Olu Bello")]
    assert second["severity"] == "normal"
    assert ctx.stats.skipped == {"bot messages": 1, "internal notes": 1}
    assert [r.line for r in rejects] == [3, 4] and "is not a timestamp" in rejects[0].reason


def test_intercom() -> None:
    ts, rejects, ctx = run("intercom", "intercom_conversations.json")
    first = ts[0]
    assert first["created_at"] == datetime.fromtimestamp(1767258000, UTC).isoformat()
    assert roles(first) == [("customer", "Dana Kim"), ("agent", "Rafael"), ("customer", "Dana Kim")]
    assert "<code>" not in first["messages"][1]["text"] and "setPushToken" in first["messages"][1]["text"]
    assert "> Huawei devices" in first["messages"][2]["text"]  # quoted text marked as a quote
    assert first["severity"] == "high" and first["team"] == "5017"
    assert ts[1]["title"] == "Login with Apple fails"
    assert ctx.stats.skipped == {"bot messages": 1, "internal notes": 1}
    assert [r.line for r in rejects] == [3, 4] and "'visitor'" in rejects[0].reason


def test_github_rest_and_gh_shapes() -> None:
    ts, rejects, ctx = run("github", "github_issues.jsonl")
    rest, gh = ts
    assert rest["id"] == "skymeet/skymeet-android-sdk#812"
    assert (rest["vendor"], rest["team"], rest["severity"]) == ("skymeet", "skymeet-android-sdk", "high")
    assert roles(rest) == [
        ("customer", "devjane"),
        ("agent", "maintainer-ko"),
        ("customer", "other-user"),  # CONTRIBUTOR is not the vendor's side
        ("agent", "maintainer-ko"),
    ]
    assert "```" in rest["messages"][0]["text"]
    assert gh["severity"] == "P2" and roles(gh) == [("customer", "rn-dev"), ("agent", "sdk-owner")]
    assert ctx.stats.skipped == {"bot messages": 2}
    assert [r.line for r in rejects] == [3, 4, 5]


def test_generic_csv_with_a_column_mapping() -> None:
    mapping = Mapping.parse(
        [
            "ticket=conversation",
            "role=sender_type",
            "author=sender",
            "text=message",
            "timestamp=sent_at",
            "team=queue",
            "severity=prio",
        ],
        skip_values="internal,robot",
        timezone="Europe/Berlin",
    )
    ts, rejects, ctx = run("generic", "generic_messages.csv", mapping=mapping)
    assert [t["id"] for t in ts] == ["T-100", "T-101", "T-102"]
    t100 = ts[0]
    assert t100["messages"][0]["text"] == "Orders sync stopped after we rotated the API key.\nThe dashboard shows 401."
    assert t100["messages"][0]["timestamp"] == "2026-06-01T09:00:00+02:00"
    assert [m["role"] for m in t100["messages"]] == ["customer", "agent", "agent"]
    assert (t100["team"], t100["severity"]) == ("Integrations", "high")
    assert ctx.stats.skipped == {"notes and bot messages": 2}
    assert [(r.line, r.reason) for r in rejects] == [
        (8, "expected 7 fields, got 6"),
        (11, "ticket T-103: line 11 sent_at: 'not-a-date' is not a timestamp"),
    ]


def test_generic_unknown_role_and_missing_columns(tmp_path: Path) -> None:
    _, rejects, _ = run(
        "generic",
        "generic_messages.csv",
        mapping=Mapping.parse(
            ["ticket=conversation", "role=sender_type", "text=message", "timestamp=sent_at"], timezone="UTC"
        ),
    )
    assert any("role 'robot' is neither" in r.reason for r in rejects)
    src = tmp_path / "m.jsonl"
    src.write_text(json.dumps({"ticket_id": "A", "text": "hi"}) + "\n")
    items = list(iter_transcripts("generic", src))
    assert isinstance(items[0], Reject) and "no 'role' column (role); map it with --map role=COLUMN" in items[0].reason
    with pytest.raises(InvalidInputError, match="FIELD=COLUMN"):
        Mapping.parse(["nonsense"])
    with pytest.raises(InvalidInputError, match="time zone"):
        Mapping.parse([], timezone="Mars/Olympus")


def test_options_that_do_not_apply_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="Zendesk"):
        list(iter_transcripts("github", EXPORTS / "github_issues.jsonl", users="u.json"))
    with pytest.raises(InvalidInputError, match="unknown export format"):
        list(iter_transcripts("trello", EXPORTS / "github_issues.jsonl"))
    with pytest.raises(InvalidInputError, match="does not exist"):
        list(iter_transcripts("jira", EXPORTS / "missing.json"))


def test_vendor_and_bot_options_apply_to_every_format() -> None:
    ctx = Context(vendor="Acme", bots=frozenset({"maintainer-ko"}))
    items = [i for i in iter_transcripts("github", EXPORTS / "github_issues.jsonl", ctx) if not isinstance(i, Reject)]
    assert {t["vendor"] for t in items} == {"Acme"}
    assert "maintainer-ko" not in [m["author"] for m in items[0]["messages"]]


def test_import_cli_writes_transcripts_and_rejects(tmp_path: Path) -> None:
    out = tmp_path / "transcripts.jsonl"
    result = CliRunner().invoke(
        main, ["import", "--from", "zendesk", str(EXPORTS / "zendesk_tickets.json"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "imported 2 transcripts from 7 records" in result.stderr and "skipped 2 internal notes" in result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["48211", "48230"]
    rejects = [json.loads(line) for line in (tmp_path / "transcripts.jsonl.rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [3, 4, 5, 6, 7]
    generic = CliRunner().invoke(
        main,
        [
            "import",
            "--from",
            "generic",
            str(EXPORTS / "generic_messages.csv"),
            "-o",
            str(tmp_path / "g.jsonl"),
            "--map",
            "ticket=conversation",
            "--map",
            "role=sender_type",
            "--map",
            "text=message",
            "--map",
            "timestamp=sent_at",
            "--skip-values",
            "internal,robot",
            "--timezone",
            "UTC",
        ],
    )
    assert generic.exit_code == 0, generic.output
    assert "imported 3 transcripts" in generic.stderr
    missing = CliRunner().invoke(
        main, ["import", "--from", "zendesk", str(EXPORTS / "zendesk_tickets.jsonl"), "-o", str(out)]
    )
    assert missing.exit_code == 1 and missing.stderr.startswith("error: a Zendesk import needs the users")


def test_import_file_returns_stats(tmp_path: Path) -> None:
    stats = import_file("intercom", EXPORTS / "intercom_conversations.json", tmp_path / "t.jsonl", vendor="Pushly")
    assert (stats.transcripts, stats.rejected) == (2, 2)
    assert stats.messages == {"customer": 3, "agent": 2}
    assert all(json.loads(line)["vendor"] == "Pushly" for line in (tmp_path / "t.jsonl").read_text().splitlines())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-04-01T09:15:00.000+0800", "2026-04-01T09:15:00+08:00"),
        ("2026-04-01T01:15:00Z", "2026-04-01T01:15:00+00:00"),
        (1767258000, "2026-01-01T09:00:00+00:00"),
        (1767258000000, "2026-01-01T09:00:00+00:00"),
        ("1767258000", "2026-01-01T09:00:00+00:00"),
        ("2026-01-01 09:00:00 UTC", "2026-01-01T09:00:00+00:00"),
        (None, None),
        ("", None),
    ],
)
def test_to_iso(value: object, expected: str | None) -> None:
    assert to_iso(value, "t") == expected


def test_to_iso_refuses_what_it_cannot_place() -> None:
    with pytest.raises(InvalidInputError, match="no UTC offset"):
        to_iso("2026-01-01T09:00:00", "t")
    with pytest.raises(InvalidInputError, match="not a timestamp"):
        to_iso("soon", "t")
    with pytest.raises(InvalidInputError):
        to_iso(True, "t")


def test_html_to_text() -> None:
    body = "<p>Use <b>raw</b> bytes&nbsp;&amp; retry.</p><br><script>alert(1)</script><ul><li>one</li><li>two</li></ul>"
    assert html_to_text(body) == "Use raw bytes & retry.\n\none\n\ntwo"
    assert html_to_text("a &lt; b") == "a < b"


@given(st.text(max_size=200))
def test_html_to_text_never_fails_and_keeps_no_tags_of_its_own(text: str) -> None:
    out = html_to_text(f"<div>{text}</div>")
    assert isinstance(out, str) and "<div>" not in out


def test_adf_and_label_severities() -> None:
    doc = {
        "type": "doc",
        "content": [
            {
                "type": "paragraph",
                "content": [{"type": "text", "text": "a"}, {"type": "hardBreak"}, {"type": "text", "text": "b"}],
            },
            {"type": "blockquote", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "quoted"}]}]},
        ],
    }
    assert adf_text(doc) == "a\nb\n> quoted\n"
    assert severity_from_labels([{"name": "bug"}, {"name": "severity/critical"}]) == "urgent"
    assert severity_from_labels(["p1"]) == "P1" and severity_from_labels([]) is None
