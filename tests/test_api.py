import json
import os
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import running_server
from replyqa.api import create_app
from replyqa.artifacts import save
from replyqa.config import Settings
from replyqa.model import Classifier
from replyqa.registry import set_current

TOKEN = "s3cret-token"


def make_client(classifier: Classifier | None, tmp_path: Path, **overrides: object) -> TestClient:
    s = Settings(models_dir=tmp_path / "models", watch_model=False, **overrides)  # type: ignore[arg-type]
    return TestClient(create_app(s, classifier), raise_server_exceptions=False)


@pytest.fixture()
def client(classifier: Classifier, tmp_path: Path) -> TestClient:
    with make_client(classifier, tmp_path, max_batch=5, max_text_bytes=2000, max_body_bytes=50_000) as c:
        yield c


TRANSCRIPT = {
    "id": "T-1",
    "severity": "P1",
    "messages": [
        {"role": "customer", "text": "joinChannel fails with 110", "timestamp": "2026-03-02T10:00:00Z"},
        {"role": "agent", "text": "Thanks, we'll look into it.", "timestamp": "2026-03-02T10:05:00Z"},
        {"role": "agent", "text": "Fixed in 4.2.1, please upgrade.", "timestamp": "2026-03-02T11:00:00+00:00"},
    ],
}


def test_classify_one_and_many(client: TestClient) -> None:
    r = client.post("/v1/classify", json={"text": "Fixed in 4.2.1, please upgrade."})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["predictions"]) == 1
    p = body["predictions"][0]
    assert set(p) == {"category", "quality", "p_substantive", "confidence", "model_version"}
    r = client.post("/v1/classify", json={"texts": ["请发一下日志", "Thanks!", "根因是驱动问题"]})
    assert [len(r.json()["predictions"])] == [3]


def test_classify_explain(client: TestClient) -> None:
    r = client.post("/v1/classify?explain=true", json={"text": "Thanks! The root cause is the token uid. Set uid 0."})
    exp = r.json()["predictions"][0]["explanation"]
    assert exp["sentences"] and "toward_substantive" in exp


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"text": ""}, 422, "text: is empty"),
        ({"text": "   \n"}, 422, "text: is empty"),
        ({"texts": ["ok", " "]}, 422, "texts[1]: is empty"),
        ({"texts": []}, 422, "empty"),
        ({}, 422, "exactly one of"),
        ({"text": "a", "texts": ["b"]}, 422, "exactly one of"),
        ({"text": 12}, 422, "text"),
        ({"texts": "abc"}, 422, "texts"),
        ({"text": "x", "extra": 1}, 422, "extra"),
        ({"texts": ["a"] * 6}, 413, "over the limit of 5"),
        ({"text": "é" * 1500}, 413, "text: is over the limit of 2000 bytes"),
    ],
)
def test_classify_bad_input_is_a_clear_4xx(client: TestClient, body: dict, status: int, needle: str) -> None:
    r = client.post("/v1/classify", json=body)
    assert r.status_code == status, r.text
    assert needle in r.json()["detail"]


def test_malformed_json_and_oversized_body(client: TestClient) -> None:
    r = client.post("/v1/classify", content=b'{"text": ', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_input"
    r = client.post("/v1/classify", content=b"x" * 60_000, headers={"content-type": "application/json"})
    assert r.status_code == 413

    def chunks():  # no content-length: the limit is enforced while streaming
        for _ in range(30):
            yield b"x" * 2000

    r = client.post("/v1/classify", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_score_transcript(client: TestClient) -> None:
    r = client.post("/v1/transcripts/score", json={"transcripts": [TRANSCRIPT, {**TRANSCRIPT, "id": "T-2"}]})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["id"] for x in res] == ["T-1", "T-2"]
    first = res[0]
    assert first["first_response_seconds"] == 300
    assert first["agent_messages"] == 2
    assert first["sla"]["first_response"]["state"] == "met"
    assert "quality" in first["messages"][1] and "quality" not in first["messages"][0]


def test_score_with_inline_policy(client: TestClient) -> None:
    policy = {"severities": {"gold": {"first_response": "1m"}}, "default_severity": "gold"}
    t = {k: v for k, v in TRANSCRIPT.items() if k != "severity"}
    r = client.post("/v1/transcripts/score", json={"transcripts": [t], "policy_inline": policy})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["sla"]["first_response"]["state"] == "breached"


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda t: t["messages"][0].update(role="bot"), "transcripts[0].messages[0].role"),
        (lambda t: t["messages"][1].update(timestamp="2026-03-02T10:05:00"), "transcripts[0].messages[1].timestamp"),
        (lambda t: t["messages"][2].update(timestamp="2026-03-02T09:00:00Z"), "earlier than"),
        (lambda t: t.update(severity="P9"), "unknown severity 'P9'"),
        (lambda t: t["messages"][1].update(text=" "), "messages[1].text"),
        (lambda t: t.update(messages=[]), "messages"),
    ],
)
def test_bad_transcripts_are_422_naming_the_field(client: TestClient, mutate, needle: str) -> None:
    t = json.loads(json.dumps(TRANSCRIPT))
    mutate(t)
    r = client.post("/v1/transcripts/score", json={"transcripts": [t]})
    assert r.status_code == 422, r.text
    assert needle in r.text


