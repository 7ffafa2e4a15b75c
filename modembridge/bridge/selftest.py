"""The loopback self-test (`modembridge selftest`): an SMS from a modem to its own SIM, timed at each
step the network takes it through: the SMSC's acknowledgement (+CMGS), the message back at the modem,
its delivery report. The message that comes back is kept in the journal (state `selftest`), never
posted to the router: a site that answers every SMS would otherwise answer its own modem, for ever."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from modembridge.at import Modem
from modembridge.model import (
    DlrStatus,
    SelfTestResult,
    SendAccepted,
    SendRequest,
    SmscOutcome,
    UnknownModemError,
)
from modembridge.sms import Deliver

TEXT = "modembridge selftest {nonce}: this SMS tests the modem; it comes back to it and goes nowhere else"
OURS = re.compile(r"^modembridge selftest ([0-9a-f]{10}):")  # a self-test's SMS, on any modem, at any time
REPORT_GRACE = 30.0  # seconds to wait for the delivery report once the message is back (many never come)


@dataclass
class _Probe:
    modem_id: str
    nonce: str
    started: float
    acked: asyncio.Future[tuple[float, SmscOutcome]] = field(default_factory=asyncio.Future)
    arrived: asyncio.Future[float] = field(default_factory=asyncio.Future)
    reported: asyncio.Future[tuple[float, DlrStatus]] = field(default_factory=asyncio.Future)


T = TypeVar("T")


def _value(fut: asyncio.Future[T]) -> T | None:
    return fut.result() if fut.done() and not fut.cancelled() else None


class SelfTests:
    def __init__(self, modems: Mapping[str, Modem], submit: Callable[[SendRequest], Awaitable[SendAccepted]],
                 *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.modems = modems
        self._submit = submit
        self._monotonic = monotonic
        self._by_nonce: dict[str, _Probe] = {}
        self._by_message: dict[str, _Probe] = {}

    # -- what the pipelines tell it
    def claims(self, modem_id: str, deliver: Deliver) -> str | None:
        """An inbound message that is a self-test's (running or not: it may come back late, or to
        another modem of this host): the note to journal it with, never for the router."""
        m = OURS.match(deliver.text)
        if m is None:
            return None
        probe = self._by_nonce.get(m.group(1))
        if probe is not None and not probe.arrived.done():
            probe.arrived.set_result(self._monotonic())
        return f"a loopback self-test's message ({m.group(1)}), not for the router"

    def smsc(self, message_id: str, outcome: SmscOutcome) -> None:
        probe = self._by_message.get(message_id)
        if probe is not None and not probe.acked.done():
            probe.acked.set_result((self._monotonic(), outcome))

    def report(self, message_id: str, kind: DlrStatus) -> None:
        probe = self._by_message.get(message_id)
        if probe is not None and not probe.reported.done() and kind is not DlrStatus.BUFFERED:
            probe.reported.set_result((self._monotonic(), kind))

    # -- the test
    async def run(self, modem_id: str, to: str | None, timeout: float) -> SelfTestResult:
        modem = self.modems.get(modem_id)
        if modem is None:
            raise UnknownModemError(f"unknown modem {modem_id!r}")
        number = to or modem.info.own_number
        if not number:
            raise ValueError(f"modem {modem_id} does not know its own number (AT+CNUM is empty): set "
                             "[[modem]] own_number or give --to")
        nonce = uuid.uuid4().hex[:10]
        probe = _Probe(modem_id, nonce, self._monotonic())
        self._by_nonce[nonce] = probe
        message_id: str | None = None
        try:
            accepted = await self._submit(SendRequest(recipients=(number,), text=TEXT.format(nonce=nonce),
                                                      status_report=True, modem=modem_id))
            message_id = accepted.message_id
            self._by_message[message_id] = probe
            await self._wait(probe, timeout)
            return self._result(probe, modem_id, number, message_id, timeout)
        finally:
            self._by_nonce.pop(nonce, None)
            if message_id is not None:
                self._by_message.pop(message_id, None)
            for fut in (probe.acked, probe.arrived, probe.reported):
                fut.cancel()

    async def _wait(self, probe: _Probe, timeout: float) -> None:
        """Each step in turn, within `timeout` overall: not past a refusal, and the report only for
        REPORT_GRACE seconds after the message is back."""
        deadline = self._monotonic() + timeout
        with contextlib.suppress(TimeoutError):
            _at, outcome = await asyncio.wait_for(asyncio.shield(probe.acked), timeout)
            if not outcome.accepted:
                return
            await asyncio.wait_for(asyncio.shield(probe.arrived), max(0.0, deadline - self._monotonic()))
            grace = min(REPORT_GRACE, max(0.0, deadline - self._monotonic()))
            await asyncio.wait_for(asyncio.shield(probe.reported), grace)

    def _result(self, probe: _Probe, modem_id: str, number: str, message_id: str,
                timeout: float) -> SelfTestResult:
        t0 = probe.started
        ack, came, report = _value(probe.acked), _value(probe.arrived), _value(probe.reported)
        arrived = came - t0 if came is not None else None
        error = None
        if ack is not None and not ack[1].accepted:
            error = f"the SMSC refused it: {ack[1].reason}"
        elif ack is None:
            error = f"not sent within {timeout:g}s"
        elif arrived is None:
            error = f"sent, but it did not come back within {timeout:g}s (is {number} this SIM's number?)"
        return SelfTestResult(
            modem_id=modem_id, to=number, message_id=message_id,
            smsc_ack=ack[0] - t0 if ack is not None else None, mr=ack[1].mr if ack is not None else None,
            arrived=arrived, report=report[0] - t0 if report is not None else None,
            report_status=report[1].name.lower() if report is not None else None, error=error)
