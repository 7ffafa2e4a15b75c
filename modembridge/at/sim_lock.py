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
from enum import Enum
from typing import Final, Literal

from modembridge.at import commands as C
from modembridge.at.errors import CmeError, ResultError
from modembridge.at.facts import ModemFacts, pin_fingerprint
from modembridge.at.quirks import QuirkProfile

log = logging.getLogger(__name__)

Command = Callable[[str, float | None], Awaitable[list[str]]]
Sleep = Callable[[float], Awaitable[None]]

REJECTED_KEY = "pin_rejected"  # facts: fingerprints of PINs the SIM refused
UNCONFIRMED_KEY = "pin_unconfirmed"  # facts: a PIN sent whose answer has not been seen yet
MAX_REJECTED = 8
FULL_ATTEMPTS = 3  # a SIM's PIN counter when no wrong PIN was entered since the last right one
PIN_ENTRY_TIMEOUT = 20.0  # some modems answer AT+CPIN=<pin> only once the SIM has checked it
PAUSE = 0.5  # seconds between looks at a SIM that is not ready yet
READY_STATES = frozenset({"READY", "SIM PIN2", "SIM PUK2"})  # PIN2/PUK2 lock only phone-book features
_SIM_NOT_YET_CME = frozenset({10, 13, 14, 100})  # not inserted, failure, busy, unknown: often just booting


class SimProblem(Enum):
    """Why a SIM needs a person."""

    NO_SIM = "no_sim"
    SIM_FAILURE = "sim_failure"
    PUK_LOCKED = "puk_locked"
    OTHER_LOCK = "other_lock"  # PH-SIM PIN, PH-NET PIN ...
    NOT_USABLE = "not_usable"  # NOT READY ... for longer than a boot takes
    STILL_LOCKED = "still_locked"  # asks for the PIN again after accepting it
    NO_PIN = "no_pin"
    BAD_PIN = "bad_pin"
    REJECTED_BEFORE = "rejected_before"
    LAST_ATTEMPTS = "last_attempts"
    REJECTED = "rejected"


class SimNeedsHuman(Exception):
    """The SIM cannot be used without a person: wrong or missing PIN, PUK, no SIM."""

    def __init__(self, reason: str, *, retry: bool = False, problem: SimProblem | None = None) -> None:
        super().__init__(reason)
        self.retry = retry  # no SIM: look again after a long delay; PIN/PUK: never
        self.problem = problem


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


# ====================================================================== the decision (no I/O)
class Unread(Enum):
    UNREAD = "unread"


UNREAD: Final = Unread.UNREAD
ACCEPTED: Final = "accepted"


@dataclass(frozen=True)
class SimView:
    """What the unlock loop knows when it decides the next step."""

    cpin: str | CmeError  # what AT+CPIN? said last: the state (READY, SIM PIN ...) or a +CME ERROR
    patient: bool  # the time a booting SIM is given has not run out
    pin: str  # the configured PIN ("": none)
    unconfirmed: bool  # the facts hold an entry of this PIN whose answer was never seen
    rejected: bool  # the SIM rejected this PIN before (the facts say so)
    attempts_left: int | Unread | None = UNREAD  # the SIM's PIN counter (None: no command tells)
    entered: bool = False  # the PIN was entered and accepted during this unlock
    answer: ResultError | Literal["accepted"] | None = None  # to the AT+CPIN=<pin> just sent


class Act(Enum):
    """A step of the unlock loop (GiveUp, with its reason, is the other outcome)."""

    DONE = "done"  # the SIM is usable (an entry whose answer was lost did work: forgotten)
    LOOK = "look"  # ask AT+CPIN? again, after a pause
    COUNT_ATTEMPTS = "count_attempts"  # read the SIM's remaining PIN attempts before deciding on an entry
    FORGET_UNCONFIRMED = "forget_unconfirmed"  # an entry's answer was lost but the counter is full: unchecked
    REJECT_UNCONFIRMED = "reject_unconfirmed"  # ... and an attempt was spent (or no counter tells): wrong
    ENTER_PIN = "enter_pin"  # AT+CPIN=<pin>, recorded as unconfirmed until its answer is seen
    ACCEPTED = "accepted"  # the SIM took it: forget the unconfirmed entry, look again at once
    PROPAGATE = "propagate"  # AT+CPIN? failed in a way that says nothing about the SIM: raise its error


@dataclass(frozen=True)
class GiveUp:
    """The SIM needs a person (SimNeedsHuman); with ``reject`` the PIN is first recorded as rejected."""

    reason: str
    problem: SimProblem
    retry: bool = False
    reject: bool = False
    cause: Exception | None = None


