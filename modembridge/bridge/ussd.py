"""USSD per modem: one session at a time, the request encoded for the modem, the answer decoded.

A code (``*123#``) opens a session; while the network answers "more" (a menu) the session stays open
for ``ussd_timeout`` seconds for the next answer; a final answer, the network ending it, a timeout or
a cancel closes it. The driver sends ``AT+CUSD`` between other exchanges and waits for the answer
without holding the modem, so USSD never delays a send in progress.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from modembridge.at import AtError, AtTimeout, Modem, ModemUnavailable
from modembridge.model import (
    UnknownModemError,
    UssdBusy,
    UssdNoSession,
    UssdReply,
    UssdStatus,
    UssdUnavailable,
)
from modembridge.sms import PduError, decode_ussd, encode_ussd

log = logging.getLogger(__name__)

# +CUSD <m> (27.007 7.15): 0 no further action, 1 further action, 2 terminated by the network, 3 answered
# by another local client, 4 not supported, 5 network time out
STATUS: dict[int, UssdStatus] = {0: "done", 1: "more", 2: "ended", 3: "ended", 4: "unsupported", 5: "timeout"}


@dataclass
class _Session:
    id: str
    expires_at: float  # monotonic: the network forgets an unanswered menu after a while


class UssdSessions:
    def __init__(self, modems: Mapping[str, Modem], *, clock: Callable[[], float] = time.monotonic) -> None:
        self.modems = modems
        self._clock = clock
        self._open: dict[str, _Session] = {}
        self._busy: set[str] = set()

    def _modem(self, modem_id: str) -> Modem:
        modem = self.modems.get(modem_id)
        if modem is None:
            raise UnknownModemError(f"unknown modem {modem_id!r}")
        return modem

    def _current(self, modem_id: str) -> _Session | None:
        current = self._open.get(modem_id)
        if current is not None and current.expires_at <= self._clock():
            del self._open[modem_id]
            return None
        return current

    async def request(self, modem_id: str, code: str, session: str | None) -> UssdReply:
        modem = self._modem(modem_id)
        current = self._current(modem_id)
        if modem_id in self._busy:
            raise UssdBusy(f"a USSD request is in progress on modem {modem_id}")
        if session is None and current is not None:
            raise UssdBusy(f"USSD session {current.id} is open on modem {modem_id}: answer it or cancel it")
        if session is not None and (current is None or current.id != session):
            raise UssdNoSession(f"no open USSD session {session!r} on modem {modem_id}")
        mode = modem.ussd_mode
        try:
            string, dcs = encode_ussd(code, mode)
        except PduError as exc:
            raise ValueError(f"the code cannot be sent as USSD ({mode}): {exc}") from None
        timeout = modem.config.ussd_timeout
        self._busy.add(modem_id)
        try:
            result = await modem.ussd(string, dcs, timeout)
        except (TimeoutError, AtTimeout):  # no answer from the network (or the modem) in time
            self._open.pop(modem_id, None)
            log.warning("modem %s: no USSD answer within %gs; ending the session", modem_id, timeout)
            with contextlib.suppress(AtError, ModemUnavailable):
                await modem.ussd_cancel()
            return UssdReply("timeout", "", None)
        except ModemUnavailable as exc:
            raise UssdUnavailable(str(exc)) from None
        except AtError as exc:  # an error result (no USSD support, a code the network refuses) or a hang
            self._open.pop(modem_id, None)
            return UssdReply("unsupported", str(exc), None)
        finally:
            self._busy.discard(modem_id)
        status = STATUS.get(result.m, "ended")
        text = decode_ussd(result.string or "", result.dcs, mode)
        if status != "more":
            self._open.pop(modem_id, None)
            return UssdReply(status, text, None)
        sid = current.id if current is not None else uuid.uuid4().hex[:16]
        self._open[modem_id] = _Session(sid, self._clock() + timeout)
        return UssdReply("more", text, sid)

    async def cancel(self, modem_id: str) -> bool:
        modem = self._modem(modem_id)
        if self._open.pop(modem_id, None) is None and modem_id not in self._busy:
            return False
        try:
            await modem.ussd_cancel()
        except ModemUnavailable as exc:
            raise UssdUnavailable(str(exc)) from None
        return True
