"""Observability: every counter of one daemon, in one place, recorded once per event.

The driver (``at/``), the bridge and the HTTP side record events through the typed methods of
:class:`Metrics` (one per daemon, nothing global); nothing else counts.
``/metrics`` is the Prometheus exposition of these counters plus gauges read from the bridge's
:class:`~modembridge.model.BridgeStatus` at scrape time (so they never go stale); ``/status`` shows the
counters' totals (:meth:`Metrics.totals`). A leaf module: it imports only the typed contracts.

The counters are plain dictionaries; ``prometheus_client`` is imported at the first scrape, to write the
exposition (a daemon nobody scrapes does not carry it: about 1 MB, and no lock per counted event).
"""

from __future__ import annotations

import asyncio
import logging
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from modembridge.model.status import BridgeStatus

if TYPE_CHECKING:
    from prometheus_client.core import Metric

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
RUNGS = ("reinit", "reopen", "reset")  # the recovery ladder's rungs (modembridge.at.recovery.Rung)

StatusSource = Callable[[], BridgeStatus]


# -- a blocked event loop ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stall:
    at: float  # unix time it ended
    seconds: float  # how long the loop did not run


class LoopMonitor:
    """How late the event loop runs. One loop serves everything, so a stall (the journal's fsync on a slow
    or frozen disk, a bug) delays every modem and request; the health check says when it last happened."""

    def __init__(self, interval: float = 0.5, threshold: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self.interval = interval
        self.threshold = threshold  # a lateness below this is scheduling noise
        self._clock, self._wall = clock, wall
        self.last: Stall | None = None

    async def run(self) -> None:
        while True:
            started = self._clock()
            await asyncio.sleep(self.interval)
            late = self._clock() - started - self.interval
            if late >= self.threshold:
                self.last = Stall(self._wall(), late)
                log.warning("the event loop did not run for %.1f s (a slow or frozen disk under the "
                            "journal?)", late)


# -- phone numbers in logs -------------------------------------------------------------------------------

_numbers_in_logs: Literal["full", "masked"] = "masked"


def log_numbers(mode: Literal["full", "masked"]) -> None:
    """How phone numbers appear in the daemon's log (personal data): in full, or masked (the default)."""
    global _numbers_in_logs
    _numbers_in_logs = mode


def number(value: str) -> str:
    """A phone number as the log may show it: masked keeps a leading + and the last 3 digits."""
    if _numbers_in_logs == "full" or len(value) <= 3:
        return value
    head, tail = value[:-3], value[-3:]
    return ("+" if head.startswith("+") else "") + "*" * (len(head) - head.startswith("+")) + tail


class Counter:
    """A labelled counter: a value per tuple of label values, and when each was first counted."""

    __slots__ = ("created", "doc", "labelnames", "name", "values")

    def __init__(self, name: str, doc: str, labelnames: tuple[str, ...]) -> None:
        self.name, self.doc, self.labelnames = name, doc, labelnames
        self.values: dict[tuple[str, ...], float] = {}
        self.created: dict[tuple[str, ...], float] = {}

    def touch(self, *labels: str) -> None:
        """Expose these label values (at 0 until counted)."""
        if labels not in self.values:
            self.values[labels] = 0.0
            self.created[labels] = time.time()

    def inc(self, *labels: str) -> None:
        if labels not in self.values:
            self.touch(*labels)
        self.values[labels] += 1.0

    def total(self) -> int:
        return int(sum(self.values.values()))

    def family(self) -> Metric:
        from prometheus_client.core import CounterMetricFamily

        family = CounterMetricFamily(self.name, self.doc, labels=self.labelnames)
        for labels, value in self.values.items():
            family.add_metric(labels, value, created=self.created[labels])
        return family


class Histogram:
    """An unlabelled histogram with fixed buckets."""

    def __init__(self, name: str, doc: str, buckets: tuple[float, ...]) -> None:
        self.name, self.doc, self.buckets = name, doc, buckets
        self.counts = [0] * (len(buckets) + 1)  # the last one: above every bucket (+Inf only)
        self.sum = 0.0
        self.created = time.time()

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.buckets, value)] += 1
        self.sum += value

    def family(self) -> Metric:
        from prometheus_client.core import HistogramMetricFamily
        from prometheus_client.samples import Sample

        family = HistogramMetricFamily(self.name, self.doc)
        cumulative, running = [], 0
        for bound, count in zip((*self.buckets, float("inf")), self.counts, strict=True):
            running += count
            cumulative.append(("+Inf" if bound == float("inf") else repr(float(bound)), float(running)))
        family.add_metric([], cumulative, self.sum)
        family.samples.append(Sample(self.name + "_created", {}, self.created))
        return family


