"""`modembridge probe PORT`: identify a modem, judge whether it can serve, suggest a ``[[modem]]`` section."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from modembridge.at import commands as C
from modembridge.at import steps
from modembridge.at.channel import AtChannel
from modembridge.at.connector import SERIAL, Connector
from modembridge.at.errors import AtTimeout, CmeError, ResultError
from modembridge.at.events import ModemInfo
from modembridge.at.facts import ModemFacts, VolatileFacts
from modembridge.at.parser import AtParser, Urc
from modembridge.at.quirks import QuirkProfile
from modembridge.at.session import Session
from modembridge.at.sim_lock import (
    READY_STATES,
    SimNeedsHuman,
    SimProblem,
    SimView,
    Unread,
    pin_attempts_left,
)


@dataclass
class ProbeReport:
    port: str
    baud: int
    info: ModemInfo = field(default_factory=lambda: ModemInfo(profile="generic"))  # the driver's own type
    sim: str | None = None  # READY, SIM PIN, SIM PUK, "not inserted", ...
    pin_required: bool = False
    pin_attempts_left: int | None = None  # from the vendor's counter, when the SIM asks for its PIN
    pdu_mode: bool | None = None
    cnmi_ranges: str | None = None
    cnmi: str | None = None  # the first setting of the fallback list the modem accepts
    storages: list[list[str]] = field(default_factory=list)
    fill: dict[str, tuple[int, int]] = field(default_factory=dict)
    smsc: str | None = None
    signal_dbm: int | None = None
    registration: str | None = None
    operator: str | None = None
    unsolicited: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """Flat, as ``--json`` has always printed it: the identity's fields beside the others."""
        d = asdict(self)
        d.update(d.pop("info"))
        d["usable"] = self.usable
        return d


async def probe_port(port: str, baud: int = 115200, pin: str = "", timeout: float = 5.0, *,
                     facts: ModemFacts | None = None, modem_id: str | None = None,
                     connector: Connector = SERIAL) -> ProbeReport:
    """Talk to the modem at ``port``; ModemUnavailable (missing/busy) and AtTimeout (no answer) propagate.

    A PIN is entered under the driver's rules (sim_lock.decide): only when the SIM asks, never with fewer
    than 2 attempts left, never one ``facts`` says the SIM rejected. ``facts`` default to volatile ones;
    pass the daemon's (``modembridge.bridge.facts.JournalFacts`` with the config's ``modem_id``) to share
    its memory of rejected PINs.
    """
    rep = ProbeReport(port=port, baud=baud)

    def on_urc(urc: Urc) -> None:
        if len(rep.unsolicited) < 20:
            rep.unsolicited.append(urc.text)

    chan = await AtChannel.open(port, baud, AtParser(), on_urc, name=port, connector=connector)
    s = Session(chan, port=port, name=port, command_timeout=timeout)
    try:
        await _probe(s, rep, pin, timeout, facts or VolatileFacts(), modem_id or port)
    finally:
        await chan.close()
    return rep


async def _probe(s: Session, rep: ProbeReport, pin: str, timeout: float, facts: ModemFacts,
                 modem_id: str) -> None:
    try:
        await steps.attention(s, tries=max(3, int(timeout / 0.5)), timeout=min(timeout, 0.5))
    except AtTimeout:
        raise AtTimeout(f"{rep.port}: no answer to AT at {rep.baud} baud") from None
    except ResultError:
        pass  # it answers, if not with OK: carry on
    with contextlib.suppress(ResultError):
        await steps.echo_off(s)
    await steps.verbose_errors(s)
    info, profile = await steps.identify(s, "auto")
    rep.info = replace(info, profile=profile.name)
    sim_ready = await _probe_sim(s, rep, pin, timeout, facts, modem_id, profile)
    if sim_ready:
        imsi, iccid = await steps.sim_identity(s, profile)
        rep.info = replace(rep.info, imsi=imsi, iccid=iccid)
    await _probe_pdu_mode(s, rep)
    rep.cnmi_ranges, ranges = await steps.cnmi_ranges(s)
    setting = await steps.indications(s, ranges, profile.cnmi)
    rep.cnmi = ",".join(map(str, setting)) if setting else None
    if rep.cnmi is None:
        rep.problems.append("no usable new-message indication (CNMI): messages only found by sweeps")
    if sim_ready:
        rep.storages = await steps.storage_choices(s) or []
        rep.fill = {mem: (used, total) for mem, used, total in await steps.storage_fill(s) or []}
        lines = await s.best_effort("AT+CSCA?")
        if lines:
            with contextlib.suppress(C.ParseError):
                rep.smsc = C.parse_csca(lines)
        if not rep.smsc:
            rep.problems.append("no SMS service centre number on the SIM: set smsc in the config")
    net = await steps.read_network(s, steps.Network(), set_operator_format=True)
    rep.signal_dbm, rep.registration, rep.operator = net.signal_dbm, net.registration, net.operator
    if sim_ready and rep.registration not in ("home", "roaming"):
        rep.problems.append(f"not registered on a network ({rep.registration}): check antenna, coverage, SIM")
    if sim_ready and rep.signal_dbm is None:
        rep.problems.append("no signal reported (antenna?)")


