"""Prometheus metrics of one app instance (its own registry, so apps never collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """Requests, latency, predictions by category and the model version served."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "replyqa_requests_total", "HTTP requests", ["method", "path", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "replyqa_request_seconds",
            "Request latency",
            ["path"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.predictions = Counter(
            "replyqa_predictions_total", "Replies labeled", ["category", "quality"], registry=self.registry
        )
        self.model = Gauge("replyqa_model_info", "Model being served (value 1)", ["version"], registry=self.registry)

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        """Count one request and its latency."""
        self.requests.labels(method, path, str(status)).inc()
        self.latency.labels(path).observe(seconds)

    def count_predictions(self, pairs: list[tuple[str, str]]) -> None:
        """Count predictions by (category, quality)."""
        for category, quality in pairs:
            self.predictions.labels(category, quality).inc()

    def set_model(self, version: str) -> None:
        """Record the served model version (only one label set is 1)."""
        self.model.clear()
        self.model.labels(version).set(1)

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)
