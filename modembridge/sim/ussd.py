"""The simulated network's USSD services (``AT+CUSD``, 27.007 7.15): a balance, a menu with sessions, a
UCS2 answer, a service that never answers, and one answer nobody typed the code for.

Services (the code, then what it answers):

- ``*100#``: the balance, done (``Your balance is 12.50 KSh ...``; set with ``balance``)
- ``*123#``: a menu, more (three lines, sent with raw line feeds inside the quoted string); ``1`` the
  balance (done), ``2`` a sub-menu (more) whose ``1``/``2`` buy a bundle (done), ``3`` ends it (ended)
- ``*144#``: the balance in Russian, as UCS2 (dcs 72)
- ``*999#``: the network never answers
- anything else: not supported (``+CUSD: 4``)

Strings go both ways as the profile's modem does: packed GSM 7-bit hex for Huawei, else text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modembridge.sms import UssdMode, decode_ussd, encode_ussd

if TYPE_CHECKING:
    from modembridge.sim.engine import ModemEngine

ANSWER_DELAY = 0.05  # seconds from AT+CUSD to the network's +CUSD


@dataclass
class Answer:
    m: int  # 0 done, 1 more, 2 ended by the network, 4 not supported
    text: str = ""
    ucs2: bool = False


class UssdNetwork:
    def __init__(self, engine: ModemEngine) -> None:
        self.e = engine
        self.balance = "12.50"
        self.menu: str | None = None  # the open session's place ("main", "data"), None: no session
        self.requests: list[str] = []  # every string the modem sent, decoded
        self.silent = False  # the network answers nothing at all

    @property
    def mode(self) -> UssdMode:
        if self.e.config.ussd_mode is not None:
            return self.e.config.ussd_mode
        return "packed" if self.e.profile.name == "huawei" else "text"

    def request(self, string: str, dcs: int) -> None:
        """An AT+CUSD=1,"<string>",<dcs> was answered OK: the network's answer follows."""
        code = decode_ussd(string, dcs, self.mode)
        self.requests.append(code)
        answer = self._answer(code.strip())
        if answer is None or self.silent:
            return
        self.e.later(ANSWER_DELAY, lambda: self._send(answer))

    def cancel(self) -> None:
        self.menu = None

    def _answer(self, code: str) -> Answer | None:
        balance = f"Your balance is {self.balance} KSh. Valid until 31/12/2026."
        if self.menu == "main":
            self.menu = {"2": "data"}.get(code)
            if code == "1":
                return Answer(0, balance)
            if code == "2":
                return Answer(1, "Data bundles\n1. 100MB for 20 KSh\n2. 1GB for 100 KSh")
            return Answer(2, "Goodbye" if code == "3" else "Invalid choice")
        if self.menu == "data":
            self.menu = None
            size = {"1": "100MB", "2": "1GB"}.get(code)
            return Answer(0, f"You bought {size}. Thank you.") if size else Answer(2, "Invalid choice")
        if code == "*100#":
            return Answer(0, balance)
        if code == "*123#":
            self.menu = "main"
            return Answer(1, "Welcome to SIMNET\n1. Balance\n2. Data bundles\n3. Exit")
        if code == "*144#":
            return Answer(0, f"Баланс: {self.balance} руб.", ucs2=True)
        if code == "*999#":
            return None
        return Answer(4)

    def _send(self, answer: Answer) -> None:
        if answer.m == 4:
            self.e.urc("+CUSD: 4")
            return
        if answer.ucs2:
            string, dcs = encode_ussd(answer.text, "ucs2")
        else:
            string, dcs = encode_ussd(answer.text, self.mode)
        self.e.urc(f'+CUSD: {answer.m},"{string}",{dcs}')
