"""The typed contracts between the layers (no behaviour, no imports from the rest of modembridge).

``messages``: what flows (send requests, inbound messages, delivery reports, outcomes); ``status``: what
the daemon reports about modems and queues; ``views``: an operator's view of one message; ``gateway``:
what the HTTP server asks of the bridge; ``wire``: the JSON form of all of them, both ways.
"""

from .gateway import (
    ClientIdConflict,
    Gateway,
    UnknownModemError,
    UssdBusy,
    UssdNoSession,
    UssdReply,
    UssdStatus,
    UssdUnavailable,
)
from .messages import (
    DeliveryOutcome,
    DeliveryReportEvent,
    DeliveryResult,
    DlrStatus,
    Encoding,
    InboundMessage,
    SendAccepted,
    SendRequest,
    SmscOutcome,
)
from .status import (
    REGISTERED,
    Balance,
    BridgeStatus,
    JournalCounts,
    ModemInfo,
    ModemSnapshot,
    ModemState,
    QueueStatus,
    RecoveryStats,
    SendUsage,
    StorageFill,
)
from .views import (
    DlrView,
    InboundPartView,
    InboundSummary,
    InboundView,
    MessageSummary,
    MessageView,
    OutboundPartView,
    OutboundSummary,
    OutboundView,
    RecipientView,
)

__all__ = [
    "REGISTERED",
    "Balance",
    "BridgeStatus",
    "ClientIdConflict",
    "DeliveryOutcome",
    "DeliveryReportEvent",
    "DeliveryResult",
    "DlrStatus",
    "DlrView",
    "Encoding",
    "Gateway",
    "InboundMessage",
    "InboundPartView",
    "InboundSummary",
    "InboundView",
    "JournalCounts",
    "MessageSummary",
    "MessageView",
    "ModemInfo",
    "ModemSnapshot",
    "ModemState",
    "OutboundPartView",
    "OutboundSummary",
    "OutboundView",
    "QueueStatus",
    "RecipientView",
    "RecoveryStats",
    "SendAccepted",
    "SendRequest",
    "SendUsage",
    "SmscOutcome",
    "StorageFill",
    "UnknownModemError",
    "UssdBusy",
    "UssdNoSession",
    "UssdReply",
    "UssdStatus",
    "UssdUnavailable",
]
