"""Reading the simulator's traffic log (`GET /traffic`: [{"t": loop seconds, "dir": "rx"|"tx", "data"}]).

`t` is the simulator's asyncio loop time = time.monotonic() = CLOCK_MONOTONIC, shared by all processes.
"rx" is what the host wrote to the modem, "tx" what the modem wrote to the host (stamped when the
engine emits it, before any --baud pacing).
"""

from __future__ import annotations

import re
from typing import Any

Entry = dict[str, Any]
URC_RE = re.compile(r"\+CMTI?:")
CMGS_RE = re.compile(r"\+CMGS: \d+")


def urc_times(traffic: list[Entry]) -> list[float]:
    """Emission time of each new-message URC (+CMTI / +CMT), in order."""
    out: list[float] = []
    for e in traffic:
        if e["dir"] == "tx":
            out.extend([float(e["t"])] * len(URC_RE.findall(e["data"])))
    return out


def cmgs_times(traffic: list[Entry]) -> list[float]:
    """Time the modem answered each send with `+CMGS: <mr>`."""
    out: list[float] = []
    for e in traffic:
        if e["dir"] == "tx":
            out.extend([float(e["t"])] * len(CMGS_RE.findall(e["data"])))
    return out


def at_commands(traffic: list[Entry]) -> dict[str, int]:
    """AT command lines the host sent, counted by command name (`AT+CMGS=...` -> `+CMGS`)."""
    rx = "".join(e["data"] for e in traffic if e["dir"] == "rx")
    counts: dict[str, int] = {}
    for line in re.split(r"[\r\x1a\x1b]", rx):
        line = line.strip("\n ")
        if line[:2].upper() != "AT":
            continue
        for i, cmd in enumerate(line[2:].split(";")):
            m = re.match(r"([+^&]?[A-Z]+)", cmd.upper()) if cmd else None
            name = m.group(1) if m else ("AT" if i == 0 else "?")
            counts[name] = counts.get(name, 0) + 1
    return counts


def byte_totals(traffic: list[Entry]) -> dict[str, int]:
    return {d: sum(len(e["data"]) for e in traffic if e["dir"] == d) for d in ("rx", "tx")}


def echo_on(traffic: list[Entry]) -> bool:
    """Whether the modem echoed the last AT+CMGS command (echo would count against the line limit)."""
    tx = "".join(e["data"] for e in traffic if e["dir"] == "tx")
    return "AT+CMGS=" in tx.upper()


def exchange_bytes(submitted: list[Entry], echo: bool) -> list[tuple[int, int]]:
    """(bytes host->modem, bytes modem->host) of the minimal PDU-mode exchange of each submitted message:
    `AT+CMGS=n\\r` + PDU hex (SMSC octets included) + ^Z one way;
    `\\r\\n> ` + `\\r\\n+CMGS: mr\\r\\n\\r\\nOK\\r\\n` (+ the echo of the command and
    the PDU, if echo is on) the other."""
    out: list[tuple[int, int]] = []
    for s in submitted:
        cmd = f"AT+CMGS={s['length']}\r"
        pdu = str(s["pdu"])
        if len(pdu) // 2 == int(s["length"]):  # the log kept the TPDU only: add the "00" SMSC octet
            pdu = "00" + pdu
        sent = len(cmd) + len(pdu) + 1
        got = len("\r\n> ") + len(f"\r\n+CMGS: {s['mr']}\r\n\r\nOK\r\n")
        if echo:
            got += len(cmd) + len(pdu)
        out.append((sent, got))
    return out


def inbound_phases(traffic: list[Entry], arrivals: list[float], count: int) -> dict[str, list[float]]:
    """For the first `count` messages (one part each, one at a time): seconds from the URC to the host's
    AT+CMGR, from the +CMGR answer to AT+CMGD (decode + journal commit), and from the +CMGR answer to
    the router's arrival stamp."""
    out: dict[str, list[float]] = {"urc_to_cmgr": [], "cmgr_to_cmgd": [], "cmgr_to_router": []}
    k = -1
    marks: dict[str, float] = {}

    def flush() -> None:
        if 0 <= k < count and {"urc", "cmgr", "answer"} <= marks.keys():
            out["urc_to_cmgr"].append(marks["cmgr"] - marks["urc"])
            if "cmgd" in marks:
                out["cmgr_to_cmgd"].append(marks["cmgd"] - marks["answer"])
            out["cmgr_to_router"].append(arrivals[k] - marks["answer"])

    for e in traffic:
        data, t = e["data"], float(e["t"])
        if e["dir"] == "tx" and URC_RE.search(data):
            flush()
            k += 1
            marks = {"urc": t}
        elif e["dir"] == "rx" and "AT+CMGR" in data.upper():
            marks.setdefault("cmgr", t)
        elif e["dir"] == "tx" and "+CMGR:" in data:
            marks.setdefault("answer", t)
        elif e["dir"] == "rx" and "AT+CMGD" in data.upper():
            marks.setdefault("cmgd", t)
    flush()
    return out


def send_gaps(traffic: list[Entry]) -> list[float]:
    """Seconds from each `+CMGS: <mr>` answer (as the modem emitted it) to the host's next `AT+CMGS`: the
    time the line stands idle between two sends because the host is busy."""
    gaps: list[float] = []
    answered: float | None = None
    for e in traffic:
        if e["dir"] == "tx" and CMGS_RE.search(e["data"]):
            answered = float(e["t"])
        elif e["dir"] == "rx" and "AT+CMGS" in e["data"].upper() and answered is not None:
            gaps.append(float(e["t"]) - answered)
            answered = None
    return gaps
