"""An operator's view of one message (``GET /api/v1/messages/{id}``, ``modembridge messages show``) and the
summaries ``messages list`` prints. Built by the journal, serialized once at the edge (model.wire)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .messages import Encoding


@dataclass(frozen=True)
class EventView:
    """One step of a message's story (an AT+CMGS attempt, its outcome, a router attempt, a report, a
    dlr-url callback)."""

    at: datetime
    kind: str
    detail: str


@dataclass(frozen=True)
class DlrView:
    """The network's delivery report for a part."""

    state: str | None  # pending | delivered | failed; None: no report yet
    status: int | None  # TP-ST
    at: datetime | None


@dataclass(frozen=True)
class OutboundPartView:
    seq: int
    total: int
    state: str  # queued | sending | sent | failed | unknown
    attempts: int
    mr: int | None
    modem: str | None
    error: str | None
    sent_at: datetime | None
    next_attempt_at: datetime | None
    resent_after_unknown: bool
    dlr: DlrView


@dataclass(frozen=True)
class RecipientView:
    number: str
    modem: str | None  # the modem its parts go through, once assigned
    state: str
    parts: tuple[OutboundPartView, ...]
    delivery: str | None = None  # delivered (every part) | failed (a part) | pending; None: no report asked


@dataclass(frozen=True)
class OutboundView:
    id: str
    direction: Literal["out"]
    state: str  # queued | sending | sent | failed | partially_failed | unknown
    client_id: str | None
    source: str
    text: str
    sender: str | None
    encoding: Encoding
    parts: int
    status_report: bool
    validity: int | None
    flash: bool
    modem: str | None  # pinned
    dlr_url: str | None
    dlr_mask: int
    created_at: datetime | None
    expires_at: datetime | None
    recipients: tuple[RecipientView, ...]
    delivery: str | None = None  # over every recipient's parts, as RecipientView.delivery
    events: tuple[EventView, ...] = ()  # its story: attempts, outcomes, reports, callbacks, oldest first


@dataclass(frozen=True)
class InboundPartView:
    seq: int
    modem: str
    mem: str
    index: int
    pdu: str
    text: str | None
    data: str | None  # 8-bit payload, hex
    encoding: Encoding | None
    smsc: str | None
    smsc_time: datetime | None
    message_class: int | None
    received_at: datetime | None
    error: str | None
    duplicate: bool
    udh: str | None = None  # information elements other than concatenation, hex


@dataclass(frozen=True)
class InboundView:
    id: str
    direction: Literal["in"]
    state: str  # assembling | received | delivered | rejected | dead | undecodable | unmatched (a status
    #             report that matched no sent part) | discarded | indication | replaced
    modem: str
    sender: str
    text: str
    encoding: Encoding
    total_parts: int
    parts_received: int
    incomplete: bool
    attempts: int
    last_error: str | None
    created_at: datetime | None
    received_at: datetime | None
    next_attempt_at: datetime | None
    done_at: datetime | None
    parts: tuple[InboundPartView, ...]
    note: str | None = None  # why it was not delivered: a silent SMS, an indication, replaced by ...
    pid: int = 0  # TP-PID
    events: tuple[EventView, ...] = ()  # its story: each router attempt, oldest first


MessageView = OutboundView | InboundView


@dataclass(frozen=True)
class InboundSummary:
    id: str
    direction: Literal["in"]
    state: str
    sender: str
    modem: str
    text: str
    parts: int
    attempts: int
    last_error: str | None
    received_at: datetime | None


@dataclass(frozen=True)
class OutboundSummary:
    id: str
    direction: Literal["out"]
    state: str
    recipients: int
    text: str
    parts: int
    modem: str | None
    client_id: str | None
    created_at: datetime | None


MessageSummary = InboundSummary | OutboundSummary
