"""What the modem driver tells its consumer (the bridge), and its state and identity."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any


class ModemState(Enum):
    STOPPED = "stopped"
    CONNECTING = "connecting"  # opening the port (retried with a doubling delay while missing or busy)
    INITIALIZING = "initializing"
    READY = "ready"
    RECOVERING = "recovering"  # after a timeout, a vanished port or a modem restart
    FAILED = "failed"  # needs a human: SIM PIN wrong or missing, PUK, no SIM


@dataclass
class ModemInfo:
    manufacturer: str | None = None
    model: str | None = None
    revision: str | None = None
    imei: str | None = None
    imsi: str | None = None
    iccid: str | None = None
    profile: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MessageStored:
    """+CMTI: a message was stored at mem/index: read() it, journal it, then delete() it."""

    mem: str
    index: int


@dataclass(frozen=True)
class MessageDirect:
    """+CMT: a message delivered straight to us (not stored): journal it, then ack()."""

    pdu: str
    length: int


@dataclass(frozen=True)
class ReportStored:
    """+CDSI: a status report stored at mem/index (usually SR)."""

    mem: str
    index: int


@dataclass(frozen=True)
class ReportDirect:
    """+CDS: a status report delivered straight to us: journal it, then ack()."""

    pdu: str
    length: int


@dataclass(frozen=True)
class StateChanged:
    state: ModemState
    reason: str


@dataclass(frozen=True)
class SweepNeeded:
    """Time to list_stored() and process whatever is there (after every (re)init and periodically)."""

    reason: str


ModemEvent = MessageStored | MessageDirect | ReportStored | ReportDirect | StateChanged | SweepNeeded
