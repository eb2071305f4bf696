from datetime import datetime

import pytest

from replyqa.errors import InvalidInputError, PolicyError
from replyqa.model import Classifier, Prediction
from replyqa.sla import load_policy, parse_duration, policy_from_dict
from replyqa.transcripts import score_transcript, score_transcripts, transcript_from_dict

POLICY = load_policy()


def pred(quality: str) -> Prediction:
    cat = "solution" if quality == "substantive" else "acknowledgement"
    return Prediction(cat, quality, 0.9 if quality == "substantive" else 0.1, 0.9, "t")


def ticket(messages: list[tuple], severity: str = "P1", created_at: str | None = None) -> dict:
    out: dict = {"id": "T-1", "severity": severity, "messages": []}
    for role, ts, *rest in messages:
        m = {"role": role, "text": f"{role} says something", "timestamp": ts}
        if rest:
            m["status"] = rest[0]
        out["messages"].append(m)
    if created_at:
        out["created_at"] = created_at
    return out


def test_round_the_clock_measures_by_hand() -> None:
    t = transcript_from_dict(
        ticket(
            [
                ("customer", "2026-03-02T10:00:00+00:00"),
                ("agent", "2026-03-02T10:05:00+00:00"),  # boilerplate at +5 min
                ("agent", "2026-03-02T11:30:00+00:00"),  # substantive at +90 min
            ]
        )
    )
    s = score_transcript(t, [pred("boilerplate"), pred("substantive")], POLICY)
    assert s.first_response_seconds == 300
    assert s.first_substantive_response_seconds == 5400
    assert s.acknowledgement_gap_seconds == 5100
    assert s.boilerplate_rounds == 1 and s.boilerplate_share == 0.5
    assert s.sla["first_response"].state == "met" and s.sla["first_substantive_response"].state == "met"


def test_business_hours_skip_the_weekend() -> None:
    # Friday 17:00 UTC -> Monday 10:00 UTC: 1h on Friday + 1h on Monday.
    t = transcript_from_dict(ticket([("customer", "2026-03-06T17:00:00Z"), ("agent", "2026-03-09T10:00:00Z")], "P3"))
    s = score_transcript(t, [pred("substantive")], POLICY)
    assert s.first_response_seconds == 7200 == s.first_substantive_response_seconds


def test_holidays_and_time_zones() -> None:
    policy = policy_from_dict(
        {
            "severities": {"normal": {"first_response": "2h", "business_hours": True}},
            "business_hours": {
                "timezone": "Asia/Shanghai",
                "start": "09:00",
                "end": "18:00",
                "holidays": ["2026-03-09"],
            },
        }
    )
    # Fri 17:00 Shanghai -> Tue 10:00 Shanghai, Monday a holiday: 1h + 1h.
    t = transcript_from_dict(
        ticket([("customer", "2026-03-06T17:00:00+08:00"), ("agent", "2026-03-10T02:00:00+00:00")], "normal")
    )
    s = score_transcript(t, [pred("boilerplate")], policy)
    assert s.first_response_seconds == 7200
    assert s.sla["first_response"].state == "met"
    assert s.sla["first_substantive_response"].state == "no_target"
    assert s.first_substantive_response_seconds is None and s.boilerplate_rounds == 1


def test_waiting_on_customer_pauses_the_clock() -> None:
    t = transcript_from_dict(
        ticket(
            [
                ("customer", "2026-03-02T10:00:00Z"),
                ("agent", "2026-03-02T10:10:00Z", "pending"),  # asks for logs, clock stops
                ("customer", "2026-03-02T12:10:00Z"),  # answers two hours later
                ("agent", "2026-03-02T12:40:00Z"),
            ]
        )
    )
    s = score_transcript(t, [pred("boilerplate"), pred("substantive")], POLICY)
    assert s.first_response_seconds == 600
    assert s.first_substantive_response_seconds == 600 + 1800


