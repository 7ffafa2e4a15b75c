"""Prometheus metrics: one :class:`Metrics` per daemon, on its own registry (not the global one).

The bridge increments the counters; the gauges for queues and modems are read from
``gateway.status()`` at scrape time (see :meth:`Metrics.bind_status`), so they can never go stale.
Expected status shape (extra keys are ignored)::

    {"modems": [{"id": "m1", "state": "ready", "signal": -71, ...}, ...]   # or {"m1": {...}}
     "queues": {"inbox_pending": 0, "outbox_pending": 3, "dlr_pending": 0, ...}}
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


StatusSource = Callable[[], Mapping[str, Any]]


class HasStatus(Protocol):
    def status(self) -> dict[str, Any]: ...


class _StatusCollector(Collector):
    """Queue depth and modem gauges computed from a status callback at each scrape."""

    def __init__(self) -> None:
        self.source: StatusSource | None = None

    def collect(self) -> Iterator[Metric]:
        queue = GaugeMetricFamily("modembridge_queue_depth", "Entries waiting, per queue", labels=["queue"])
        signal = GaugeMetricFamily("modembridge_modem_signal", "Modem signal as reported in status",
                                   labels=["modem"])
        state = GaugeMetricFamily("modembridge_modem_state", "1 for the modem's current state",
                                  labels=["modem", "state"])
        status: Mapping[str, Any] = {}
        if self.source is not None:
            try:
                status = self.source()
            except Exception:  # a scrape must never take the daemon down
                log.exception("status() failed during a metrics scrape")
        queues = status.get("queues")
        if isinstance(queues, Mapping):
            for name, depth in queues.items():
                if isinstance(depth, int | float) and not isinstance(depth, bool):
                    queue.add_metric([str(name)], float(depth))
        for modem_id, info in _modems(status.get("modems")):
            sig = info.get("signal")
            if isinstance(sig, int | float) and not isinstance(sig, bool):
                signal.add_metric([modem_id], float(sig))
            if info.get("state") is not None:
                state.add_metric([modem_id, str(info["state"])], 1.0)
        yield queue
        yield signal
        yield state


def _modems(raw: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(raw, Mapping):
        for key, info in raw.items():
            if isinstance(info, Mapping):
                yield str(info.get("id", key)), info
    elif isinstance(raw, list):
        for info in raw:
            if isinstance(info, Mapping) and info.get("id") is not None:
                yield str(info["id"]), info


class Metrics:
    """Counters, histograms and scrape-time gauges of one modembridge daemon."""

    def __init__(
        self, source: HasStatus | StatusSource | None = None, *, registry: CollectorRegistry | None = None
    ) -> None:
        """`source`: the gateway (anything with ``status()``) or a status callable (see bind_status)."""
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.inbound_parts = Counter("modembridge_inbound_parts", "SMS parts read from modems",
                                     ["modem"], registry=r)
        self.inbound_messages = Counter("modembridge_inbound_messages", "Inbound messages reassembled",
                                        ["modem"], registry=r)
        self.router_deliveries = Counter(
            "modembridge_router_deliveries", "Inbound delivery attempts to the router, by outcome",
            ["outcome"], registry=r)
        self.router_latency = Histogram("modembridge_router_request_seconds",
                                        "Router request latency (inbound deliveries)",
                                        buckets=_LATENCY_BUCKETS, registry=r)
        self.outbound_accepted = Counter("modembridge_outbound_accepted", "Send requests accepted",
                                         ["source"], registry=r)
        self.outbound_rejected = Counter("modembridge_outbound_rejected", "Send requests rejected (4xx)",
                                         ["source", "field"], registry=r)
        self.outbound_sent = Counter("modembridge_outbound_parts_sent", "SMS parts sent (+CMGS)",
                                     ["modem"], registry=r)
        self.outbound_failed = Counter("modembridge_outbound_failed", "Outbound messages failed for good",
                                       ["modem"], registry=r)
        self.outbound_retried = Counter("modembridge_outbound_retried", "Outbound part send retries",
                                        ["modem"], registry=r)
        self.dlr_received = Counter("modembridge_dlr_received", "Status reports received from modems",
                                    ["modem", "status"], registry=r)
        self.dlr_callbacks = Counter("modembridge_dlr_callbacks", "dlr-url callbacks made, by outcome",
                                     ["outcome"], registry=r)
        self.http_requests = Counter("modembridge_http_requests", "HTTP requests served",
                                     ["route", "status"], registry=r)
        self._status = _StatusCollector()
        r.register(self._status)
        if source is not None:
            self.bind_status(source)

    def bind_status(self, source: HasStatus | StatusSource) -> None:
        """Read queue and modem gauges from `source` (the gateway, or ``gateway.status``) at each scrape."""
        status = getattr(source, "status", None)
        self._status.source = status if callable(status) else source  # type: ignore[assignment]

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        data: bytes = generate_latest(self.registry)
        return data
