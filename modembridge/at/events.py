"""What the modem driver tells its consumer (the bridge). Its state and identity are shared contracts
(modembridge.model.status), re-exported here."""

from __future__ import annotations

from dataclasses import dataclass

from modembridge.model.status import ModemInfo, ModemState

__all__ = ["IncomingCall", "MessageDirect", "MessageStored", "ModemEvent", "ModemInfo", "ModemState",
           "ReportDirect", "ReportStored", "StateChanged", "SweepNeeded"]


@dataclass(frozen=True)
class MessageStored:
    """+CMTI: a message was stored at mem/index: read() it, journal it, then delete() it."""

    mem: str
    index: int


@dataclass(frozen=True)
class MessageDirect:
    """+CMT: a message delivered straight to us (not stored): journal it, then ack(seq)."""

    pdu: str
    length: int
    seq: int = 0  # which +CMT/+CDS this is: ack(seq) never lets a late acknowledgement answer a newer one


@dataclass(frozen=True)
class ReportStored:
    """+CDSI: a status report stored at mem/index (usually SR)."""

    mem: str
    index: int


@dataclass(frozen=True)
class ReportDirect:
    """+CDS: a status report delivered straight to us: journal it, then ack(seq)."""

    pdu: str
    length: int
    seq: int = 0  # as MessageDirect.seq


@dataclass(frozen=True)
class StateChanged:
    state: ModemState
    reason: str


@dataclass(frozen=True)
class SweepNeeded:
    """Time to list_stored() and process whatever is there (after every (re)init and periodically)."""

    reason: str


@dataclass(frozen=True)
class IncomingCall:
    """A voice call rings (RING, +CRING) or names its caller (+CLIP); repeated while it rings."""

    number: str | None  # the caller, from +CLIP (None: a bare RING, or the number withheld)


ModemEvent = (MessageStored | MessageDirect | ReportStored | ReportDirect | StateChanged | SweepNeeded
              | IncomingCall)
