"""The initialisation sequence as steps over a :class:`Session`, shared by the driver (supervisor.py) and
``modembridge probe``: attention, echo off, verbose errors, identify, unlock the SIM, SIM identity, PDU
mode, vendor extras, storage, new-message indications, SMSC, and the network/health read.

Each step does one thing and returns what it learned; best-effort queries give None (or nothing) when the
modem refuses them, transport errors (timeouts, a lost port) always propagate.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from modembridge.at import commands as C
from modembridge.at.errors import AtTimeout, ErrorResult, ResultError
from modembridge.at.events import ModemInfo
from modembridge.at.facts import ModemFacts
from modembridge.at.quirks import QuirkProfile, detect_profile, get_profile
from modembridge.at.session import Session
from modembridge.at.sim_lock import SimView, Sleep, unlock_sim

log = logging.getLogger("modembridge.at.modem")

ESC = b"\x1b"
T = TypeVar("T")
U = TypeVar("U")


async def attention(s: Session, *, tries: int, timeout: float) -> None:
    """Get the modem's attention: leave a stuck prompt (ESC), then AT until OK (``tries`` times, ``timeout``
    each). ERROR to a bare AT is line noise before it: tried again. AtTimeout when it never answers."""
    s.chan.write_raw(ESC)
    last: Exception | None = None
    for _ in range(tries):
        try:
            await s.chan.command("AT", timeout)
            return
        except (AtTimeout, ErrorResult) as e:
            last = e
    raise AtTimeout(f"{s.name}: no answer to AT on {s.port} ({last})", command="AT")


async def echo_off(s: Session) -> None:
    """ATE0 (an error raises); echo counted from here (a restarted modem echoes again)."""
    await s.cmd("ATE0")
    s.parser.echo_seen = 0


async def verbose_errors(s: Session) -> None:
    """+CME ERROR: <code> instead of a bare ERROR, where the modem offers it."""
    await s.best_effort("AT+CMEE=1")


async def _identity_line(s: Session, command: str) -> str | None:
    lines = await s.best_effort(command)
    try:
        return C.parse_identity(lines) if lines else None
    except C.ParseError:
        return None


async def identify(s: Session, profile: str) -> tuple[ModemInfo, QuirkProfile]:
    """+CGMI/+CGMM/+CGMR/+CGSN, and the quirk profile (``profile``, or detected for "auto"), whose noise
    and restart lines the parser uses from now on."""
    manufacturer, model = await _identity_line(s, "AT+CGMI"), await _identity_line(s, "AT+CGMM")
    revision, imei = await _identity_line(s, "AT+CGMR"), await _identity_line(s, "AT+CGSN")
    chosen = detect_profile(manufacturer or "", model or "") if profile == "auto" else get_profile(profile)
    s.parser.set_patterns(noise=chosen.noise, restart=chosen.restart)
    return ModemInfo(manufacturer=manufacturer, model=model, revision=revision, imei=imei,
                     profile=chosen.name), chosen


async def unlock(s: Session, *, modem_id: str, pin: str, profile: QuirkProfile, facts: ModemFacts,
                 sleep: Sleep, patience: float | None = None,
                 watch: Callable[[SimView], None] | None = None) -> None:
    """The SIM to READY (sim_lock.unlock_sim: the PIN only when asked, once, never a rejected one)."""
    await unlock_sim(s.cmd, modem_id=modem_id, pin=pin, profile=profile, facts=facts, sleep=sleep,
                     command_timeout=s.command_timeout, patience=patience, watch=watch)


async def sim_identity(s: Session, profile: QuirkProfile) -> tuple[str | None, str | None]:
    """(IMSI, ICCID), each None when the modem does not tell; the profile's ICCID queries in order."""
    lines = await s.best_effort("AT+CIMI")
    imsi = iccid = None
    with contextlib.suppress(C.ParseError):
        imsi = C.parse_identity(lines) if lines else None
    for command in profile.ccid:
        lines = await s.best_effort(command)
        if lines:
            try:
                iccid = C.parse_iccid(lines)
                break
            except C.ParseError:
                continue
    return imsi, iccid


async def own_number(s: Session) -> str | None:
    """AT+CNUM: the SIM's own number, if the operator wrote it on the SIM (many do not)."""
    lines = await s.best_effort("AT+CNUM")
    return C.parse_cnum(lines) if lines else None