def test_unanswered_ticket_is_pending_then_breached() -> None:
    t = transcript_from_dict(ticket([("customer", "2026-03-02T10:00:00Z"), ("agent", "2026-03-02T10:01:00Z")]))
    early = score_transcript(
        t, [pred("boilerplate")], POLICY, as_of=datetime.fromisoformat("2026-03-02T11:00:00+00:00")
    )
    late = score_transcript(t, [pred("boilerplate")], POLICY, as_of=datetime.fromisoformat("2026-03-02T15:00:00+00:00"))
    assert early.sla["first_substantive_response"].state == "pending"
    assert late.sla["first_substantive_response"].state == "breached"
    assert late.sla["first_response"].state == "met"


def test_created_at_starts_the_clock_and_aliases_resolve() -> None:
    t = transcript_from_dict(
        ticket(
            [("customer", "2026-03-02T10:30:00Z"), ("agent", "2026-03-02T11:00:00Z")],
            "urgent",
            created_at="2026-03-02T10:00:00Z",
        )
    )
    s = score_transcript(t, [pred("substantive")], POLICY)
    assert s.severity == "P1" and s.first_response_seconds == 3600


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t["messages"][0].update(role="bot"), r"messages\[0\]\.role"),
        (
            lambda t: t["messages"][1].update(timestamp="2026-03-02T11:00:00"),
            r"messages\[1\]\.timestamp: .* no UTC offset",
        ),
        (lambda t: t["messages"][1].update(timestamp="2026-03-02T09:00:00Z"), "earlier than the message before"),
        (lambda t: t["messages"][1].update(text="  "), r"messages\[1\]\.text"),
        (lambda t: t["messages"][1].update(timestamp="yesterday"), "not an ISO 8601"),
        (lambda t: t.update(messages=[]), "non-empty list"),
        (lambda t: t.update(created_at="2026-03-02T11:00:00Z"), "opens after its first message"),
    ],
)
def test_bad_transcripts_name_the_field(mutate, message: str) -> None:
    t = ticket([("customer", "2026-03-02T10:00:00Z"), ("agent", "2026-03-02T10:05:00Z")])
    mutate(t)
    with pytest.raises(InvalidInputError, match=message):
        transcript_from_dict(t)


def test_unknown_severity_is_a_client_error(classifier: Classifier) -> None:
    t = transcript_from_dict(ticket([("customer", "2026-03-02T10:00:00Z"), ("agent", "2026-03-02T10:05:00Z")], "P9"))
    with pytest.raises(InvalidInputError, match="unknown severity 'P9'"):
        score_transcripts([t], classifier, POLICY)


def test_score_transcripts_labels_every_agent_message(classifier: Classifier) -> None:
    ts = [
        transcript_from_dict(
            ticket(
                [
                    ("customer", "2026-03-02T10:00:00Z"),
                    ("agent", "2026-03-02T10:05:00Z"),
                    ("agent", "2026-03-02T10:09:00Z"),
                ]
            )
        )
        for _ in range(3)
    ]
    scores = score_transcripts(ts, classifier, POLICY)
    assert len(scores) == 3
    assert all("quality" in m for s in scores for m in s.messages if m["role"] == "agent")
    assert all("quality" not in m for s in scores for m in s.messages if m["role"] == "customer")


def test_policy_validation() -> None:
    assert (
        parse_duration("90m", "x") == 5400 and parse_duration("2d", "x") == 172800 and parse_duration(30, "x") == 1800
    )
    with pytest.raises(PolicyError, match="duration"):
        parse_duration("soon", "severities.P1.first_response")
    with pytest.raises(PolicyError, match="no \\[business_hours\\]"):
        policy_from_dict({"severities": {"P1": {"first_response": "1h", "business_hours": True}}})
    with pytest.raises(PolicyError, match="time zone"):
        policy_from_dict({"severities": {"P1": {}}, "business_hours": {"timezone": "Mars/Base"}})
    with pytest.raises(PolicyError, match="at least one severity"):
        policy_from_dict({})