async def _probe_sim(s: Session, rep: ProbeReport, pin: str, timeout: float, facts: ModemFacts,
                     modem_id: str, profile: QuirkProfile) -> bool:
    """The SIM's state, unlocked with ``pin`` when it asks for one (the driver's decision); whether it is
    usable. A SIM still starting is given ``timeout`` seconds."""
    seen: list[SimView] = []
    try:
        await steps.unlock(s, modem_id=modem_id, pin=pin, profile=profile, facts=facts, sleep=asyncio.sleep,
                           patience=timeout, watch=seen.append)
        problem = None
    except SimNeedsHuman as e:
        problem = e
    except ResultError as e:  # AT+CPIN? answered an error that says nothing about the SIM
        rep.sim = f"error: {e}"
        problem = None
    looks = [v.cpin for v in seen]
    counts = [v.attempts_left for v in seen if not isinstance(v.attempts_left, Unread)]
    if looks and rep.sim is None:
        last = looks[-1]
        if isinstance(last, CmeError):
            rep.sim = "not inserted" if last.code == 10 or "not inserted" in str(last).lower() \
                else f"error: {last}"
        else:
            rep.sim = last
    rep.pin_required = "SIM PIN" in looks
    if counts:
        rep.pin_attempts_left = counts[-1]
    elif rep.sim == "SIM PIN":
        rep.pin_attempts_left = await pin_attempts_left(s.cmd, profile)
    sim_ready = rep.sim in READY_STATES
    if problem is not None:
        rep.problems.append(_sim_problem(problem, rep))
    elif not sim_ready:
        rep.problems.append(f"SIM not usable: {rep.sim}")
    return sim_ready


def _sim_problem(e: SimNeedsHuman, rep: ProbeReport) -> str:
    """The probe's wording of why the SIM needs a person (the driver's reason where it has none)."""
    if e.problem is SimProblem.NO_PIN:
        return "the SIM is PIN-locked: pass --pin to test it, and set pin in the config"
    if e.problem is SimProblem.PUK_LOCKED:
        return "the SIM is PUK-locked: unlock it in a phone"
    if e.problem is SimProblem.LAST_ATTEMPTS:
        return (f"the SIM has {rep.pin_attempts_left} PIN attempt(s) left: the PIN was not entered; enter it "
                "in a phone (a wrong one would lock the SIM)")
    if e.problem is SimProblem.REJECTED:
        return f"the SIM rejected the PIN ({e.__cause__}); careful: three wrong PINs lock it"
    if e.problem in (SimProblem.NO_SIM, SimProblem.SIM_FAILURE, SimProblem.NOT_USABLE, SimProblem.OTHER_LOCK):
        return f"SIM not usable: {rep.sim}"
    return str(e)


async def _probe_pdu_mode(s: Session, rep: ProbeReport) -> None:
    lines = await s.best_effort("AT+CMGF=?")
    if lines:
        with contextlib.suppress(C.ParseError):
            rep.pdu_mode = 0 in C.parse_int_ranges(C.first_value(lines, "+CMGF"))
    if rep.pdu_mode is not False:
        try:
            await steps.pdu_mode(s)
            rep.pdu_mode = True
        except ResultError:
            rep.pdu_mode = False
    if not rep.pdu_mode:
        rep.problems.append("the modem does not offer SMS PDU mode (AT+CMGF=0)")


LOCK_DIRS = ("/var/lock", "/run/lock", "/var/spool/locks")