SimAction = Act | GiveUp


def decide(v: SimView) -> SimAction:
    """The next step towards a usable SIM. The PIN is entered only when the SIM asks for it, at most once,
    never one the SIM rejected before, never with fewer than 2 attempts left; a SIM still booting (busy,
    NOT READY, "not inserted" for a moment) is given time."""
    if v.answer == ACCEPTED:
        return Act.ACCEPTED
    if v.answer is not None:
        if isinstance(v.answer, CmeError) and v.answer.code == 14 and v.patient:
            # "SIM busy": probably not checked, but not proven. It stays unconfirmed: the next round enters
            # it again only if the attempt counter shows no attempt was spent
            return Act.LOOK
        # +CME ERROR: 16, a bare ERROR (no CMEE), anything but busy: rejected
        return GiveUp(f"the SIM rejected the configured pin ({v.answer}); not retrying: three wrong PINs "
                      "lock the SIM. Fix `pin` in the config, then restart", SimProblem.REJECTED,
                      reject=True, cause=v.answer)
    if isinstance(v.cpin, CmeError):
        e = v.cpin
        # right after a boot (every restart and reset) many modems say "not inserted" (10), "failure"
        # (13) or "busy" (14) for a second or two: look again before concluding
        if (e.code in _SIM_NOT_YET_CME or e.code is None) and v.patient:
            return Act.LOOK
        if e.code == 10:
            return GiveUp("no SIM card inserted", SimProblem.NO_SIM, retry=True, cause=e)
        if e.code in (13, 15):
            return GiveUp(f"SIM failure: {e}", SimProblem.SIM_FAILURE, retry=True, cause=e)
        return Act.PROPAGATE
    state = v.cpin
    if state in READY_STATES:
        return Act.DONE
    if "PUK" in state:
        return GiveUp("the SIM is PUK-locked (too many wrong PINs): unlock it with its PUK in a phone, then "
                      "restart", SimProblem.PUK_LOCKED)
    if state != "SIM PIN":
        if "PIN" in state:  # PH-SIM PIN, PH-NET PIN ...: a person must unlock it
            return GiveUp(f"the SIM needs {state}", SimProblem.OTHER_LOCK)
        if v.patient:  # NOT READY, NOT INSERTED ... while the SIM starts
            return Act.LOOK
        return GiveUp(f"the SIM is not usable: {state}", SimProblem.NOT_USABLE, retry=True)
    if v.entered:
        if v.patient:
            return Act.LOOK
        return GiveUp("the SIM still asks for its PIN after the PIN was accepted", SimProblem.STILL_LOCKED)
    if not v.pin:
        return GiveUp("the SIM is PIN-locked and no pin is configured for this modem", SimProblem.NO_PIN)
    if not (v.pin.isdigit() and 4 <= len(v.pin) <= 8):
        return GiveUp("the configured pin is not 4 to 8 digits", SimProblem.BAD_PIN)
    left = v.attempts_left
    if left is UNREAD:
        return Act.COUNT_ATTEMPTS
    if v.unconfirmed:  # the lost answer may have been "wrong PIN"
        return Act.REJECT_UNCONFIRMED if left is None or left < FULL_ATTEMPTS else Act.FORGET_UNCONFIRMED
    if v.rejected:
        return GiveUp("the SIM rejected the configured pin before (or its answer was lost); not trying it "
                      "again (three wrong PINs lock the SIM): fix `pin`, then restart",
                      SimProblem.REJECTED_BEFORE)
    if left is not None and left < 2:
        return GiveUp(f"the SIM has {left} PIN attempt(s) left: not risking it automatically; enter the PIN "
                      "by hand (e.g. in a phone), then restart", SimProblem.LAST_ATTEMPTS)
    return Act.ENTER_PIN