async def pdu_mode(s: Session) -> None:
    """AT+CMGF=0 (retried while the SIM is busy); ResultError when the modem refuses PDU mode."""
    try:
        await s.busy_retry("AT+CMGF=0")
    except ResultError as e:
        raise ResultError(f"{s.name}: the modem refuses PDU mode (AT+CMGF=0: {e})",
                          command="AT+CMGF=0") from e


async def vendor_extras(s: Session, profile: QuirkProfile) -> None:
    """The profile's best-effort commands (Huawei ^CURC=0 ...)."""
    for extra in profile.init_extra:
        await s.best_effort(extra)


async def caller_id(s: Session) -> None:
    """AT+CLIP=1: an incoming call names its caller (+CLIP after RING); best effort."""
    await s.best_effort("AT+CLIP=1")


async def storage_choices(s: Session) -> list[list[str]] | None:
    """AT+CPMS=?: the memories offered for mem1, mem2, mem3 ([] when unreadable); None when refused."""
    return await _query(s, "AT+CPMS=?", C.parse_cpms_test, unreadable=[])


async def select_storage(s: Session, mem: str) -> bool:
    """``mem`` for all three memories (or as many as the modem takes); False when it takes none."""
    for attempt in (C.cpms(mem, mem, mem), C.cpms(mem, mem), C.cpms(mem)):
        try:
            await s.busy_retry(attempt)
        except ResultError as e:
            log.debug("%s: %s refused: %s", s.name, attempt, e)
            continue
        s.mem1 = mem
        return True
    return False


async def storage_fill(s: Session) -> list[tuple[str, int, int]] | None:
    """AT+CPMS?: (memory, used, total) for mem1..mem3; None when refused or unreadable."""
    return await _query(s, "AT+CPMS?", C.parse_cpms_read, unreadable=None)


async def _query(s: Session, command: str, parse: Callable[[list[str]], T], *, unreadable: U) -> T | U | None:
    """``parse`` of a best-effort command's answer; None when refused (or empty), ``unreadable`` when it
    does not parse."""
    lines = await s.best_effort(command)
    if not lines:
        return None
    try:
        return parse(lines)
    except C.ParseError:
        return unreadable


async def cnmi_ranges(s: Session) -> tuple[str | None, list[set[int]]]:
    """AT+CNMI=?: the ranges as the modem wrote them (None: not given), and parsed ([]: unknown)."""
    lines = await s.best_effort("AT+CNMI=?")
    raw: str | None = None
    ranges: list[set[int]] = []
    if lines:
        raw = C.first_value(lines, "+CNMI") if any("+CNMI" in x for x in lines) else None
        with contextlib.suppress(C.ParseError):
            ranges = C.parse_cnmi_test(lines)
    return raw, ranges


async def indications(s: Session, ranges: list[set[int]],
                      preferences: tuple[tuple[int, ...], ...]) -> tuple[int, ...] | None:
    """The first CNMI setting the modem accepts (preferences it allows, or one adapted to its ranges)."""
    for setting in C.cnmi_candidates(ranges, preferences):
        if await s.best_effort(C.cnmi(setting)) is not None:
            return setting
    return None


async def set_smsc(s: Session, number: str) -> bool:
    return await s.best_effort(C.csca(number)) is not None


@dataclass(frozen=True)
class Network:
    """Signal, registration and operator; a value stays as it was when its query failed."""

    signal_dbm: int | None = None
    registration: str | None = None
    operator: str | None = None


async def read_network(s: Session, known: Network, *, set_operator_format: bool) -> Network:
    """AT+CSQ, AT+CREG?, (AT+COPS=3,0 for a long alphanumeric name,) AT+COPS?."""
    signal, registration, operator = known.signal_dbm, known.registration, known.operator
    lines = await s.best_effort("AT+CSQ")
    if lines:
        with contextlib.suppress(C.ParseError):
            signal = C.csq_to_dbm(C.parse_csq(lines)[0])
    lines = await s.best_effort("AT+CREG?")
    if lines:
        with contextlib.suppress(C.ParseError):
            registration = C.parse_creg(lines).name
    if set_operator_format:
        await s.best_effort("AT+COPS=3,0")
    lines = await s.best_effort("AT+COPS?")
    if lines:
        with contextlib.suppress(C.ParseError):
            operator = C.parse_cops(lines)
    return Network(signal, registration, operator)
