"""What the daemon reports about itself: one modem's snapshot, the queues, the bridge's status.

The driver (``at/``) builds :class:`ModemSnapshot`; the bridge builds :class:`BridgeStatus`; the HTTP
server serializes it once (``modembridge.model.wire``); the CLI and the metrics collector read these same
types (the CLI after parsing ``/status`` back with :func:`modembridge.model.wire.from_wire`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum


class ModemState(Enum):
    STOPPED = "stopped"
    CONNECTING = "connecting"  # opening the port (retried while it is missing or busy)
    INITIALIZING = "initializing"
    READY = "ready"
    RECOVERING = "recovering"  # after a timeout, a vanished port or a modem restart
    FAILED = "failed"  # needs a human: SIM PIN wrong or missing, PUK, no SIM


REGISTERED = ("home", "roaming")  # registration names that mean "can send and receive"


@dataclass(frozen=True)
class ModemInfo:
    """What the modem and its SIM say they are (None until read)."""

    manufacturer: str | None = None
    model: str | None = None
    revision: str | None = None
    imei: str | None = None
    imsi: str | None = None
    iccid: str | None = None
    profile: str | None = None  # the quirk profile in use
    own_number: str | None = None  # the SIM's number ([[modem]] own_number, else AT+CNUM; often unset)


    def anonymous(self) -> ModemInfo:
        """The same without the subscriber and device identifiers (IMEI, IMSI, ICCID, the number)."""
        return replace(self, imei=None, imsi=None, iccid=None, own_number=None)


@dataclass(frozen=True)
class StorageFill:
    used: int
    total: int


@dataclass(frozen=True)
class RecoveryStats:
    failures: int  # consecutive failures now (0 when the modem is fine)
    taken: Mapping[str, int]  # recovery rungs taken since start: reinit, reopen, reset


@dataclass(frozen=True)
class ModemSnapshot:
    """One modem as the driver sees it at one instant."""

    id: str
    port: str
    state: ModemState
    state_reason: str
    info: ModemInfo
    signal_dbm: int | None
    registration: str  # home, roaming, searching, denied, not registered, unknown
    operator: str | None
    storage: Mapping[str, StorageFill]  # per memory (SM, ME, SR ...)
    sim_full: bool
    sim_swap: str | None  # what changed since the last start, or None
    cnmi: tuple[int, ...] | None  # the new-message indication setting in use
    recovery: RecoveryStats
    last_error: str | None

    @property
    def registered(self) -> bool:
        return self.registration in REGISTERED

    def anonymous(self) -> ModemSnapshot:
        """The same without identifiers: the IMEI, IMSI and ICCID, also in what a SIM swap says."""
        return replace(self, info=self.info.anonymous(), sim_swap="SIM changed" if self.sim_swap else None)


@dataclass(frozen=True)
class JournalCounts:
    """Messages in the journal per state."""

    inbound: Mapping[str, int] = field(metadata={"wire": "in"})
    outbound: Mapping[str, int] = field(metadata={"wire": "out"})


@dataclass(frozen=True)
class QueueStatus:
    outbound_parts: Mapping[str, int]  # queued parts per assigned modem, plus "unassigned"
    journal: JournalCounts
    oldest_queued: float | None = None  # seconds the oldest queued part has waited (None: none queued)


@dataclass(frozen=True)
class SendUsage:
    """One modem's sending against its caps ([[modem]] max_parts_*, max_recipients_per_month; 0 = none)."""

    sent_today: int  # parts, local calendar day
    max_parts_per_day: int
    recipients_this_month: int  # distinct, local calendar month
    max_recipients_per_month: int
    max_parts_per_minute: float
    next_send_at: datetime | None  # when a capped or paced modem may send next
    waiting: str | None  # why it does not send now (a cap reached, pacing)


@dataclass(frozen=True)
class Balance:
    """A modem's prepaid balance, as its last USSD balance check found it ([[modem]] balance_ussd)."""

    answer: str | None  # the network's text, None before the first answer
    amount: float | None  # parsed with balance_pattern; None when it did not parse
    at: datetime | None  # when that answer came
    low: bool  # amount below balance_low
    error: str | None  # the last check failed or did not parse: why (the last good amount is kept)


@dataclass(frozen=True)
class PeerHealth:
    """The router (or another HTTP peer) as its delivery loop sees it."""

    state: str  # delivering | outage (failures in a row: one probe at a time)
    failures: int  # failed deliveries in a row
    last_error: str | None
    next_probe: datetime | None  # in an outage: when the next try goes


@dataclass(frozen=True)
class SignalSample:
    at: datetime
    dbm: int


@dataclass(frozen=True)
class BridgeStatus:
    """``GET /status``: every modem, the queues, and the daemon's event counters."""

    modems: Mapping[str, ModemSnapshot]
    queues: QueueStatus
    counters: Mapping[str, int]  # totals of the observability counters (modembridge.observe)
    usage: Mapping[str, SendUsage] = field(default_factory=dict)  # per modem
    balance: Mapping[str, Balance] = field(default_factory=dict)  # per modem with balance checks
    router: PeerHealth | None = None  # None: no router configured
    signal: Mapping[str, tuple[SignalSample, ...]] = field(default_factory=dict)  # the last hour, per modem

    def anonymous(self) -> BridgeStatus:
        """For an unauthenticated reader: every modem without its identifiers."""
        return replace(self, modems={mid: m.anonymous() for mid, m in self.modems.items()})
