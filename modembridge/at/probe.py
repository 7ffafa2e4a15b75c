"""`modembridge probe PORT`: identify a modem, judge whether it can serve, suggest a ``[[modem]]`` section."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from modembridge.at import commands as C
from modembridge.at.channel import AtChannel
from modembridge.at.errors import AtError, AtTimeout, ModemUnavailable
from modembridge.at.parser import AtParser, Urc
from modembridge.at.quirks import CNMI_FALLBACK, detect_profile
from modembridge.at.sim_lock import pin_attempts_left


@dataclass
class ProbeReport:
    port: str
    baud: int
    manufacturer: str | None = None
    model: str | None = None
    revision: str | None = None
    imei: str | None = None
    imsi: str | None = None
    iccid: str | None = None
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
    profile: str = "generic"
    unsolicited: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["usable"] = self.usable
        return d


async def probe_port(port: str, baud: int = 115200, pin: str = "", timeout: float = 5.0) -> ProbeReport:
    """Talk to the modem at ``port``; ModemUnavailable (missing/busy) and AtTimeout (no answer) propagate."""
    rep = ProbeReport(port=port, baud=baud)

    def on_urc(urc: Urc) -> None:
        if len(rep.unsolicited) < 20:
            rep.unsolicited.append(urc.text)

    chan = await AtChannel.open(port, baud, AtParser(), on_urc, name=port)
    try:
        await _probe(chan, rep, pin, timeout)
    finally:
        await chan.close()
    return rep


async def _probe(chan: AtChannel, rep: ProbeReport, pin: str, timeout: float) -> None:
    async def q(cmd: str) -> list[str] | None:
        try:
            return await chan.command(cmd, timeout)
        except (AtTimeout, ModemUnavailable):
            raise
        except AtError:
            return None

    chan.write_raw(b"\x1b")
    tries = max(3, int(timeout / 0.5))
    for attempt in range(tries):
        try:
            await chan.command("AT", min(timeout, 0.5))
            break
        except AtTimeout:
            if attempt == tries - 1:
                raise AtTimeout(f"{rep.port}: no answer to AT at {rep.baud} baud") from None
        except AtError:
            continue
    await q("ATE0")
    await q("AT+CMEE=1")

    def ident(lines: list[str] | None) -> str | None:
        with contextlib.suppress(C.ParseError):
            return C.parse_identity(lines) if lines else None
        return None

    rep.manufacturer = ident(await q("AT+CGMI"))
    rep.model = ident(await q("AT+CGMM"))
    rep.revision = ident(await q("AT+CGMR"))
    rep.imei = ident(await q("AT+CGSN"))
    profile = detect_profile(rep.manufacturer or "", rep.model or "")
    rep.profile = profile.name

    try:
        rep.sim = C.parse_cpin(await chan.command("AT+CPIN?", timeout))
        rep.pin_required = rep.sim == "SIM PIN"
    except AtError as e:
        rep.sim = "not inserted" if "10" in str(e) or "not inserted" in str(e).lower() else f"error: {e}"
    if rep.sim == "SIM PIN":
        async def command(text: str, t: float | None) -> list[str]:
            return await chan.command(text, t or timeout)

        rep.pin_attempts_left = await pin_attempts_left(command, profile)
    if rep.sim == "SIM PIN" and pin and rep.pin_attempts_left is not None and rep.pin_attempts_left < 2:
        rep.problems.append(f"the SIM has {rep.pin_attempts_left} PIN attempt(s) left: the PIN was not "
                            "entered; enter it in a phone (a wrong one would lock the SIM)")
    elif rep.sim == "SIM PIN" and pin:
        try:
            await chan.command(C.cpin(pin), timeout)
            for _ in range(20):
                await asyncio.sleep(0.25)
                with contextlib.suppress(AtError):
                    rep.sim = C.parse_cpin(await chan.command("AT+CPIN?", timeout))
                    if rep.sim == "READY":
                        break
        except (AtError, ValueError) as e:
            rep.problems.append(f"the SIM rejected the PIN ({e}); careful: three wrong PINs lock it")
    rep.pin_required = rep.pin_required or rep.sim == "SIM PIN"
    sim_ready = rep.sim in ("READY", "SIM PIN2", "SIM PUK2")
    if rep.sim == "SIM PIN" and not pin:
        rep.problems.append("the SIM is PIN-locked: pass --pin to test it, and set pin in the config")
    elif "PUK" in (rep.sim or ""):
        rep.problems.append("the SIM is PUK-locked: unlock it in a phone")
    elif not sim_ready and not rep.problems:
        rep.problems.append(f"SIM not usable: {rep.sim}")

    if sim_ready:
        rep.imsi = ident(await q("AT+CIMI"))
        for cmd in profile.ccid:
            lines = await q(cmd)
            if lines:
                with contextlib.suppress(C.ParseError):
                    rep.iccid = C.parse_iccid(lines)
                    break

    lines = await q("AT+CMGF=?")
    if lines:
        with contextlib.suppress(C.ParseError):
            rep.pdu_mode = 0 in C.parse_int_ranges(C.first_value(lines, "+CMGF"))
    if rep.pdu_mode is None:
        rep.pdu_mode = await q("AT+CMGF=0") is not None
    if not rep.pdu_mode:
        rep.problems.append("the modem does not offer SMS PDU mode (AT+CMGF=0)")
    else:
        await q("AT+CMGF=0")

    lines = await q("AT+CNMI=?")
    ranges: list[set[int]] = []
    if lines:
        rep.cnmi_ranges = C.first_value(lines, "+CNMI") if any("+CNMI" in x for x in lines) else None
        with contextlib.suppress(C.ParseError):
            ranges = C.parse_cnmi_test(lines)
    usable = C.cnmi_candidates(ranges, CNMI_FALLBACK)
    for setting in usable:
        if await q(C.cnmi(setting)) is not None:
            rep.cnmi = ",".join(map(str, setting))
            break
    if rep.cnmi is None:
        rep.problems.append("no usable new-message indication (CNMI): messages only found by sweeps")

    if sim_ready:
        lines = await q("AT+CPMS=?")
        if lines:
            with contextlib.suppress(C.ParseError):
                rep.storages = C.parse_cpms_test(lines)
        lines = await q("AT+CPMS?")
        if lines:
            with contextlib.suppress(C.ParseError):
                for mem, used, total in C.parse_cpms_read(lines):
                    rep.fill[mem] = (used, total)
        lines = await q("AT+CSCA?")
        if lines:
            with contextlib.suppress(C.ParseError):
                rep.smsc = C.parse_csca(lines)
        if not rep.smsc:
            rep.problems.append("no SMS service centre number on the SIM: set smsc in the config")

    lines = await q("AT+CSQ")
    if lines:
        with contextlib.suppress(C.ParseError):
            rep.signal_dbm = C.csq_to_dbm(C.parse_csq(lines)[0])
    lines = await q("AT+CREG?")
    if lines:
        with contextlib.suppress(C.ParseError):
            rep.registration = C.parse_creg(lines).name
    await q("AT+COPS=3,0")
    lines = await q("AT+COPS?")
    if lines:
        with contextlib.suppress(C.ParseError):
            rep.operator = C.parse_cops(lines)
    if sim_ready and rep.registration not in ("home", "roaming"):
        rep.problems.append(f"not registered on a network ({rep.registration}): check antenna, coverage, SIM")
    if sim_ready and rep.signal_dbm is None:
        rep.problems.append("no signal reported (antenna?)")


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
        f"manufacturer   {v(rep.manufacturer)}",
        f"model          {v(rep.model)}",
        f"revision       {v(rep.revision)}",
        f"IMEI           {v(rep.imei)}",
        f"SIM            {v(rep.sim)}   IMSI {v(rep.imsi)}   ICCID {v(rep.iccid)}"
        + (f"   PIN attempts left {rep.pin_attempts_left}" if rep.pin_attempts_left is not None else ""),
        f"PDU mode       {'yes' if rep.pdu_mode else 'NO'}",
        f"CNMI           supported {v(rep.cnmi_ranges)}; will use {v(rep.cnmi)}",
        f"storage        choices (mem1 / mem2 / mem3) {storages}; fill {fill}",
        f"SMSC           {v(rep.smsc)}",
        f"signal         {v(rep.signal_dbm)} dBm",
        f"registration   {v(rep.registration)}   operator {v(rep.operator)}",
        f"quirk profile  {rep.profile}",
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
    ident = re.sub(r"[^A-Za-z0-9_.-]", "", (rep.model or "gsm0").lower())[:24] or "gsm0"
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
    out.append(f'profile = "{rep.profile}"')
    out.append(f'storage = "{storage}"')
    if not rep.smsc and rep.sim == "READY":
        out.append('smsc = "+..."   # your operator\'s SMS centre number')
    return "\n".join(out)
