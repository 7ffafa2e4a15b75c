"""Fleet mode's contracts: a job in the shared queue, the transport that holds the queue, and the fleet view.

A *job* is one recipient's share of an accepted send: its parts go out through one modem (a handset cannot
join parts from two SIMs), so the job, not the message, is what a host takes. The transport is the broker
behind the queue (Redis Streams today, ``modembridge/fleet/``); the bridge drives it through this protocol
only, so another broker could follow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, Protocol

from .messages import Encoding, SendAccepted
from .status import BridgeStatus

PartState = Literal["queued", "sending", "sent", "failed", "unknown"]
FINAL_PART_STATES: frozenset[str] = frozenset({"sent", "failed", "unknown"})


class FleetUnavailable(Exception):
    """The shared queue cannot be reached or refused the operation: nothing was done (a send is refused
    with 503, a pull finds nothing, a part is not sent)."""


class FleetConflict(FleetUnavailable):
    """Another live process uses this host id: this one stops fleet work until it is alone."""


class FleetMisconfigured(Exception):
    """The broker would lose acknowledged writes (or cannot be checked): the daemon refuses to start."""


@dataclass(frozen=True)
class FleetJob:
    """One recipient's parts of an accepted send, as every host sees it in the shared queue."""

    job_id: str  # "<message id>.<recipient index>"
    message_id: str
    recipient: str
    pdus: tuple[tuple[str, int], ...]  # (PDU hex with SMSC prefix, TPDU length) per part
    text: str
    encoding: Encoding
    source: str
    created_at: float  # unix seconds, when a host accepted it
    expires_at: float | None
    status_report: bool = False
    validity: int | None = None
    flash: bool = False
    pinned_modem: str | None = None  # the send's `smsc` / `modem`: only that modem may take it
    dlr_url: str | None = None
    dlr_mask: int = 0
    sender: str | None = None
    # filled when a host takes the job: each part's state in the queue, and where the job began
    states: tuple[PartState, ...] = ()
    resend: tuple[bool, ...] = ()  # a part queued again after an unknown (policy resend)
    begun_on: str | None = None  # the modem that wrote the first AT+CMGS: the rest must go through it


@dataclass(frozen=True)
class SubmitOutcome:
    """What the queue said to a submit: the answer, or for a client id seen before its fingerprint and
    first answer (the caller decides between a duplicate and a conflict)."""

    accepted: SendAccepted
    fingerprint: str | None = None  # the first request's, when accepted.duplicate


@dataclass(frozen=True)
class Taken:
    """A job a host took (from the queue, or over from a host whose lease expired)."""

    job: FleetJob
    taken_over_from: str | None = None  # the host whose lease expired
    modem: str | None = None  # the modem it is leased to (a host's own job stays on its modem)


@dataclass(frozen=True)
class PartReport:
    """A part's state for the queue: its outcome (final) or queued again (a retry)."""

    seq: int
    state: PartState
    resent: bool = False  # queued again although its AT+CMGS may have gone out (policy resend)
    attempt: int = 0  # the fenced attempt this state is the outcome of (a late old report is ignored)


@dataclass(frozen=True)
class FleetHost:
    """One host as its heartbeat shows it."""

    host_id: str
    seen_at: datetime  # its last heartbeat (the broker's clock)
    gone: bool  # no heartbeat for a lease: dead, stopped or cut off
    status: BridgeStatus | None  # its /status at that heartbeat
    modems: tuple[str, ...] = ()

    def anonymous(self) -> FleetHost:
        return replace(self, status=None if self.status is None else self.status.anonymous())


@dataclass(frozen=True)
class FleetQueue:
    """The shared queue: jobs not finished, the oldest one's age, jobs held by a host, parts left unknown
    (in the last week: the `unknown` policy applied when a host holding them was lost)."""

    depth: int
    oldest_age: float | None  # seconds
    leased: int
    unknown: int
    lanes: Mapping[str, int] = field(default_factory=dict)  # depth per lane ("any", "modem:<id>")


@dataclass(frozen=True)
class FleetView:
    """``GET /status?fleet=1``: every host, its modems, and the shared queue."""

    group: str
    host_id: str  # the host that answered
    hosts: tuple[FleetHost, ...]
    queue: FleetQueue

    def anonymous(self) -> FleetView:
        """For an unauthenticated reader: every host's modems without their identifiers."""
        return replace(self, hosts=tuple(h.anonymous() for h in self.hosts))


class FleetTransport(Protocol):
    """The broker behind the shared queue. Every method raises FleetUnavailable when the broker cannot be
    reached; nothing it reports done is lost by the broker (it is durable before the method returns)."""

    host_id: str

    async def check(self, modem_ids: Sequence[str]) -> None:
        """At start: the broker persists every acknowledged write (else FleetMisconfigured) and this host's
        lanes exist."""
        ...

    async def submit(self, jobs: Sequence[FleetJob], accepted: SendAccepted, client_id: str | None,
                     fingerprint: str | None) -> SubmitOutcome:
        """Queue the jobs durably, unless the client id is taken (then nothing is written)."""
        ...

    async def take(self, modem_id: str, block: float,
                   unknown_policy: Literal["resend", "fail"]) -> list[Taken]:
        """Work for modem_id: a job whose lease expired first (its parts that were in AT+CMGS get the
        unknown policy), else the next of its lanes (its own, then everyone's: at most one of each),
        waiting up to `block` seconds; [] if none."""
        ...

    async def fence(self, job_id: str, seq: int, modem_id: str) -> int:
        """Record part `seq` as `sending` just before its AT+CMGS; returns the attempt number, or 0 when
        this process does not hold the job (another took it over): the part must not be sent."""
        ...

    async def report(self, reports: Mapping[str, Sequence[PartReport]]) -> None:
        """Part states by job id; a job whose parts are all final leaves the queue."""
        ...

    async def renew(self, job_ids: Sequence[str]) -> set[str]:
        """Extend this host's leases; returns the jobs it no longer holds."""
        ...

    async def release(self, job_ids: Sequence[str]) -> set[str]:
        """Give back jobs this host holds but has not begun (its modem went down, paused, hit a quota);
        returns those given back (a job whose part was fenced meanwhile stays)."""
        ...

    async def reap(self) -> int:
        """Housekeeping: queued jobs past their expiry that no modem began fail; returns how many."""
        ...

    async def heartbeat(self, status: BridgeStatus, modem_ids: Sequence[str]) -> set[str]:
        """Publish this host's status; returns the modem ids of the live hosts (a send may be pinned to
        any of them)."""
        ...

    async def same_server(self) -> bool:
        """Still the broker process the start check saw (else the check runs again)."""
        ...

    async def view(self) -> FleetView: ...

    async def close(self) -> None: ...