def uucp_lock_owner(port: str, dirs: tuple[str, ...] = LOCK_DIRS) -> tuple[str, int] | None:
    """(lock file, pid) of a live UUCP-style lock on the port (minicom, picocom, old daemons), if any."""
    name = os.path.basename(os.path.realpath(port))
    for folder in dirs:
        path = Path(folder) / f"LCK..{name}"
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        text = raw.decode("ascii", "replace").strip()
        pid = int(text) if text.isdigit() else (int.from_bytes(raw[:4], "little") if len(raw) == 4 else 0)
        if pid > 0 and Path(f"/proc/{pid}").exists():
            return str(path), pid
    return None


def modem_manager_running() -> bool:
    """Whether a ModemManager process runs (it probes and grabs modem ports unless udev tells it not to)."""
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if (entry / "comm").read_text().strip() == "ModemManager":
                        return True
    return False


def stable_name(port: str) -> str | None:
    """A /dev/serial/by-id (or by-path) symlink pointing at the same device, if there is one."""
    try:
        real = os.path.realpath(port)
    except OSError:
        return None
    for folder in ("/dev/serial/by-id", "/dev/serial/by-path"):
        with contextlib.suppress(OSError):
            for entry in sorted(Path(folder).iterdir()):
                if os.path.realpath(entry) == real:
                    return str(entry)
    return None


def render(rep: ProbeReport) -> str:
    def v(x: object) -> str:
        return "-" if x is None or x == "" else str(x)

    fill = ", ".join(f"{m} {u}/{t}" for m, (u, t) in rep.fill.items()) or "-"
    storages = " / ".join(",".join(g) for g in rep.storages) or "-"
    lines = [
        f"port           {rep.port} @ {rep.baud} baud",
        f"manufacturer   {v(rep.info.manufacturer)}",
        f"model          {v(rep.info.model)}",
        f"revision       {v(rep.info.revision)}",
        f"IMEI           {v(rep.info.imei)}",
        f"SIM            {v(rep.sim)}   IMSI {v(rep.info.imsi)}   ICCID {v(rep.info.iccid)}"
        + (f"   PIN attempts left {rep.pin_attempts_left}" if rep.pin_attempts_left is not None else ""),
        f"PDU mode       {'yes' if rep.pdu_mode else 'NO'}",
        f"CNMI           supported {v(rep.cnmi_ranges)}; will use {v(rep.cnmi)}",
        f"storage        choices (mem1 / mem2 / mem3) {storages}; fill {fill}",
        f"SMSC           {v(rep.smsc)}",
        f"signal         {v(rep.signal_dbm)} dBm",
        f"registration   {v(rep.registration)}   operator {v(rep.operator)}",
        f"quirk profile  {rep.info.profile}",
    ]
    if rep.unsolicited:
        lines.append(f"unsolicited    {'; '.join(rep.unsolicited[:8])}")
    lines.append("")
    if rep.usable:
        lines.append("verdict: USABLE")
    else:
        lines.append("verdict: PROBLEM")
        lines += [f"  - {p}" for p in rep.problems]
    lines += ["", "suggested config:", "", suggest_config(rep)]
    return "\n".join(lines)


def suggest_config(rep: ProbeReport) -> str:
    port = stable_name(rep.port) or rep.port
    ident = re.sub(r"[^A-Za-z0-9_.-]", "", (rep.info.model or "gsm0").lower())[:24] or "gsm0"
    if not ident[0].isalnum():
        ident = "gsm0"
    storage = "SM"
    if rep.storages and "SM" not in rep.storages[0] and rep.storages[0]:
        storage = rep.storages[0][0]
    out = ["[[modem]]", f'id = "{ident}"', f'port = "{port}"']
    if port == rep.port and re.search(r"tty(USB|ACM)\d", port):
        out[-1] += "   # better: a stable udev name (`modembridge udev-rule " + rep.port + "`)"
    out.append(f"baud = {rep.baud}")
    if rep.pin_required:
        out.append('pin = "0000"   # put your SIM PIN here: the SIM asks for one')
    out.append(f'profile = "{rep.info.profile}"')
    out.append(f'storage = "{storage}"')
    if not rep.smsc and rep.sim == "READY":
        out.append('smsc = "+..."   # your operator\'s SMS centre number')
    return "\n".join(out)
