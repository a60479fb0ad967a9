"""Prometheus metrics of one gateway (its own registry, so two apps in a process never clash)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class GatewayMetrics:
    """Counters and a latency histogram, rendered in the Prometheus text format at /metrics.

    * ``probity_requests_total{endpoint,status}``: requests answered, by HTTP status.
    * ``probity_request_seconds{endpoint}``: request latency in seconds (until the last byte
      for streams).
    * ``probity_verdicts_total{direction,action}``: guard decisions.
    * ``probity_audit_records_total``, ``probity_auth_failures_total``,
      ``probity_backend_errors_total``.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "probity_requests", "Requests answered.", ("endpoint", "status"), registry=r
        )
        self.latency = Histogram(
            "probity_request_seconds",
            "Request latency in seconds.",
            ("endpoint",),
            buckets=_BUCKETS,
            registry=r,
        )
        self.verdicts = Counter(
            "probity_verdicts", "Guard verdicts.", ("direction", "action"), registry=r
        )
        self.audit_records = Counter("probity_audit_records", "Audit records appended.", registry=r)
        self.audit_failures = Counter(
            "probity_audit_failures", "Audit records that could not be written.", registry=r
        )
        self.auth_failures = Counter(
            "probity_auth_failures", "Requests with a missing or invalid API key.", registry=r
        )
        self.backend_errors = Counter(
            "probity_backend_errors", "Backend (model or upstream) failures.", registry=r
        )

    def observe(self, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint=endpoint, status=str(status)).inc()
        self.latency.labels(endpoint=endpoint).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
