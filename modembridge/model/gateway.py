"""What the HTTP server needs from the bridge (the bridge implements it; the server never sees the rest)."""

from __future__ import annotations

from typing import Protocol

from .messages import SendAccepted, SendRequest
from .status import BridgeStatus
from .views import MessageView


class UnknownModemError(ValueError):
    """A send was pinned to a modem id that is not configured."""


class ClientIdConflict(ValueError):
    """A client id (``id`` / ``Idempotency-Key``) already taken by a message with other content."""

    def __init__(self, client_id: str, message_id: str) -> None:
        super().__init__(f"client id {client_id!r} was used for message {message_id} with other content")
        self.client_id = client_id
        self.message_id = message_id  # the first message's id


class Gateway(Protocol):
    async def submit(self, request: SendRequest) -> SendAccepted:
        """Journal the request durably (committed to disk) and only then return. The same client id with
        the same content again returns the first answer (duplicate=True); with other content it raises
        ClientIdConflict. UnknownModemError for a modem that is not configured."""
        ...

    def message(self, message_id: str) -> MessageView | None:
        """The message's state per recipient and part; None if unknown."""
        ...

    def status(self) -> BridgeStatus:
        """Per modem: identity, state, signal, registration, SIM fill, last error; queues; counters."""
        ...

    def liveness(self) -> str:
        """``/healthz``'s text: "ok", and what the process last waited on when it could not answer."""
        ...

    def readiness(self) -> tuple[bool, str]:
        """(ready, reason): a modem is registered and the store is writable."""
        ...

    def modem_ids(self) -> tuple[str, ...]: ...