class ModemMetrics:
    """What one modem's driver records: the recovery rungs it takes."""

    def __init__(self, recoveries: Counter, modem_id: str) -> None:
        self._recoveries = recoveries
        self._modem_id = modem_id
        for rung in RUNGS:  # every rung is exposed from the start, at 0
            recoveries.touch(modem_id, rung)

    def recovery(self, rung: str) -> None:
        self._recoveries.inc(self._modem_id, rung)

    def recoveries(self) -> dict[str, int]:
        """Rungs taken since start, by rung."""
        taken = dict.fromkeys(RUNGS, 0)
        for (modem, rung), value in self._recoveries.values.items():
            if modem == self._modem_id:
                taken[rung] = int(value)
        return taken


class Metrics:
    """Counters, histograms and scrape-time gauges of one modembridge daemon."""

    def __init__(self) -> None:
        self._inbound_parts = Counter("modembridge_inbound_parts",
                                      "SMS parts read from modems and journalled", ("modem",))
        self._inbound_messages = Counter("modembridge_inbound_messages",
                                         "Inbound messages complete (all parts journalled)", ("modem",))
        self._inbound_undecodable = Counter("modembridge_inbound_undecodable",
                                            "PDUs that could not be decoded (kept in the journal)",
                                            ("modem",))
        self._inbound_special = Counter(
            "modembridge_inbound_special",
            "Inbound messages kept but not delivered, by kind: silent (Type 0), indication (message "
            "waiting), replaced (by a replace-type message)", ("modem", "kind"))
        self._router_deliveries = Counter(
            "modembridge_router_deliveries", "Inbound delivery attempts to the router, by outcome",
            ("outcome",))
        self._router_latency = Histogram("modembridge_router_request_seconds",
                                         "Router request latency (inbound deliveries)",
                                         _LATENCY_BUCKETS)
        self._outbound_accepted = Counter("modembridge_outbound_accepted", "Send requests accepted",
                                          ("source",))
        self._outbound_rejected = Counter("modembridge_outbound_rejected", "Send requests rejected (4xx)",
                                          ("source", "field"))
        self._parts_sent = Counter("modembridge_outbound_parts_sent", "SMS parts sent (+CMGS)",
                                   ("modem",))
        self._parts_failed = Counter("modembridge_outbound_parts_failed", "SMS parts failed for good",
                                     ("modem",))
        self._parts_retried = Counter("modembridge_outbound_parts_retried", "SMS part send retries",
                                      ("modem",))
        self._dlr_received = Counter("modembridge_dlr_received", "Status reports received from modems",
                                     ("modem", "status"))
        self._dlr_unmatched = Counter(
            "modembridge_dlr_unmatched", "Status reports that matched no sent part (kept raw in the journal)",
            ("modem",))
        self._dlr_callbacks = Counter("modembridge_dlr_callbacks", "dlr-url callbacks made, by outcome",
                                      ("outcome",))
        self._calls = Counter("modembridge_calls", "Incoming voice calls, by what was done (rejected, "
                              "ignored)", ("modem", "action"))
        self._http_requests = Counter("modembridge_http_requests", "HTTP requests served",
                                      ("route", "status"))
        self._recoveries = Counter("modembridge_modem_recoveries",
                                   "Recovery rungs taken since start (reinit, reopen, reset)",
                                   ("modem", "rung"))
        self._counters = (self._inbound_parts, self._inbound_messages, self._inbound_undecodable,
                          self._inbound_special, self._router_deliveries, self._outbound_accepted,
                          self._outbound_rejected, self._parts_sent, self._parts_failed, self._parts_retried,
                          self._dlr_received, self._dlr_unmatched, self._dlr_callbacks, self._calls,
                          self._http_requests, self._recoveries)
        self._status = _StatusCollector()

    # -- recording (one call per event) ---------------------------------------------------------------

    def modem(self, modem_id: str) -> ModemMetrics:
        """The recorder one modem's driver gets."""
        return ModemMetrics(self._recoveries, modem_id)

    def inbound_part(self, modem_id: str, *, completes: bool) -> None:
        """A part journalled; `completes`: its message is now whole (single-part messages too)."""
        self._inbound_parts.inc(modem_id)
        if completes:
            self._inbound_messages.inc(modem_id)

    def inbound_undecodable(self, modem_id: str) -> None:
        self._inbound_undecodable.inc(modem_id)

    def inbound_special(self, modem_id: str, kind: str) -> None:
        """A message journalled but not for the router: silent, indication or replaced."""
        self._inbound_special.inc(modem_id, kind)

    def router_attempt(self, outcome: str, seconds: float) -> None:
        """One request to the router: its outcome (delivered, rejected, retry) and how long it took."""
        self._router_deliveries.inc(outcome)
        self._router_latency.observe(seconds)

    def send_accepted(self, source: str) -> None:
        self._outbound_accepted.inc(source)

    def send_rejected(self, source: str, field: str | None) -> None:
        self._outbound_rejected.inc(source, field or "-")

    def part_sent(self, modem_id: str) -> None:
        self._parts_sent.inc(modem_id)

    def part_failed(self, modem_id: str) -> None:
        self._parts_failed.inc(modem_id)

    def part_retried(self, modem_id: str) -> None:
        self._parts_retried.inc(modem_id)

    def report_received(self, modem_id: str, status: str) -> None:
        """A status report from the network: delivered, failed or buffered."""
        self._dlr_received.inc(modem_id, status)

    def report_unmatched(self, modem_id: str) -> None:
        self._dlr_unmatched.inc(modem_id)

    def dlr_callback(self, outcome: str) -> None:
        self._dlr_callbacks.inc(outcome)

    def call(self, modem_id: str, action: str) -> None:
        self._calls.inc(modem_id, action)

    def http_request(self, route: str, status: int) -> None:
        self._http_requests.inc(route, str(status))

    # -- reading ---------------------------------------------------------------------------------------

    def totals(self) -> dict[str, int]:
        """Every counter summed over its labels (``/status`` counters), by name without the prefix."""
        out: dict[str, int] = {}
        for counter in (self._inbound_parts, self._inbound_messages, self._inbound_undecodable,
                        self._inbound_special, self._outbound_accepted, self._outbound_rejected,
                        self._parts_sent, self._parts_failed, self._parts_retried, self._dlr_received,
                        self._dlr_unmatched, self._dlr_callbacks, self._calls):
            out[counter.name.removeprefix("modembridge_")] = counter.total()
        for (outcome,), value in self._router_deliveries.values.items():
            out[f"router_{outcome}"] = int(value)
        return out

    def bind_status(self, source: StatusSource) -> None:
        """Read the queue and modem gauges from `source` (the gateway's ``status``) at each scrape."""
        self._status.source = source

    def collect(self) -> Iterator[Metric]:
        """Every family, counters first (in the order they were made), then the scrape-time gauges."""
        for counter in self._counters:
            yield counter.family()
            if counter is self._router_deliveries:
                yield self._router_latency.family()
        yield from self._status.collect()

    def render(self) -> bytes:
        """The Prometheus text exposition (prometheus_client is imported here, at the first scrape)."""
        from prometheus_client import CollectorRegistry, generate_latest

        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        data: bytes = generate_latest(registry)
        return data


