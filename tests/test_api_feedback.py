import json
import threading
import time
from collections import Counter
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
from replyqa.data import FEEDBACK_DIR, read_feedback
from replyqa.model import Classifier
from replyqa.registry import set_current

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_client(classifier: Classifier | None, tmp_path: Path, data_dir: Path, **overrides: object) -> TestClient:
    s = Settings(models_dir=tmp_path / "models", data_dir=data_dir, watch_model=False, **overrides)  # type: ignore[arg-type]
    return TestClient(create_app(s, classifier), raise_server_exceptions=False)


@pytest.fixture()
def client(classifier: Classifier, tmp_path: Path, data_dir: Path) -> TestClient:
    with make_client(classifier, tmp_path, data_dir, admin_token=TOKEN, max_batch=5, max_text_bytes=2000) as c:
        yield c


def test_feedback_is_off_without_a_token_and_needs_the_right_one(
    classifier: Classifier, tmp_path: Path, data_dir: Path
) -> None:
    body = {"samples": [{"text": "Fixed in 4.2.1", "category": "solution"}]}
    with make_client(classifier, tmp_path, data_dir) as c:
        r = c.post("/v1/feedback", json=body, headers=AUTH)
        assert r.status_code == 401 and "disabled" in r.json()["detail"]
    with make_client(classifier, tmp_path, data_dir, admin_token=TOKEN) as c:
        assert c.post("/v1/feedback", json=body).status_code == 401
        assert c.post("/v1/feedback", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert not (data_dir / FEEDBACK_DIR).exists()


def test_feedback_stores_redacted_and_reports_the_rest(client: TestClient, data_dir: Path) -> None:
    samples = [
        {"text": "Set bufferSize to 40 ms; questions to dev@vendor.io", "category": "solution", "id": "T-1"},
        {"text": "请先发一下日志", "category": "info_request"},
        {"text": "Set bufferSize to 40 ms; questions to dev@vendor.io", "category": "solution"},
        {"text": "ok", "category": "praise"},
        {"text": "Fixed.", "category": "solution", "quality": "boilerplate"},
    ]
    r = client.post("/v1/feedback", json={"samples": samples}, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 2 and len(body["ids"]) == 2 and body["redacted"] == 1
    assert [d["index"] for d in body["duplicates"]] == [2]
    assert [(x["index"], "category" in x["reason"]) for x in body["rejected"]] == [(3, True), (4, True)]
    stored = read_feedback(data_dir)
    assert [e.id for e in stored] == body["ids"]
    assert "dev@vendor.io" not in stored[0].text and "[email]" in stored[0].text
    assert stored[1].lang == "zh"
    again = client.post("/v1/feedback", json={"samples": samples[:1]}, headers=AUTH).json()
    assert again["accepted"] == 0 and len(again["duplicates"]) == 1


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"samples": []}, 422, "samples"),
        ({"samples": [{"text": "x"}]}, 422, "category"),
        ({"samples": [{"text": "x", "category": "solution", "extra": 1}]}, 422, "extra"),
        ({"samples": [{"text": "x", "category": "solution"}] * 6}, 413, "over the limit of 5"),
        ({"samples": [{"text": "é" * 1500, "category": "solution"}]}, 413, "samples[0].text"),
    ],
)
def test_feedback_bad_bodies_are_clear_4xx(client: TestClient, body: dict, status: int, needle: str) -> None:
    r = client.post("/v1/feedback", json=body, headers=AUTH)
    assert r.status_code == status, r.text
    assert needle in r.json()["detail"]


sample_like = st.fixed_dictionaries(
    {"text": st.text(max_size=20), "category": st.sampled_from(["solution", "diagnosis", "", "x"])},
    optional={
        "lang": st.sampled_from(["en", "zh", "fr", ""]) | st.none(),
        "domain": st.text(max_size=5) | st.none(),
        "quality": st.sampled_from(["substantive", "boilerplate", "?"]),
        "group": st.text(max_size=5),
        "context": st.text(max_size=10),
    },
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.fixed_dictionaries({"samples": st.lists(sample_like, max_size=3)}) | st.dictionaries(st.text(), st.none())
)
def test_no_feedback_body_causes_a_500(client: TestClient, body: object) -> None:
    r = client.post("/v1/feedback", json=body, headers=AUTH)
    assert r.status_code < 500, (body, r.text)


