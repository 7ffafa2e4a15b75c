"""SIM PIN handling that cannot lock a SIM, and SIM swap detection.

A SIM locks (PUK) after three wrong PINs. So the PIN is entered only when ``+CPIN: SIM PIN`` asks for it,
a PIN the SIM rejected is remembered (a fingerprint, across restarts of the process) and never entered
again, and the last remaining attempt is left to a person.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from modembridge.at import commands as C
from modembridge.at.errors import AtError, AtTimeout, CmeError, ModemUnavailable
from modembridge.at.memory import ModemMemory, pin_fingerprint
from modembridge.at.quirks import QuirkProfile

log = logging.getLogger(__name__)

Command = Callable[[str, float | None], Awaitable[list[str]]]
Sleep = Callable[[float], Awaitable[None]]

REJECTED_KEY = "pin_rejected"  # memory: fingerprints of PINs the SIM refused
UNCONFIRMED_KEY = "pin_unconfirmed"  # memory: a PIN sent whose answer has not been seen yet
MAX_REJECTED = 8
FULL_ATTEMPTS = 3  # a SIM's PIN counter when no wrong PIN was entered since the last right one
PIN_ENTRY_TIMEOUT = 20.0  # some modems answer AT+CPIN=<pin> only once the SIM has checked it
_SIM_NOT_YET_CME = frozenset({10, 13, 14, 100})  # not inserted, failure, busy, unknown: often just booting


class SimNeedsHuman(Exception):
    """The SIM cannot be used without a person: wrong or missing PIN, PUK, no SIM."""

    def __init__(self, reason: str, *, retry: bool = False) -> None:
        super().__init__(reason)
        self.retry = retry  # no SIM: look again after a long delay; PIN/PUK: never


@dataclass(frozen=True)
class SimSwap:
    """A different SIM than the one this modem had last time."""

    old_imsi: str | None
    new_imsi: str | None
    old_iccid: str | None
    new_iccid: str | None

    def describe(self) -> str:
        parts = []
        if self.old_iccid and self.new_iccid and self.old_iccid != self.new_iccid:
            parts.append(f"ICCID {self.old_iccid} -> {self.new_iccid}")
        if self.old_imsi and self.new_imsi and self.old_imsi != self.new_imsi:
            parts.append(f"IMSI {self.old_imsi} -> {self.new_imsi}")
        return "SIM changed: " + ", ".join(parts)


async def unlock_sim(cmd: Command, *, modem_id: str, pin: str, profile: QuirkProfile,
                     memory: ModemMemory, sleep: Sleep, command_timeout: float) -> None:
    """Bring the SIM to READY, entering the configured PIN at most once, or raise SimNeedsHuman.

    The fingerprint of the PIN is written (durably) as *unconfirmed* before AT+CPIN=<pin> is sent. An
    error answer makes it *rejected* for good; a lost answer (timeout, crash, lost port) leaves it
    unconfirmed, and the next attempt looks at what the SIM says: READY (it worked), or still SIM PIN with a
    full attempt counter (it was never checked), or else it counts as rejected.
    """
    entered = False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(30.0, 3 * command_timeout)
    fingerprint = pin_fingerprint(pin, modem_id) if pin else None
    while True:
        try:
            state = C.parse_cpin(await cmd("AT+CPIN?", None))
        except CmeError as e:
            # right after a boot (every restart and reset) many modems say "not inserted" (10), "failure"
            # (13) or "busy" (14) for a second or two: look again before concluding
            if (e.code in _SIM_NOT_YET_CME or e.code is None) and loop.time() < deadline:
                await sleep(0.5)
                continue
            if e.code == 10:
                raise SimNeedsHuman("no SIM card inserted", retry=True) from e
            if e.code in (13, 15):
                raise SimNeedsHuman(f"SIM failure: {e}", retry=True) from e
            raise
        unconfirmed = fingerprint is not None and memory.recall(UNCONFIRMED_KEY) == fingerprint
        if state in ("READY", "SIM PIN2", "SIM PUK2"):
            if unconfirmed:
                await memory.remember(UNCONFIRMED_KEY, None)  # an entry whose answer was lost did work
            return
        if "PUK" in state:
            raise SimNeedsHuman("the SIM is PUK-locked (too many wrong PINs): unlock it with its PUK in a "
                                "phone, then restart")
        if state != "SIM PIN":
            if "PIN" in state or "PUK" in state:  # PH-SIM PIN, PH-NET PIN ...: a person must unlock it
                raise SimNeedsHuman(f"the SIM needs {state}")
            if loop.time() < deadline:  # NOT READY, NOT INSERTED ... while the SIM starts
                await sleep(0.5)
                continue
            raise SimNeedsHuman(f"the SIM is not usable: {state}", retry=True)
        if entered:
            if loop.time() < deadline:
                await sleep(0.5)
                continue
            raise SimNeedsHuman("the SIM still asks for its PIN after the PIN was accepted")
        if not pin or fingerprint is None:
            raise SimNeedsHuman("the SIM is PIN-locked and no pin is configured for this modem")
        if not (pin.isdigit() and 4 <= len(pin) <= 8):
            raise SimNeedsHuman("the configured pin is not 4 to 8 digits")
        left = await pin_attempts_left(cmd, profile)
        if unconfirmed:
            if left is None or left < FULL_ATTEMPTS:  # the lost answer may have been "wrong PIN"
                await _reject(memory, fingerprint)  # recorded before the evidence is cleared
            await memory.remember(UNCONFIRMED_KEY, None)
        if fingerprint in rejected_pins(memory):
            raise SimNeedsHuman("the SIM rejected the configured pin before (or its answer was lost); not "
                                "trying it again (three wrong PINs lock the SIM): fix `pin`, then restart")
        if left is not None and left < 2:
            raise SimNeedsHuman(f"the SIM has {left} PIN attempt(s) left: not risking it automatically; "
                                "enter the PIN by hand (e.g. in a phone), then restart")
        await memory.remember(UNCONFIRMED_KEY, fingerprint)
        try:
            await cmd(C.cpin(pin), max(command_timeout, PIN_ENTRY_TIMEOUT))
        except (AtTimeout, ModemUnavailable):
            raise  # the answer is lost: stays unconfirmed, decided on the next attempt
        except AtError as e:  # +CME ERROR: 16, a bare ERROR (no CMEE), anything but busy: rejected
            if isinstance(e, CmeError) and e.code == 14 and loop.time() < deadline:
                # "SIM busy": probably not checked, but not proven. It stays unconfirmed: the next round
                # enters it again only if the attempt counter shows no attempt was spent
                await sleep(0.5)
                continue
            await _reject(memory, fingerprint)  # recorded before the evidence is cleared
            await memory.remember(UNCONFIRMED_KEY, None)
            raise SimNeedsHuman(f"the SIM rejected the configured pin ({e}); not retrying: three wrong PINs "
                                "lock the SIM. Fix `pin` in the config, then restart") from e
        await memory.remember(UNCONFIRMED_KEY, None)
        entered = True
        log.info("%s: SIM PIN accepted", modem_id)


def rejected_pins(memory: ModemMemory) -> set[str]:
    """Fingerprints of every PIN this SIM slot rejected (kept: a known-wrong PIN stays wrong)."""
    return set((memory.recall(REJECTED_KEY) or "").split())


async def _reject(memory: ModemMemory, fingerprint: str) -> None:
    kept = [f for f in (memory.recall(REJECTED_KEY) or "").split() if f != fingerprint]
    await memory.remember(REJECTED_KEY, " ".join([*kept[-(MAX_REJECTED - 1):], fingerprint]))


async def pin_attempts_left(cmd: Command, profile: QuirkProfile) -> int | None:
    """The SIM's remaining PIN attempts from the profile's counter commands; None when none answers."""
    for query in profile.pin_retries:
        try:
            return C.parse_pin_retries(await cmd(query, None))
        except (AtTimeout, ModemUnavailable):
            raise
        except AtError:  # includes ParseError: try the next way of asking
            continue
    return None


async def check_sim_identity(memory: ModemMemory, imsi: str | None, iccid: str | None) -> SimSwap | None:
    """Compare with the SIM remembered from last time (then remember this one); a SimSwap if it differs."""
    old_imsi, old_iccid = memory.recall("imsi"), memory.recall("iccid")
    swap = None
    changed_iccid = iccid is not None and old_iccid is not None and iccid != old_iccid
    changed_imsi = imsi is not None and old_imsi is not None and imsi != old_imsi
    if changed_iccid or changed_imsi:
        swap = SimSwap(old_imsi, imsi, old_iccid, iccid)
    if imsi is not None and imsi != old_imsi:
        await memory.remember("imsi", imsi)
    if iccid is not None and iccid != old_iccid:
        await memory.remember("iccid", iccid)
    return swap
