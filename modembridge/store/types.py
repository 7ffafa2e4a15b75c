"""Value types the journal takes and returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

from modembridge.model import Encoding


class StoreError(Exception):
    """The journal cannot do what was asked (e.g. a commit failed: disk full, I/O error)."""


class UnknownMessageError(StoreError, KeyError):
    """No journal row with that id."""


class ConcatKey(NamedTuple):
    """The concatenation header of one part (23.040 9.2.3.24.1 / .8)."""

    ref: int
    total: int
    seq: int
    ref_bits: int = 8  # 8 or 16


Disposition = Literal["deliver", "discard", "indication", "selftest"]


@dataclass(frozen=True)
class PartFields:
    """What the decoder found in one inbound PDU."""

    sender: str
    text: str
    encoding: Encoding
    data: bytes | None = None  # 8-bit payload (text then holds what the decoder made of it)
    smsc: str | None = None
    smsc_time: float | None = None  # service-centre time stamp, unix seconds
    concat: ConcatKey | tuple[int, int, int, int] | None = None  # (ref, total, seq, ref_bits)
    message_class: int | None = None
    tpdu_length: int | None = None  # as the modem printed it: the PDU is decoded with it again
    pid: int = 0  # TP-PID
    udh: bytes = b""  # information elements other than concatenation, as in the PDU
    ports: tuple[int, int] | None = None  # (destination, source) application ports
    # deliver: to the router; discard: acknowledged and dropped (a silent Type 0 SMS); indication: a
    # message waiting indication, recorded only; selftest: a loopback self-test's message come back. The
    # journal keeps all but the first with `note`, not for the router.
    disposition: Disposition = "deliver"
    note: str | None = None


@dataclass(frozen=True)
class StoredPart:
    """One part of a journalled message, as its text is decided from."""

    pdu: str
    tpdu_length: int | None
    text: str | None  # what the decoder made of this part alone


@dataclass(frozen=True)
class InboundPartResult:
    part_id: int
    message_id: str
    duplicate: bool  # this PDU (or this seq with the same content) was journalled before: nothing new
    complete: bool  # the message is whole (or was already delivered/expired): it is or was deliverable
    replaced: int = 0  # earlier undelivered messages this replace-type message took the place of


@dataclass(frozen=True)
class OutboundPart:
    part_id: int
    message_id: str
    recipient: str
    seq: int
    total: int
    pdu: str
    tpdu_length: int
    attempts: int  # send attempts before this one
    status_report: bool
    dlr_url: str | None
    dlr_mask: int
    resent_after_unknown: bool = False
    modem_id: str | None = None  # the modem it was claimed for
    fleet_job: str | None = None  # fleet mode: the shared queue's job it belongs to


@dataclass(frozen=True)
class MatchedPart:
    """The sent part a status report refers to, with its message's delivery-report settings."""

    part_id: int
    message_id: str
    recipient: str
    seq: int
    total: int
    modem_id: str
    mr: int
    sent_at: float
    status_report: bool
    dlr_url: str | None
    dlr_mask: int


@dataclass(frozen=True)
class PartProgress:
    """Where one part of a message to one recipient stands: its send state and its report state."""

    seq: int
    state: str  # queued | sending | sent | failed | unknown
    dlr_state: str | None  # pending | delivered | failed; None: no report yet
