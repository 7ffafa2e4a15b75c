"""The messages that cross layers: a send request and its answer, an inbound message for the router, a
delivery report callback, the outcome of a delivery and of a part at the SMSC."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Literal

Encoding = Literal["gsm7", "ucs2", "8bit"]


@dataclass(frozen=True)
class SendRequest:
    """An outbound send as accepted from the native API, Kannel's sendsms or the CLI (already validated)."""

    recipients: tuple[str, ...]  # "+<digits>" (international) or "<digits>" (national / short code)
    text: str
    client_id: str | None = None  # idempotency key: the same id twice is a no-op returning the first answer
    status_report: bool = False
    validity: int | None = None  # seconds; the message fails instead of being sent later than this
    flash: bool = False  # message class 0
    modem: str | None = None  # pin to this modem id (Kannel's `smsc`)
    dlr_url: str | None = None  # Kannel dlr-url template (escapes %d %A %i %I %t %p ...)
    dlr_mask: int = 0  # Kannel dlr-mask bits: 1 delivered, 2 failed, 4 buffered, 8 smsc ack, 16 smsc reject
    sender: str | None = None  # Kannel `from`; informational, a GSM modem cannot set it
    source: Literal["api", "kannel", "cli"] = "api"

    def fingerprint(self) -> str:
        """What makes two requests the same message (all but the client id and the API it came through):
        a client id sent again with another fingerprint is a different message, not a retry."""
        fields = [self.recipients, self.text, self.status_report, self.validity, self.flash, self.modem,
                  self.dlr_url, self.dlr_mask, self.sender]
        canonical = json.dumps(fields, ensure_ascii=False).encode("utf-8", "surrogatepass")
        return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class SendAccepted:
    """The answer to a committed send (also returned again, with duplicate=True, for a repeated client id)."""

    message_id: str
    recipients: tuple[str, ...]
    encoding: Encoding
    parts: int  # parts per recipient
    duplicate: bool = False


@dataclass(frozen=True)
class InboundMessage:
    """A reassembled inbound SMS, as delivered to the router."""

    message_id: str  # stable across retries and restarts: the site dedupes on it
    sender: str
    text: str
    modem_id: str
    received_at: datetime  # when the (last) part was read from the modem, aware UTC
    smsc_timestamp: datetime | None  # the network's service-centre time stamp of the first part
    parts: int  # parts that arrived
    total_parts: int  # parts the message announced
    encoding: Encoding
    incomplete: bool = False  # delivered after the reassembly timeout with parts missing
    smsc: str | None = None
    data: bytes | None = None  # an 8-bit message's payload, every part's in order (text is then "")
    udh: bytes = b""  # the first part's information elements other than concatenation (iei, length, data...)
    destination_port: int | None = None  # application port addressing (23.040 9.2.3.24.3/.4)
    source_port: int | None = None
    message_class: int | None = None  # TP-DCS class: 0 is a flash message
    pid: int = 0  # TP-PID


class DeliveryOutcome(Enum):
    DELIVERED = "delivered"  # 2xx
    REJECTED = "rejected"  # 4xx: permanent, kept and visible, not retried
    RETRY = "retry"  # 5xx, timeout, connection error: retried with backoff


@dataclass(frozen=True)
class DeliveryResult:
    outcome: DeliveryOutcome
    status: int | None  # HTTP status, None for connection errors / timeouts
    detail: str  # short reason for the journal and logs (never secrets)


class DlrStatus(int, Enum):
    """Kannel's delivery-report types (the %d escape, dlr-mask bits)."""

    DELIVERED = 1
    FAILED = 2
    BUFFERED = 4
    SMSC_ACK = 8
    SMSC_REJECT = 16


@dataclass(frozen=True)
class DeliveryReportEvent:
    """One delivery-report callback to make (Kannel dlr-url semantics)."""

    url_template: str  # the request's dlr-url with Kannel escapes not yet substituted
    status: DlrStatus
    message_id: str  # our message id
    recipient: str  # %p
    modem_id: str  # %i (smsc id)
    smsc_message_id: str  # %I: the modem's message reference, as text
    at: datetime  # %t
    reply: str = ""  # %A: the SMSC's reply / status text
    part: int = 1
    parts: int = 1


@dataclass(frozen=True)
class SmscOutcome:
    """What the service centre answered for one sent part (Kannel's dlr-mask 8 and 16)."""

    accepted: bool
    mr: int | None = None  # TP-MR, when accepted
    reason: str = ""  # the modem's answer when refused (+CMS ERROR ...)

    @property
    def status(self) -> DlrStatus:
        return DlrStatus.SMSC_ACK if self.accepted else DlrStatus.SMSC_REJECT


@dataclass(frozen=True)
class MissedCall:
    """A voice call the modem rejected or let ring ([[modem]] calls), for [router] call_url."""

    call_id: int
    number: str | None  # the caller; None when withheld
    modem_id: str
    at: datetime  # the first RING, aware UTC
    action: Literal["rejected", "ignored"]


FeedKind = Literal["in", "sent", "failed", "report"]


@dataclass(frozen=True)
class FeedEvent:
    """One line of the console's live feed."""

    seq: int  # increasing: a stream asks for what came after the last it showed
    kind: FeedKind  # an inbound message, a part sent or failed, a delivery report
    at: datetime
    message_id: str
    modem_id: str
    number: str  # the sender (in) or the recipient
    text: str  # the message's text (in), the outcome (sent, failed, report)
