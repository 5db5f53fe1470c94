"""Prometheus metrics of one app instance, in its own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_SCORE_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


class ServiceMetrics:
    """Requests by route and status, latency, scores, alerts and verdicts."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "seclearn_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "seclearn_http_request_duration_seconds",
            "Time to answer a request, by route template.",
            ["route"],
            registry=self.registry,
        )
        self.scores = Histogram(
            "seclearn_scores",
            "Calibrated scores of scored events, by model.",
            ["model"],
            buckets=_SCORE_BUCKETS,
            registry=self.registry,
        )
        self.quarantined = Counter(
            "seclearn_quarantined_events",
            "Posted events quarantined by the parser, by model.",
            ["model"],
            registry=self.registry,
        )
        self.alerts = Counter(
            "seclearn_alerts",
            "Positive decisions recorded as alerts (new or repeats), by model.",
            ["model"],
            registry=self.registry,
        )
        self.verdicts = Counter(
            "seclearn_verdicts",
            "Analyst verdicts recorded, by verdict.",
            ["verdict"],
            registry=self.registry,
        )

    def observe_request(self, route: str, method: str, status: int, elapsed_s: float) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route).observe(elapsed_s)

    def render(self) -> bytes:
        return generate_latest(self.registry)