def test_unknown_named_policy(client: TestClient) -> None:
    r = client.post("/v1/transcripts/score", json={"transcripts": [TRANSCRIPT], "policy": "../etc/passwd"})
    assert r.status_code == 422
    r = client.post("/v1/transcripts/score", json={"transcripts": [TRANSCRIPT], "policy": "gold"})
    assert r.status_code == 422 and "no policy named 'gold'" in r.text


def test_meta_endpoints(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    info = client.get("/v1/model").json()
    assert len(info["categories"]) == 8 and info["version"] == "unsaved"
    client.post("/v1/classify", json={"text": "Fixed in 4.2.1"})
    text = client.get("/metrics").text
    assert "replyqa_requests_total" in text and "replyqa_predictions_total" in text
    assert 'replyqa_model_info{version="unsaved"} 1.0' in text
    assert 'path="/v1/classify"' in text


def test_no_model_means_503_not_500(tmp_path: Path) -> None:
    with make_client(None, tmp_path) as c:
        assert c.get("/healthz").status_code == 200
        r = c.get("/readyz")
        assert r.status_code == 503 and "replyqa train" in r.json()["detail"]
        assert c.post("/v1/classify", json={"text": "hi"}).status_code == 503


def test_admin_reload_needs_a_token(classifier: Classifier, tmp_path: Path) -> None:
    with make_client(classifier, tmp_path) as c:
        assert c.post("/v1/admin/reload").status_code == 401  # no token configured: endpoint off
    save(classifier, tmp_path / "models", version="v1")
    set_current(tmp_path / "models", "v1")
    with make_client(classifier, tmp_path, admin_token=TOKEN) as c:
        assert c.post("/v1/admin/reload", headers={"Authorization": "Bearer nope"}).status_code == 401
        r = c.post("/v1/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200 and r.json()["current"] == "v1"
        assert c.get("/v1/model").json()["version"] == "v1"


def test_openapi_has_examples_for_every_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for name in ("ClassifyRequest", "TranscriptScoreRequest"):
        assert spec["components"]["schemas"][name].get("examples"), name
    assert "/v1/transcripts/score" in spec["paths"] and "/metrics" in spec["paths"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
transcript_like = st.fixed_dictionaries(
    {
        "transcripts": st.lists(
            st.fixed_dictionaries(
                {
                    "messages": st.lists(
                        st.dictionaries(
                            st.sampled_from(["role", "text", "timestamp", "status", "author"]),
                            st.sampled_from(
                                ["agent", "customer", "", " ", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00", "x"]
                            )
                            | json_values,
                            max_size=5,
                        ),
                        max_size=3,
                    )
                },
                optional={"severity": json_values, "created_at": json_values},
            ),
            max_size=2,
        )
    },
    optional={"policy": json_values, "policy_inline": json_values, "as_of": json_values},
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=json_values | transcript_like | st.fixed_dictionaries({}, optional={"text": json_values, "texts": json_values})
)
def test_no_client_input_causes_a_500(client: TestClient, body: object) -> None:
    for path in ("/v1/classify", "/v1/transcripts/score", "/v1/classify?explain=true"):
        r = client.post(path, json=body)
        assert r.status_code < 500, (path, body, r.text)


@pytest.mark.slow
def test_real_server_process(classifier: Classifier, tmp_path: Path) -> None:
    models = tmp_path / "models"
    save(classifier, models, version="v1")
    set_current(models, "v1")
    with running_server({"REPLYQA_MODELS_DIR": str(models)}) as base:
        r = httpx.post(f"{base}/v1/classify", json={"texts": ["Fixed in 4.2.1", "请提供日志"]}, timeout=5)
        assert r.status_code == 200 and r.json()["model_version"] == "v1"
        assert httpx.post(f"{base}/v1/classify", json={"text": ""}, timeout=5).status_code == 422


def test_named_policy_file_is_reloaded_when_edited(classifier: Classifier, tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    gold = policies / "gold.toml"
    gold.write_text('[severities.P1]\nfirst_response = "1m"\n')
    body = {"transcripts": [TRANSCRIPT], "policy": "gold"}
    with make_client(classifier, tmp_path, policies_dir=policies) as c:
        assert (
            c.post("/v1/transcripts/score", json=body).json()["results"][0]["sla"]["first_response"]["state"]
            == "breached"
        )
        gold.write_text('[severities.P1]\nfirst_response = "1h"\n')
        os.utime(gold, ns=(gold.stat().st_atime_ns, gold.stat().st_mtime_ns + 10**9))
        assert (
            c.post("/v1/transcripts/score", json=body).json()["results"][0]["sla"]["first_response"]["state"] == "met"
        )
