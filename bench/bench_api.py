"""API load benchmark on loopback: single-reply classify at 16 connections, and batched classify.

Starts `replyqa serve` on a free 127.0.0.1 port with the shipped model, drives it with `wrk`
(Debian package `wrk`) when installed, else with a Python asyncio client (which shares the two
cores with the server and so understates the server), then stops it.

Run: .venv/bin/python bench/bench_api.py [--workers 2] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SINGLE = {"text": "Error 110 means the token expired; call renewToken() before joining again."}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(port: int, workers: int) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "replyqa.cli",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit("server did not become ready")


def wrk(url: str, body: dict[str, object], seconds: int, connections: int) -> tuple[float, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(json.dumps(body))}\n"
            "done = function(summary, latency, requests)\n"
            '  io.write(string.format("P99_US %d\\n", latency:percentile(99)))\nend\n'
        )
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = float(re.search(r"P99_US (\d+)", out).group(1)) / 1000  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        print(f"  warning: {non2xx.group(1)} non-2xx responses")
    return rps, p99


async def pyload(url: str, body: dict[str, object], seconds: int, connections: int) -> tuple[float, float]:
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=connections)) as client:

        async def worker() -> None:
            while time.monotonic() < stop:
                t = time.perf_counter()
                r = await client.post(url, json=body)
                r.raise_for_status()
                latencies.append(time.perf_counter() - t)

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.monotonic() - start
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99) - 1] * 1000


def drive(url: str, body: dict[str, object], seconds: int, connections: int) -> tuple[float, float, str]:
    if shutil.which("wrk"):
        return (*wrk(url, body, seconds, connections), "wrk")
    return (*asyncio.run(pyload(url, body, seconds, connections)), "python client")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    from replyqa.data import load_split

    _, test = load_split(ROOT / "data" / "labeled", with_feedback=False)
    batch = {"texts": [e.text for e in test][:1000]}
    port = free_port()
    proc = start(port, args.workers)
    try:
        url = f"http://127.0.0.1:{port}/v1/classify"
        drive(url, SINGLE, 2, args.connections)  # warm up every worker
        rps, p99, tool = drive(url, SINGLE, args.seconds, args.connections)
        print(
            f"single reply, {args.connections} connections, {args.workers} workers ({tool}): {rps:,.0f} req/s, p99 {p99:.1f} ms"
        )
        rps, p99, tool = drive(url, batch, args.seconds, 4)
        n = len(batch["texts"])  # type: ignore[arg-type]
        print(f"batches of {n} replies, 4 connections ({tool}): {rps * n:,.0f} replies/s, p99 {p99:.0f} ms per batch")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
