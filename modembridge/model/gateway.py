"""What the HTTP server needs from the bridge (the bridge implements it; the server never sees the rest)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from .fleet import FleetView
from .messages import FeedEvent, SendAccepted, SendRequest
from .status import BridgeStatus
from .views import MessageSummary, MessageView


class UnknownModemError(ValueError):
    """A send was pinned to a modem id that is not configured."""


class ClientIdConflict(ValueError):
    """A client id (``id`` / ``Idempotency-Key``) already taken by a message with other content."""

    def __init__(self, client_id: str, message_id: str) -> None:
        super().__init__(f"client id {client_id!r} was used for message {message_id} with other content")
        self.client_id = client_id
        self.message_id = message_id  # the first message's id


UssdStatus = Literal["done", "more", "ended", "unsupported", "timeout"]
ModemAction = Literal["pause", "resume", "reinit", "reset"]


@dataclass(frozen=True)
class UssdReply:
    """The network's answer to a USSD request: done (final answer), more (a menu: answer it with the
    session id), ended (the network closed the session), unsupported, timeout (no answer in time)."""

    status: UssdStatus
    text: str
    session: str | None = None  # set while a menu waits for an answer


class UssdBusy(Exception):
    """The modem has a USSD request in flight or a session open that this request is not part of."""


class UssdNoSession(Exception):
    """A menu answer for a session that is not open (ended, timed out, or never was)."""


class UssdUnavailable(Exception):
    """The modem cannot take a USSD request now (not ready, stopping)."""


@dataclass(frozen=True)
class SelfTestResult:
    """A loopback self-test: an SMS from a modem to its own SIM, timed from its acceptance (seconds)."""

    modem_id: str
    to: str
    message_id: str | None
    smsc_ack: float | None  # the SMSC accepted it (+CMGS answered)
    mr: int | None
    arrived: float | None  # it came back to the modem
    report: float | None  # its delivery report came
    report_status: str | None  # delivered | failed | buffered
    error: str | None  # what went wrong (refused, timed out waiting for ...)

    @property
    def ok(self) -> bool:
        return self.arrived is not None and self.error is None


class Gateway(Protocol):
    async def submit(self, request: SendRequest) -> SendAccepted:
        """Journal the request durably (committed to disk, or in fleet mode in Redis) and only then return.
        The same client id with the same content again returns the first answer (duplicate=True); with
        other content it raises ClientIdConflict. UnknownModemError for a modem that is not configured;
        FleetUnavailable when the fleet's queue cannot take it."""
        ...

    def message(self, message_id: str) -> MessageView | None:
        """The message's state per recipient and part; None if unknown."""
        ...

    def messages(self, *, direction: Literal["in", "out"], state: str | None, query: str | None,
                 limit: int) -> list[MessageSummary]:
        """Recent messages, newest first; `query`: an id, a client id, or a fragment of a number or text."""
        ...

    def feed(self, after: int) -> list[FeedEvent]:
        """The live feed's events after sequence number `after` (0: all kept), oldest first."""
        ...

    async def feed_wait(self, after: int, timeout: float) -> None:
        """Return when there is a feed event after `after` (at once if there is), or after `timeout`."""
        ...

    async def retry(self, message_id: str) -> bool:
        """An operator's retry of a failed, dead, rejected or unknown message; False when not possible."""
        ...

    async def modem_action(self, modem_id: str, action: ModemAction) -> None:
        """pause / resume sending on a modem, re-initialise it, or reset it. UnknownModemError; ValueError
        for a re-init or reset while the modem is not ready (it is recovering already)."""
        ...

    async def cancel(self, message_id: str) -> bool:
        """Cancel an outbound message's still-queued parts; False when there are none."""
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

    def modem_ids(self) -> tuple[str, ...]:
        """This host's modems."""
        ...

    def send_modem_ids(self) -> tuple[str, ...]:
        """The modems a send may be pinned to: this host's, or in fleet mode every host's."""
        ...

    async def fleet_view(self) -> FleetView | None:
        """Fleet mode: every host, its modems and the shared queue (FleetUnavailable when Redis is away);
        None without a fleet."""
        ...

    async def ussd(self, modem_id: str, code: str, session: str | None) -> UssdReply:
        """Send a USSD code (session None) or a menu answer (in `session`) through a modem and wait for the
        network's answer (status timeout after ussd_timeout). Raises UnknownModemError, UssdBusy (one
        session per modem), UssdNoSession, UssdUnavailable (the modem is not ready), ValueError (a code
        the modem's USSD encoding cannot carry)."""
        ...

    async def ussd_cancel(self, modem_id: str) -> bool:
        """End the modem's open USSD session (AT+CUSD=2); False when none was open."""
        ...

    async def selftest(self, modem_id: str, to: str | None, timeout: float) -> SelfTestResult:
        """Send an SMS through `modem_id` to its own number (or `to`) and time it: SMSC acknowledgement,
        arrival back, delivery report. The looped-back message is kept in the journal, not posted to
        the router. UnknownModemError; ValueError when no number is known (no own_number, no AT+CNUM)."""
        ...
