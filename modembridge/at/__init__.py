"""The modem side: AT commands over a serial port (parser, channel, commands, quirks, driver).

Knows no HTTP and no SQLite. The bridge uses :class:`Modem` and the event types below.
"""

from modembridge.at.commands import StoredPdu
from modembridge.at.errors import (
    AtError,
    AtTimeout,
    CmeError,
    CmsError,
    ErrorResult,
    ModemUnavailable,
    ParseError,
    PayloadWithheld,
    PromptTimeout,
    ResultError,
    ResyncTimeout,
    SendErrorClass,
    SendFailed,
    TransportError,
    classify_cme,
    classify_cms,
)
from modembridge.at.events import (
    IncomingCall,
    MessageDirect,
    MessageStored,
    ModemEvent,
    ModemInfo,
    ModemState,
    ReportDirect,
    ReportStored,
    StateChanged,
    SweepNeeded,
)
from modembridge.at.modem import Modem, SimNeedsHuman

__all__ = [
    "AtError",
    "AtTimeout",
    "CmeError",
    "CmsError",
    "ErrorResult",
    "IncomingCall",
    "MessageDirect",
    "MessageStored",
    "Modem",
    "ModemEvent",
    "ModemInfo",
    "ModemState",
    "ModemUnavailable",
    "ParseError",
    "PayloadWithheld",
    "PromptTimeout",
    "ReportDirect",
    "ReportStored",
    "ResultError",
    "ResyncTimeout",
    "SendErrorClass",
    "SendFailed",
    "SimNeedsHuman",
    "StateChanged",
    "StoredPdu",
    "SweepNeeded",
    "TransportError",
    "classify_cme",
    "classify_cms",
]