class _StatusCollector:
    """Queue depths and modem gauges, read from the bridge's status at each scrape."""

    def __init__(self) -> None:
        self.source: StatusSource | None = None

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        queue = GaugeMetricFamily(
            "modembridge_queue_depth",
            "Entries per queue and state: outbound_parts.<modem>, journal.<in|out>.<state>", labels=["queue"])
        signal = GaugeMetricFamily("modembridge_modem_signal_dbm", "Modem signal strength (dBm)",
                                   labels=["modem"])
        state = GaugeMetricFamily("modembridge_modem_state", "1 for the modem's current state",
                                  labels=["modem", "state"])
        registered = GaugeMetricFamily("modembridge_modem_registered", "1 when registered (home or roaming)",
                                       labels=["modem"])
        sim_used = GaugeMetricFamily("modembridge_modem_storage_used", "Messages stored, per memory",
                                     labels=["modem", "memory"])
        sim_total = GaugeMetricFamily("modembridge_modem_storage_capacity", "Message slots, per memory",
                                      labels=["modem", "memory"])
        sim_full = GaugeMetricFamily("modembridge_modem_sim_full",
                                     "1 while the SIM's message storage is full", labels=["modem"])
        sim_swap = GaugeMetricFamily("modembridge_modem_sim_swapped",
                                     "1 when the SIM differs from the one seen last time", labels=["modem"])
        sent_today = GaugeMetricFamily(
            "modembridge_modem_sent_today", "Parts sent this local calendar day (max_parts_per_day)",
            labels=["modem"])
        recipients = GaugeMetricFamily(
            "modembridge_modem_recipients_this_month",
            "Distinct recipients this local calendar month (max_recipients_per_month)", labels=["modem"])
        next_send = GaugeMetricFamily(
            "modembridge_modem_next_send_at", "Unix time a capped or paced modem may send next (0: now)",
            labels=["modem"])
        balance = GaugeMetricFamily("modembridge_modem_balance",
                                    "The prepaid balance the last USSD check parsed", labels=["modem"])
        balance_low = GaugeMetricFamily("modembridge_modem_balance_low",
                                        "1 while the balance is below balance_low", labels=["modem"])
        families = (queue, signal, state, registered, sim_used, sim_total, sim_full, sim_swap, sent_today,
                    recipients, next_send, balance, balance_low)
        if self.source is None:
            yield from families
            return
        try:
            status = self.source()
        except Exception:  # a scrape must never take the daemon down
            log.exception("status() failed during a metrics scrape")
            yield from families
            return
        for modem_id, depth in status.queues.outbound_parts.items():
            queue.add_metric([f"outbound_parts.{modem_id}"], depth)
        journal = status.queues.journal
        for direction, counts in (("in", journal.inbound), ("out", journal.outbound)):
            for name, n in counts.items():
                queue.add_metric([f"journal.{direction}.{name}"], n)
        for modem_id, snap in status.modems.items():
            if snap.signal_dbm is not None:
                signal.add_metric([modem_id], snap.signal_dbm)
            state.add_metric([modem_id, snap.state.value], 1.0)
            registered.add_metric([modem_id], 1.0 if snap.registered else 0.0)
            sim_full.add_metric([modem_id], 1.0 if snap.sim_full else 0.0)
            sim_swap.add_metric([modem_id], 1.0 if snap.sim_swap else 0.0)
            for memory, fill in snap.storage.items():
                sim_used.add_metric([modem_id, memory], fill.used)
                sim_total.add_metric([modem_id, memory], fill.total)
        for modem_id, usage in status.usage.items():
            sent_today.add_metric([modem_id], usage.sent_today)
            recipients.add_metric([modem_id], usage.recipients_this_month)
            next_send.add_metric([modem_id], usage.next_send_at.timestamp() if usage.next_send_at else 0.0)
        for modem_id, bal in status.balance.items():
            if bal.amount is not None:
                balance.add_metric([modem_id], bal.amount)
            balance_low.add_metric([modem_id], 1.0 if bal.low else 0.0)
        yield from families