# ====================================================================== the loop that performs the steps
async def unlock_sim(cmd: Command, *, modem_id: str, pin: str, profile: QuirkProfile, facts: ModemFacts,
                     sleep: Sleep, command_timeout: float, patience: float | None = None,
                     watch: Callable[[SimView], None] | None = None) -> None:
    """Bring the SIM to READY, entering the configured PIN at most once, or raise SimNeedsHuman.

    The fingerprint of the PIN is written (durably) as *unconfirmed* before AT+CPIN=<pin> is sent. An
    error answer makes it *rejected* for good; a lost answer (timeout, crash, lost port) leaves it
    unconfirmed, and the next attempt looks at what the SIM says: READY (it worked), or still SIM PIN with a
    full attempt counter (it was never checked), or else it counts as rejected. ``patience``: how long a
    SIM that is still booting is waited for (default: 30 s, or 3 command timeouts). ``watch`` sees every
    view decided on (the probe reports the SIM from them).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (patience if patience is not None else max(30.0, 3 * command_timeout))
    fingerprint = pin_fingerprint(pin, modem_id) if pin else ""
    cpin = await _look(cmd)
    left: int | Unread | None = UNREAD
    entered = False
    answer: ResultError | Literal["accepted"] | None = None
    while True:
        view = SimView(cpin=cpin, patient=loop.time() < deadline, pin=pin,
                       unconfirmed=bool(fingerprint) and facts.recall(UNCONFIRMED_KEY) == fingerprint,
                       rejected=fingerprint in rejected_pins(facts), attempts_left=left, entered=entered,
                       answer=answer)
        if watch is not None:
            watch(view)
        answer = None
        match decide(view):
            case GiveUp() as give_up:
                if give_up.reject:
                    await _reject(facts, fingerprint)  # recorded before the evidence is cleared
                    await facts.remember(UNCONFIRMED_KEY, None)
                raise SimNeedsHuman(give_up.reason, retry=give_up.retry,
                                    problem=give_up.problem) from give_up.cause
            case Act.PROPAGATE:
                assert isinstance(cpin, CmeError)
                raise cpin
            case Act.DONE:
                if view.unconfirmed:
                    await facts.remember(UNCONFIRMED_KEY, None)
                return
            case Act.LOOK:
                await sleep(PAUSE)
                cpin, left = await _look(cmd), UNREAD
            case Act.COUNT_ATTEMPTS:
                left = await pin_attempts_left(cmd, profile)
            case Act.FORGET_UNCONFIRMED | Act.REJECT_UNCONFIRMED as settled:
                if settled is Act.REJECT_UNCONFIRMED:
                    await _reject(facts, fingerprint)  # recorded before the evidence is cleared
                await facts.remember(UNCONFIRMED_KEY, None)
            case Act.ENTER_PIN:
                await facts.remember(UNCONFIRMED_KEY, fingerprint)
                answer = await _enter(cmd, pin, max(command_timeout, PIN_ENTRY_TIMEOUT))
            case Act.ACCEPTED:
                await facts.remember(UNCONFIRMED_KEY, None)
                entered = True
                log.info("%s: SIM PIN accepted", modem_id)
                cpin, left = await _look(cmd), UNREAD


async def _look(cmd: Command) -> str | CmeError:
    try:
        return C.parse_cpin(await cmd("AT+CPIN?", None))
    except CmeError as e:
        return e


async def _enter(cmd: Command, pin: str, timeout: float) -> ResultError | Literal["accepted"]:
    """AT+CPIN=<pin>: ACCEPTED or the error answer; a lost answer (timeout, lost port) raises, and the
    entry stays unconfirmed, decided on the next attempt."""
    try:
        await cmd(C.cpin(pin), timeout)
    except ResultError as e:
        return e
    return ACCEPTED


def rejected_pins(facts: ModemFacts) -> set[str]:
    """Fingerprints of every PIN this SIM slot rejected (kept: a known-wrong PIN stays wrong)."""
    return set((facts.recall(REJECTED_KEY) or "").split())


async def _reject(facts: ModemFacts, fingerprint: str) -> None:
    kept = [f for f in (facts.recall(REJECTED_KEY) or "").split() if f != fingerprint]
    await facts.remember(REJECTED_KEY, " ".join([*kept[-(MAX_REJECTED - 1):], fingerprint]))


async def pin_attempts_left(cmd: Command, profile: QuirkProfile) -> int | None:
    """The SIM's remaining PIN attempts from the profile's counter commands; None when none answers."""
    for query in profile.pin_retries:
        try:
            return C.parse_pin_retries(await cmd(query, None))
        except ResultError:  # includes ParseError: try the next way of asking
            continue
    return None


async def check_sim_identity(facts: ModemFacts, imsi: str | None, iccid: str | None) -> SimSwap | None:
    """Compare with the SIM remembered from last time (then remember this one); a SimSwap if it differs."""
    old_imsi, old_iccid = facts.recall("imsi"), facts.recall("iccid")
    swap = None
    changed_iccid = iccid is not None and old_iccid is not None and iccid != old_iccid
    changed_imsi = imsi is not None and old_imsi is not None and imsi != old_imsi
    if changed_iccid or changed_imsi:
        swap = SimSwap(old_imsi, imsi, old_iccid, iccid)
    if imsi is not None and imsi != old_imsi:
        await facts.remember("imsi", imsi)
    if iccid is not None and iccid != old_iccid:
        await facts.remember("iccid", iccid)
    return swap
