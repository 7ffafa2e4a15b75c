"""Prometheus metrics: one :class:`Metrics` per daemon, on its own registry (not the global one).

The bridge increments the counters; the gauges for queues and modems are read from
``gateway.status()`` at scrape time (see :meth:`Metrics.bind_status`), so they can never go stale.
Status shape read (the bridge's; extra keys are ignored, missing ones give no samples)::

    {"modems": {"m1": {"state": "ready", "signal_dbm": -71, "registration": "home",
                       "storage": {"SM": {"used": 3, "total": 30}}, ...}},      # or a list with "id"s
     "queues": {"outbound_parts": {"m1": 2}, "journal": {"in": {"received": 1}}},  # numeric leaves
     "counters": {"inbound_delivered": 5, ...}}
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


StatusSource = Callable[[], Mapping[str, Any]]


class HasStatus(Protocol):
    def status(self) -> dict[str, Any]: ...


class _StatusCollector(Collector):
    """Queue depth, modem gauges and the bridge's own counters, read from a status callback per scrape."""

    def __init__(self) -> None:
        self.source: StatusSource | None = None

    def collect(self) -> Iterator[Metric]:
        queue = GaugeMetricFamily("modembridge_queue_depth",
                                  "Entries per queue/state in status()['queues'], nested keys joined by '.'",
                                  labels=["queue"])
        signal = GaugeMetricFamily("modembridge_modem_signal_dbm", "Modem signal strength (dBm)",
                                   labels=["modem"])
        state = GaugeMetricFamily("modembridge_modem_state", "1 for the modem's current state",
                                  labels=["modem", "state"])
        registered = GaugeMetricFamily("modembridge_modem_registered", "1 when registered (home or roaming)",
                                       labels=["modem"])
        sim_used = GaugeMetricFamily("modembridge_modem_storage_used", "Messages stored, per memory",
                                     labels=["modem", "memory"])
        sim_total = GaugeMetricFamily("modembridge_modem_storage_total", "Message slots, per memory",
                                      labels=["modem", "memory"])
        recoveries = CounterMetricFamily("modembridge_modem_recoveries",
                                         "Recovery rungs taken since start (reinit, reopen, reset)",
                                         labels=["modem", "rung"])
        sim_full = GaugeMetricFamily("modembridge_modem_sim_full",
                                     "1 while the SIM's message storage is full", labels=["modem"])
        sim_swap = GaugeMetricFamily("modembridge_modem_sim_swapped",
                                     "1 when the SIM differs from the one seen last time", labels=["modem"])
        events = CounterMetricFamily("modembridge_bridge_events", "The bridge's counters in status()",
                                     labels=["event"])
        status: Mapping[str, Any] = {}
        if self.source is not None:
            try:
                status = self.source()
            except Exception:  # a scrape must never take the daemon down
                log.exception("status() failed during a metrics scrape")
        for name, depth in _numbers(status.get("queues"), ""):
            queue.add_metric([name], depth)
        for name, value in _numbers(status.get("counters"), ""):
            events.add_metric([name], value)
        for modem_id, info in _modems(status.get("modems")):
            sig = _number(info.get("signal_dbm", info.get("signal")))
            if sig is not None:
                signal.add_metric([modem_id], sig)
            if info.get("state") is not None:
                state.add_metric([modem_id, str(info["state"])], 1.0)
            if "registration" in info:
                registered.add_metric([modem_id], 1.0 if info["registration"] in ("home", "roaming") else 0.0)
            recovery = info.get("recovery")
            taken = recovery.get("taken") if isinstance(recovery, Mapping) else None
            if isinstance(taken, Mapping):
                for rung, count in taken.items():
                    if (n := _number(count)) is not None:
                        recoveries.add_metric([modem_id, str(rung)], n)
            if isinstance(info.get("sim_full"), bool):
                sim_full.add_metric([modem_id], 1.0 if info["sim_full"] else 0.0)
            if "sim_swap" in info:
                sim_swap.add_metric([modem_id], 1.0 if info["sim_swap"] else 0.0)
            storage = info.get("storage")
            if isinstance(storage, Mapping):
                for memory, fill in storage.items():
                    if isinstance(fill, Mapping):
                        used, total = _number(fill.get("used")), _number(fill.get("total"))
                        if used is not None:
                            sim_used.add_metric([modem_id, str(memory)], used)
                        if total is not None:
                            sim_total.add_metric([modem_id, str(memory)], total)
        yield from (queue, signal, state, registered, sim_used, sim_total, recoveries, sim_full, sim_swap,
                    events)


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _numbers(raw: Any, prefix: str) -> Iterator[tuple[str, float]]:
    """Numeric leaves of nested mappings, named by their dotted key path."""
    if not isinstance(raw, Mapping):
        return
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _numbers(value, name + ".")
        elif (num := _number(value)) is not None:
            yield name, num


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