def hammer(post, stop: threading.Event, seen: Counter, failures: list) -> None:  # type: ignore[no-untyped-def]
    texts = [["Fixed in 4.2.1, please upgrade."], ["请提供日志", "Thanks, looking.", "根因是驱动问题"]]
    i = 0
    while not stop.is_set():
        try:
            r = post("/v1/classify", json={"texts": texts[i % 2]})
            if r.status_code != 200:
                failures.append((r.status_code, r.text))
            else:
                body = r.json()
                assert all(p["model_version"] == body["model_version"] for p in body["predictions"])
                seen[body["model_version"]] += 1
        except Exception as exc:  # a dropped connection or a bad body is a failure too
            failures.append(repr(exc))
        i += 1


def versions(classifier: Classifier, models: Path) -> None:
    for v in ("v1", "v2"):
        save(classifier, models, version=v)
    set_current(models, "v1")


def test_promote_under_load_fails_no_request(classifier: Classifier, tmp_path: Path, data_dir: Path) -> None:
    versions(classifier, tmp_path / "models")
    seen: Counter = Counter()
    failures: list = []
    stop = threading.Event()
    with make_client(None, tmp_path, data_dir, admin_token=TOKEN) as c:
        assert c.get("/v1/model").json()["version"] == "v1"
        threads = [threading.Thread(target=hammer, args=(c.post, stop, seen, failures)) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            for k in range(8):
                target = "v2" if k % 2 == 0 else "v1"
                time.sleep(0.05)
                set_current(tmp_path / "models", target)
                r = c.post("/v1/admin/reload", headers=AUTH)
                assert r.status_code == 200 and r.json()["current"] == target
        finally:
            time.sleep(0.05)
            stop.set()
            for t in threads:
                t.join()
        assert c.get("/v1/model").json()["version"] == "v1"
    assert not failures, failures[:3]
    assert set(seen) == {"v1", "v2"} and sum(seen.values()) > 20


@pytest.mark.slow
def test_real_server_picks_up_a_promotion_under_load(classifier: Classifier, tmp_path: Path, data_dir: Path) -> None:
    models = tmp_path / "models"
    versions(classifier, models)
    env = {"REPLYQA_MODELS_DIR": str(models), "REPLYQA_DATA_DIR": str(data_dir), "REPLYQA_ADMIN_TOKEN": TOKEN}
    seen: Counter = Counter()
    failures: list = []
    stop = threading.Event()
    with running_server(env) as base:
        try:
            clients = [httpx.Client(base_url=base, timeout=10) for _ in range(4)]
            threads = [threading.Thread(target=hammer, args=(cl.post, stop, seen, failures)) for cl in clients]
            for t in threads:
                t.start()
            # Promote by moving the pointer only: the server's watcher must notice it.
            set_current(models, "v2")
            deadline = time.monotonic() + 15
            while seen["v2"] < 20:
                assert time.monotonic() < deadline, f"the watcher did not reload: {seen}"
                time.sleep(0.1)
            # And back, through the admin endpoint.
            set_current(models, "v1")
            r = httpx.post(f"{base}/v1/admin/reload", headers=AUTH, timeout=10)
            assert r.status_code == 200 and r.json() == {"previous": "v2", "current": "v1"}
            before, deadline = seen["v1"], time.monotonic() + 15
            while seen["v1"] < before + 20:
                assert time.monotonic() < deadline, f"no requests after the reload: {seen}"
                time.sleep(0.05)
            stop.set()
            for t in threads:
                t.join()
            for cl in clients:
                cl.close()
            assert not failures, failures[:3]
            fb = httpx.post(
                f"{base}/v1/feedback",
                json={"samples": [{"text": "Fixed in 4.2.2", "category": "solution"}]},
                headers=AUTH,
            )
            assert fb.status_code == 200 and fb.json()["accepted"] == 1
            [stored] = list((data_dir / FEEDBACK_DIR).glob("*.jsonl"))
            assert json.loads(stored.read_text())["text"] == "Fixed in 4.2.2"
        finally:
            stop.set()
