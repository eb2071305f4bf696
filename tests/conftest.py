"""Shared fixtures: a tiny hand-written labeled set and a classifier trained on it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from replyqa.data import Example, example_from_record, write_examples
from replyqa.model import Classifier, TrainParams, train

TINY = [
    ("acknowledgement", "en", "Thanks for reporting, we'll look into it."),
    ("acknowledgement", "en", "Got it, thank you! I'll take a look tomorrow."),
    ("acknowledgement", "zh", "您好，已收到您的反馈，我们会尽快处理。"),
    ("acknowledgement", "zh", "收到，感谢反馈，我们看一下。"),
    ("info_request", "en", "Could you please provide the full SDK log and your version?"),
    ("info_request", "en", "Please share repro steps and a screenshot."),
    ("info_request", "zh", "麻烦提供一下完整的SDK日志和复现步骤。"),
    ("info_request", "zh", "请发一下日志和版本号。"),
    ("status_update", "en", "Our engineers are still investigating, we will update you."),
    ("status_update", "en", "Escalated to the SDK team. Closing as duplicate of #412."),
    ("status_update", "zh", "已转交研发同学排查，有结论第一时间同步。"),
    ("status_update", "zh", "问题还在排查中，下个版本修复。"),
    ("generic_advice", "en", "Please try restarting the app and upgrading to the latest SDK."),
    ("generic_advice", "en", "Try clearing the cache, reinstalling, and checking your network."),
    ("generic_advice", "zh", "建议重启一下设备，清理缓存后再试。"),
    ("generic_advice", "zh", "换个网络再试试，或者升级到最新版本。"),
    ("deflection", "en", "Please submit a ticket to our support portal."),
    ("deflection", "en", "This is not an SDK issue, please contact the phone maker."),
    ("deflection", "zh", "这个不是SDK的问题，请咨询系统厂商。"),
    ("deflection", "zh", "请到工单系统提交问题，会有专人处理。"),
    (
        "diagnosis",
        "en",
        "Error 110 means the token is invalid; check the channel name used to build the token matches joinChannel.",
    ),
    (
        "diagnosis",
        "en",
        "From your log the second joinChannel happens before leaveChannel returns, which is why it fails.",
    ),
    ("diagnosis", "zh", "从日志看第二次 joinChannel 时上一个频道还没退出，请确认 leaveChannel 的回调是否已返回。"),
    ("diagnosis", "zh", "-1004 说明 token 已过期，看下服务端生成 token 的过期时间是不是太短。"),
    ("solution", "en", "Set `audioScenario` to `GameStreaming` before joining and the echo goes away."),
    ("solution", "en", "Fixed in 4.2.1, please upgrade."),
    ("solution", "zh", "4.2.1 已修复该问题，升级即可。"),
    ("solution", "zh", "在 joinChannel 之前调用 setParameters 打开硬件回声消除就可以了。"),
    (
        "root_cause",
        "en",
        "The echo comes from this phone's audio HAL reporting hardware AEC it does not have, so the SDK disables its own AEC.",
    ),
    (
        "root_cause",
        "en",
        "The root cause is the token was built with uid 0 but you join with uid 12345, so validation fails.",
    ),
    ("root_cause", "zh", "根因是该机型系统音频驱动在通话模式下采样率被强制改为 16k，导致重采样错位。"),
    ("root_cause", "zh", "原因是 Android 12 以后后台无法启动前台服务，导致采集被系统中断。"),
]


def tiny_examples() -> list[Example]:
    """The tiny labeled set as Examples, each in its own group."""
    return [
        example_from_record({"id": f"t{i}", "text": t, "category": c, "lang": lang, "group": f"g{i}"})
        for i, (c, lang, t) in enumerate(TINY)
    ]


@pytest.fixture(scope="session")
def examples() -> list[Example]:
    return tiny_examples()


@pytest.fixture(scope="session")
def classifier(examples: list[Example]) -> Classifier:
    return train(examples, TrainParams(min_df=1, calibration_folds=2, char_max_features=5000))


@pytest.fixture()
def data_dir(tmp_path: Path, examples: list[Example]) -> Path:
    """A labeled-data folder with train.jsonl and test.jsonl made of the tiny set."""
    d = tmp_path / "labeled"
    d.mkdir()
    write_examples(d / "train.jsonl", examples)
    write_examples(d / "test.jsonl", examples[::3])
    return d


def write_jsonl(path: Path, rows: list[object]) -> Path:
    """Write rows as JSON Lines (strings are written as raw lines)."""
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")
    return path


@contextmanager
def running_server(env: dict[str, str]) -> Iterator[str]:
    """Start `replyqa serve` on a free loopback port with extra environment; yield its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "replyqa.cli", "serve", "--port", str(port), "--log-level", "warning"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.communicate()[1].decode()
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
